"""ISO 20022 sese.023.001.11 (SecuritiesSettlementTransactionInstructionV11), our settlement
instruction, in its element order (TxId, SttlmTpAndAddtlParams, TradDtls, FinInstrmId,
QtyAndAcctDtls, SttlmParams, DlvrgSttlmPties, RcvgSttlmPties, SttlmAmt). Pure."""

from xml.etree import ElementTree as ET

from app.settlement.outbound.formats import xml
from app.settlement.outbound.formats.facts import (
    SESE_023,
    Header,
    InstructionFacts,
    PriceKind,
    check,
)

DEFINITION = SESE_023


def movement(facts: InstructionFacts) -> tuple[str, str]:
    """``SctiesMvmntTp`` and ``Pmt``."""
    return ("RECE" if facts.receive else "DELI", "APMT" if facts.against_payment else "FREE")


def quantity(parent: ET.Element, path: str, facts: InstructionFacts) -> None:
    """``.../Qty/FaceAmt`` for bonds (the nominal), ``.../Qty/Unit`` otherwise."""
    kind = "FaceAmt" if facts.face_amount else "Unit"
    xml.add(parent, f"{path}/Qty/{kind}", xml.decimal(facts.quantity))


def _trade_details(parent: ET.Element, facts: InstructionFacts) -> None:
    details = xml.add(parent, "TradDtls")
    if facts.trade_date is not None:
        xml.add(details, "TradDt/Dt/Dt", facts.trade_date.isoformat())
    xml.add(details, "SttlmDt/Dt/Dt", facts.settlement_date.isoformat())
    price = facts.deal_price
    if price is not None:
        deal = xml.add(details, "DealPric")
        xml.add(deal, "Tp/Yldd", "false")
        if price.kind == PriceKind.PERCENT:
            xml.add(deal, "Val/Rate", xml.decimal(price.value))
        else:
            xml.amount(deal, "Val/Amt", price.value, price.currency)


def parties(
    parent: ET.Element, name: str, *, depository: str, agent: str, account: str, party: str | None
) -> None:
    """``DlvrgSttlmPties`` or ``RcvgSttlmPties``: the depository, the agent with its account
    and, when it has a BIC, the party the agent acts for."""
    side = xml.add(parent, name)
    xml.add(side, "Dpstry/Id/AnyBIC", depository)
    first = xml.add(side, "Pty1")
    xml.add(first, "Id/AnyBIC", agent)
    xml.add(first, "SfkpgAcct/Id", account)
    if party is not None:
        xml.add(side, "Pty2/Id/AnyBIC", party)


def settlement_parties(parent: ET.Element, facts: InstructionFacts) -> None:
    """The counterparty's side from its SSI, ours from our account; the deliverer first."""
    theirs = (facts.counterparty_agent_bic, facts.counterparty_account, facts.counterparty_bic)
    ours = (facts.our_agent_bic, facts.safekeeping_account, None)
    delivering, receiving = (theirs, ours) if facts.receive else (ours, theirs)
    for name, (agent, account, party) in (
        ("DlvrgSttlmPties", delivering),
        ("RcvgSttlmPties", receiving),
    ):
        parties(
            parent,
            name,
            depository=facts.place_of_settlement,
            agent=agent,
            account=account,
            party=party,
        )


def settlement_amount(parent: ET.Element, facts: InstructionFacts) -> None:
    if facts.against_payment and facts.settlement_amount is not None:
        xml.amount(parent, "SttlmAmt/Amt", facts.settlement_amount, facts.currency)
        xml.add(parent, "SttlmAmt/CdtDbtInd", facts.credit_debit or "DBIT")


def render(facts: InstructionFacts, header: Header) -> str:
    check(facts)
    document = ET.Element("Document")
    body = xml.add(document, "SctiesSttlmTxInstr")
    xml.add(body, "TxId", header.reference)
    movement_type, payment = movement(facts)
    xml.add(body, "SttlmTpAndAddtlParams/SctiesMvmntTp", movement_type)
    xml.add(body, "SttlmTpAndAddtlParams/Pmt", payment)
    _trade_details(body, facts)
    xml.add(body, "FinInstrmId/ISIN", facts.isin)
    accounts = xml.add(body, "QtyAndAcctDtls")
    quantity(accounts, "SttlmQty", facts)
    xml.add(accounts, "SfkpgAcct/Id", facts.safekeeping_account)
    params = xml.add(body, "SttlmParams")
    xml.add(params, "Prty/Nmrc", f"{facts.priority:04d}")
    xml.add(params, "SctiesTxTp/Cd", "TRAD")
    xml.add(params, "PrtlSttlmInd", facts.partial_indicator)
    settlement_parties(body, facts)
    settlement_amount(body, facts)
    return xml.envelope(
        header, to_bic=facts.place_of_settlement, definition=DEFINITION, document=document
    )
