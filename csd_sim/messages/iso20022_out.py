"""The answers in ISO 20022: sese.024.001.12 status advices and sese.025.001.12 confirmations,
each in an envelope with its business application header (head.001.001.02)."""

from datetime import UTC, date

from csd_sim.messages.advice import Confirmation, Header, Reason, StatusAdvice, plain
from csd_sim.messages.instruction import Instruction
from csd_sim.messages.xml_writing import Node, document_text, node, path

ISO = "urn:iso:std:iso:20022:tech:xsd:"
HEAD = "head.001.001.02"
SESE_024 = "sese.024.001.12"
SESE_025 = "sese.025.001.12"
NO_REASON = "NORE"
_PROCESSING = {
    "accepted": "AckdAccptd",
    "rejected": "Rjctd",
    "cancelled": "Canc",
    "pending_processing": "PdgPrcg",
}
_SETTLEMENT = {"pending": "Pdg", "failing": "Flng"}


def application_header(header: Header, definition: str) -> Node:
    """The business application header (head.001.001.02) of a message of ``definition``."""
    created = header.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return node(
        "AppHdr",
        path("Fr/FIId/FinInstnId/BICFI", header.sender),
        path("To/FIId/FinInstnId/BICFI", header.receiver),
        node("BizMsgIdr", text=header.message_id),
        node("MsgDefIdr", text=definition),
        node("CreDt", text=created),
        xmlns=f"{ISO}{HEAD}",
    )


def _envelope(header: Header, definition: str, message: Node) -> bytes:
    document = node("Document", message, xmlns=f"{ISO}{definition}")
    return document_text(node("Envelope", application_header(header, definition), document))


def _reason(reason: Reason) -> Node:
    if reason.issuer is not None:
        code = node(
            "Cd", node("Prtry", node("Id", text=reason.code), node("Issr", text=reason.issuer))
        )
    else:
        code = path("Cd/Cd", reason.code)
    extra = None if reason.text is None else node("AddtlRsnInf", text=reason.text[:210])
    return node("Rsn", code, extra)


def _status(tag: str, reasons: tuple[Reason, ...]) -> Node:
    if not reasons:
        return node(tag, node("NoSpcfdRsn", text=NO_REASON))
    return node(tag, *(_reason(reason) for reason in reasons))


def _day(steps: str, day: date) -> Node:
    return path(f"{steps}/Dt/Dt", day.isoformat())


def _quantity(tag: str, instruction: Instruction, value: str) -> Node:
    kind = "FaceAmt" if instruction.quantity_type == "FAMT" else "Unit"
    return node(tag, node(kind, text=value))


def _details(instruction: Instruction) -> Node:
    amount = None
    if instruction.settlement_amount is not None and instruction.currency is not None:
        amount = node(
            "SttlmAmt",
            node("Amt", text=f"{instruction.settlement_amount:f}", Ccy=instruction.currency),
            node("CdtDbtInd", text=instruction.credit_debit or "DBIT"),
        )
    return node(
        "TxDtls",
        path("FinInstrmId/ISIN", instruction.isin),
        node("SttlmQty", _quantity("Qty", instruction, plain(instruction.quantity))),
        amount,
        _day("SttlmDt", instruction.settlement_date),
        _day("TradDt", instruction.trade_date),
        node("SctiesMvmntTp", text=instruction.direction),
        node("Pmt", text=instruction.payment),
        path("SttlmParams/SctiesTxTp/Cd", instruction.transaction_type),
    )


def status_advice_xml(advice: StatusAdvice, header: Header) -> bytes:
    """A sese.024.001.12: processing, matching and settlement status, each only when given."""
    processing = matching = settlement = None
    if advice.processing is not None:
        inner = _status(_PROCESSING[advice.processing], advice.processing_reasons)
        processing = node("PrcgSts", inner)
    if advice.matching == "matched":
        matching = node("MtchgSts", node("Mtchd"))
    elif advice.matching == "unmatched":
        matching = node("MtchgSts", _status("Umtchd", advice.matching_reasons))
    if advice.settlement is not None:
        inner = _status(_SETTLEMENT[advice.settlement], advice.settlement_reasons)
        settlement = node("SttlmSts", inner)
    message = node(
        "SctiesSttlmTxStsAdvc",
        node(
            "TxId",
            node("AcctOwnrTxId", text=advice.our_reference),
            None
            if advice.csd_reference is None
            else node("AcctSvcrTxId", text=advice.csd_reference),
        ),
        processing,
        matching,
        settlement,
        None if advice.details is None else _details(advice.details),
    )
    return _envelope(header, SESE_024, message)


def confirmation_xml(confirmation: Confirmation, header: Header) -> bytes:
    """A sese.025.001.12: what settled and when, and whether more is to come."""
    instruction = confirmation.instruction
    partial = None
    if confirmation.partial is not None:
        partial = node("AddtlParams", node("PrtlSttlm", text=confirmation.partial))
    amount = None
    if confirmation.amount is not None and instruction.currency is not None:
        amount = node(
            "SttldAmt",
            node("Amt", text=f"{confirmation.amount:f}", Ccy=instruction.currency),
            node("CdtDbtInd", text=instruction.credit_debit or "DBIT"),
        )
    previously = remaining = None
    if confirmation.previously_settled > 0:
        previously = _quantity(
            "PrevslySttldQty", instruction, plain(confirmation.previously_settled)
        )
    if confirmation.remaining > 0:
        remaining = _quantity("RmngToBeSttldQty", instruction, plain(confirmation.remaining))
    message = node(
        "SctiesSttlmTxConf",
        node(
            "TxIdDtls",
            node("AcctOwnrTxId", text=confirmation.our_reference),
            node("AcctSvcrTxId", text=confirmation.csd_reference),
            node("SctiesMvmntTp", text=instruction.direction),
            node("Pmt", text=instruction.payment),
        ),
        partial,
        node(
            "TradDtls",
            _day("TradDt", instruction.trade_date),
            _day("SttlmDt", instruction.settlement_date),
            _day("FctvSttlmDt", confirmation.effective_date),
        ),
        path("FinInstrmId/ISIN", instruction.isin),
        node(
            "QtyAndAcctDtls",
            node("SttldQty", _quantity("Qty", instruction, plain(confirmation.quantity))),
            previously,
            remaining,
            path("SfkpgAcct/Id", instruction.safekeeping_account),
        ),
        path("SttlmParams/SctiesTxTp/Cd", instruction.transaction_type),
        amount,
    )
    return _envelope(header, SESE_025, message)
