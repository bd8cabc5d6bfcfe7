"""Our ISO 20022 instructions read: sese.023.001.11 (instruction) and sese.020.001.07
(cancellation request), a bare Document or an envelope with its AppHdr, namespace-aware, on the
element names of the published definitions (for sese.020 those differ from the first message
contract: see ``read_sese020``). Anything unreadable raises ``MalformedMessage``."""

from decimal import Decimal
from typing import Any, cast
from xml.etree.ElementTree import Element

from stdnum import isin as isin_check

from csd_sim.messages.instruction import (
    PARTIAL_INDICATORS,
    CreditDebit,
    DealPrice,
    Direction,
    Instruction,
    MalformedMessage,
    Payment,
    QuantityType,
)
from csd_sim.messages.xml_reading import ISO_NAMESPACE, Reader, parse_document

SESE_023 = "sese.023.001.11"
SESE_020 = "sese.020.001.07"


def _isin(reader: Reader, element: Element, path: str) -> str:
    value = reader.text(element, path, code="DSEC")
    if not isin_check.is_valid(value):
        raise MalformedMessage(
            f"{reader.base}/{path}", f"'{value[:40]}' is not an ISIN", code="DSEC"
        )
    return value


def _quantity(reader: Reader, element: Element, path: str) -> tuple[Decimal, QuantityType]:
    """``path/Unit`` or ``path/FaceAmt`` (also one level deeper under ``Qty``)."""
    for prefix in (f"{path}/Qty", path):
        for tag, kind in (("Unit", "UNIT"), ("FaceAmt", "FAMT")):
            if reader.find(element, f"{prefix}/{tag}") is not None:
                quantity = reader.decimal(element, f"{prefix}/{tag}", code="DQUA")
                if quantity <= 0:
                    where = f"{reader.base}/{prefix}/{tag}"
                    raise MalformedMessage(where, "is not positive", code="DQUA")
                return quantity, cast(QuantityType, kind)
    raise MalformedMessage(f"{reader.base}/{path}/Qty", "has neither Unit nor FaceAmt", code="DQUA")


def _deal_price(reader: Reader, trade: Element) -> DealPrice | None:
    price = reader.find(trade, "DealPric/Val")
    if price is None:
        return None
    if reader.find(price, "Rate") is not None:
        return DealPrice(reader.decimal(price, "Rate"), "PRCT")
    amount = reader.find(price, "Amt")
    if amount is None:
        raise MalformedMessage(f"{reader.base}/TradDtls/DealPric/Val", "has neither Rate nor Amt")
    return DealPrice(reader.decimal(price, "Amt"), "ACTU", amount.get("Ccy"))


def _parties(reader: Reader, message: Element, direction: str) -> dict[str, Any]:
    """The counterparty's side: the delivering parties of a receipt, the receiving of a delivery."""
    side = "DlvrgSttlmPties" if direction == "RECE" else "RcvgSttlmPties"
    ours = "RcvgSttlmPties" if direction == "RECE" else "DlvrgSttlmPties"
    theirs = reader.find(message, side)
    place = reader.optional(message, f"{side}/Dpstry/Id/AnyBIC") or reader.optional(
        message, f"{ours}/Dpstry/Id/AnyBIC"
    )
    if theirs is None:
        return {"place_of_settlement": place}
    return {
        "place_of_settlement": place,
        "counterparty_agent": reader.optional(theirs, "Pty1/Id/AnyBIC"),
        "counterparty_account": reader.optional(theirs, "Pty1/SfkpgAcct/Id"),
        "counterparty": reader.optional(theirs, "Pty2/Id/AnyBIC"),
    }


def _amount(reader: Reader, message: Element, payment: str) -> dict[str, Any]:
    if payment == "FREE":
        return {}
    amount = reader.find(message, "SttlmAmt/Amt")
    currency = None if amount is None else (amount.get("Ccy") or "").strip()
    if not currency:
        raise MalformedMessage(f"{reader.base}/SttlmAmt/Amt/@Ccy", "is missing")
    return {
        "settlement_amount": reader.decimal(message, "SttlmAmt/Amt"),
        "currency": currency,
        "credit_debit": cast(
            CreditDebit, reader.choice(message, "SttlmAmt/CdtDbtInd", ("CRDT", "DBIT"))
        ),
    }


def _settlement_parameters(reader: Reader, message: Element) -> dict[str, Any]:
    partial = reader.optional(message, "SttlmParams/PrtlSttlmInd") or "NPAR"
    if partial not in PARTIAL_INDICATORS:
        where = f"{reader.base}/SttlmParams/PrtlSttlmInd"
        raise MalformedMessage(
            where, f"'{partial[:40]}' is not one of {', '.join(PARTIAL_INDICATORS)}"
        )
    found: dict[str, Any] = {
        "partial_indicator": partial,
        "transaction_type": reader.optional(message, "SttlmParams/SctiesTxTp/Cd") or "TRAD",
    }
    priority = reader.optional(message, "SttlmParams/Prty/Nmrc")
    if priority is not None:
        if not (priority.isdigit() and len(priority) == 4):
            where = f"{reader.base}/SttlmParams/Prty/Nmrc"
            raise MalformedMessage(where, f"'{priority[:40]}' is not 4 digits")
        found["priority"] = priority
    return found


def read_sese023(document: Element, namespace: str) -> Instruction:
    reader = Reader(namespace, "SctiesSttlmTxInstr")
    message = reader.find(document, "SctiesSttlmTxInstr")
    if message is None:
        raise MalformedMessage("Document/SctiesSttlmTxInstr", "is missing")
    direction = reader.choice(message, "SttlmTpAndAddtlParams/SctiesMvmntTp", ("RECE", "DELI"))
    payment = reader.choice(message, "SttlmTpAndAddtlParams/Pmt", ("APMT", "FREE"))
    quantity, quantity_type = _quantity(reader, message, "QtyAndAcctDtls/SttlmQty")
    return Instruction(
        reference=reader.text(message, "TxId"),
        family="xml",
        message_type=SESE_023,
        direction=cast(Direction, direction),
        payment=cast(Payment, payment),
        isin=_isin(reader, message, "FinInstrmId/ISIN"),
        quantity=quantity,
        quantity_type=quantity_type,
        trade_date=reader.date(message, "TradDtls/TradDt", code="DTRD"),
        settlement_date=reader.date(message, "TradDtls/SttlmDt", code="DDAT"),
        safekeeping_account=reader.text(message, "QtyAndAcctDtls/SfkpgAcct/Id", code="SAFE"),
        deal_price=_deal_price(reader, reader.find(message, "TradDtls") or message),
        **_parties(reader, message, direction),
        **_amount(reader, message, payment),
        **_settlement_parameters(reader, message),
    )


def read_sese020(document: Element, namespace: str, *, reference: str | None) -> Instruction:
    """A cancellation request per the published sese.020.001.07: the instruction it cancels is
    ``AcctOwnrTxId/SctiesSttlmTxId`` (``TxId``, ``SctiesMvmntTp``, ``Pmt``), the safekeeping
    account ``SfkpgAcct/Id`` at message level, and ``TxDtls`` repeats the terms (ISIN, dates,
    quantity, optional amount, parties). Its own reference is the AppHdr's BizMsgIdr or the one
    given."""
    reader = Reader(namespace, "SctiesTxCxlReq")
    message = reader.find(document, "SctiesTxCxlReq")
    if message is None:
        raise MalformedMessage("Document/SctiesTxCxlReq", "is missing")
    if reference is None:
        raise MalformedMessage("AppHdr/BizMsgIdr", "is missing: the request has no reference")
    details = reader.find(message, "TxDtls")
    if details is None:
        raise MalformedMessage("SctiesTxCxlReq/TxDtls", "is missing")
    cancelled = "AcctOwnrTxId/SctiesSttlmTxId"
    cancels = reader.text(message, f"{cancelled}/TxId")
    direction = reader.choice(message, f"{cancelled}/SctiesMvmntTp", ("RECE", "DELI"))
    payment = reader.choice(message, f"{cancelled}/Pmt", ("APMT", "FREE"))
    detail = Reader(namespace, "SctiesTxCxlReq/TxDtls")
    quantity, quantity_type = _quantity(detail, details, "SttlmQty")
    # The amount only helps to identify the instruction: optional even against payment.
    amount = {} if detail.find(details, "SttlmAmt") is None else _amount(detail, details, payment)
    return Instruction(
        reference=reference,
        family="xml",
        message_type=SESE_020,
        cancels=cancels,
        direction=cast(Direction, direction),
        payment=cast(Payment, payment),
        isin=_isin(detail, details, "FinInstrmId/ISIN"),
        quantity=quantity,
        quantity_type=quantity_type,
        trade_date=detail.date(details, "TradDt", code="DTRD"),
        settlement_date=detail.date(details, "SttlmDt", code="DDAT"),
        safekeeping_account=reader.text(message, "SfkpgAcct/Id", code="SAFE"),
        **_parties(detail, details, direction),
        **amount,
    )


def read_xml_instruction(content: bytes | str, *, reference: str | None = None) -> Instruction:
    """A sese.023 or sese.020; ``reference`` is the message's own when no AppHdr names it."""
    document, namespace, header = parse_document(content)
    if header is not None:
        header_namespace = header.tag[1:].partition("}")[0]
        reference = Reader(header_namespace, "AppHdr").optional(header, "BizMsgIdr") or reference
    if namespace == f"{ISO_NAMESPACE}{SESE_023}":
        return read_sese023(document, namespace)
    if namespace == f"{ISO_NAMESPACE}{SESE_020}":
        return read_sese020(document, namespace, reference=reference)
    raise MalformedMessage(
        "Document", f"has the namespace '{namespace}', not {SESE_023} or {SESE_020}"
    )
