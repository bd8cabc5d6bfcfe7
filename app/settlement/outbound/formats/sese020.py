"""ISO 20022 sese.020.001.07 (SecuritiesTransactionCancellationRequestV07): withdrawing an
instruction we sent. Per the published schema the cancelled instruction is named by
``AcctOwnrTxId/SctiesSttlmTxId`` (``TxId`` = its reference, with ``SctiesMvmntTp`` and ``Pmt``),
our safekeeping account is ``SfkpgAcct`` at message level, and ``TxDtls`` repeats the terms
(ISIN, dates, quantity, amount, parties) so that the depository can identify it. Pure."""

from xml.etree import ElementTree as ET

from app.settlement.outbound.formats import sese023, xml
from app.settlement.outbound.formats.facts import SESE_020, Header, InstructionFacts, check

DEFINITION = SESE_020


def render(facts: InstructionFacts, header: Header) -> str:
    if header.cancels is None:
        raise ValueError("a cancellation names the reference it cancels")
    check(facts)
    document = ET.Element("Document")
    body = xml.add(document, "SctiesTxCxlReq")
    cancelled = xml.add(body, "AcctOwnrTxId/SctiesSttlmTxId")
    xml.add(cancelled, "TxId", header.cancels)
    movement_type, payment = sese023.movement(facts)
    xml.add(cancelled, "SctiesMvmntTp", movement_type)
    xml.add(cancelled, "Pmt", payment)
    xml.add(body, "SfkpgAcct/Id", facts.safekeeping_account)
    details = xml.add(body, "TxDtls")
    xml.add(details, "FinInstrmId/ISIN", facts.isin)
    if facts.trade_date is not None:
        xml.add(details, "TradDt/Dt/Dt", facts.trade_date.isoformat())
    xml.add(details, "SttlmDt/Dt/Dt", facts.settlement_date.isoformat())
    sese023.quantity(details, "SttlmQty", facts)
    sese023.settlement_amount(details, facts)
    sese023.settlement_parties(details, facts)
    return xml.envelope(
        header, to_bic=facts.place_of_settlement, definition=DEFINITION, document=document
    )
