"""ISO 20022 status advices read into ``AdviceIn``. Pure: no database.

Read, namespace-aware, from these message versions (the element paths are the same in each):
- ``sese.024.001.12`` and ``sese.024.001.13``: SecuritiesSettlementTransactionStatusAdvice
  (``SctiesSttlmTxStsAdvc``): ``TxId/AcctOwnrTxId`` (our SEME) and ``AcctSvcrTxId``, and every
  status block given: ``PrcgSts`` (``AckdAccptd``, ``Rjctd``, ``Canc``, ``PdgPrcg``),
  ``MtchgSts`` (``Mtchd`` or ``Umtchd``), ``SttlmSts`` (``Pdg`` or ``Flng``), each with its
  reasons (``Rsn/Cd/Cd``, or ``Rsn/Cd/Prtry/Id`` and ``Issr`` kept as text, with
  ``AddtlRsnInf``) or ``NoSpcfdRsn``; optionally ``TxDtls`` (ISIN, settlement amount and
  currency, securities movement, payment);
- ``sese.025.001.11`` and ``sese.025.001.12``: SecuritiesSettlementTransactionConfirmation
  (``SctiesSttlmTxConf``): ``TxIdDtls`` (AcctOwnrTxId, AcctSvcrTxId, SctiesMvmntTp, Pmt),
  ``AddtlParams/PrtlSttlm`` (PAIN, PARC), ``TradDtls/FctvSttlmDt``, ``FinInstrmId/ISIN``,
  ``QtyAndAcctDtls/SttldQty/Qty`` (Unit or FaceAmt), ``SttldAmt`` (Amt with Ccy, CdtDbtInd).

A message is the ``Document`` alone, or an envelope (any root) holding the business application
header (``AppHdr``, head.001.001.01 to .04) and the ``Document``: the header's ``BizMsgIdr`` is the
message id (without a header the caller passes it), its ``Fr/FIId/FinInstnId/BICFI`` the
sender. Parsed with defusedxml refusing any DTD, so
no entity is ever expanded or fetched. Every problem names the element it is about; nothing
outside what is listed here is read or checked.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import fromstring
from pydantic import ValidationError

from app.core.errors import FieldProblem, ValidationFailed
from app.core.money import parse_decimal
from app.settlement.advices.schemas import (
    ISO_REASON_CODE,
    AdviceIn,
    AdvisedStatus,
    Block,
    MessageType,
)

_ISO = "urn:iso:std:iso:20022:tech:xsd:"
# Namespace -> (message type, message definition identifier).
DOCUMENTS: dict[str, tuple[MessageType, str]] = {
    f"{_ISO}{version}": (MessageType(version[:8]), version)
    for version in ("sese.024.001.12", "sese.024.001.13", "sese.025.001.11", "sese.025.001.12")
}
HEADERS = frozenset(f"{_ISO}head.001.001.0{n}" for n in range(1, 5))
_MESSAGE_ROOT = {
    MessageType.STATUS: "SctiesSttlmTxStsAdvc",
    MessageType.CONFIRMATION: "SctiesSttlmTxConf",
}
_XSD_DECIMAL = re.compile(r"^\+?\d+(\.\d+)?$")
BIC = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def bic11(bic: str) -> str:
    """A BIC as a sender: 11 characters, so ``MGTCBEBE`` and ``MGTCBEBEXXX`` are one sender."""
    return bic + "XXX" if len(bic) == 8 else bic


@dataclass(frozen=True)
class ReadAdvice:
    advice: AdviceIn
    # The message definition read, e.g. "sese.025.001.12".
    version: str
    # Where each field of the advice was read: problems found later name the element.
    locations: dict[str, str] = field(default_factory=dict)


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


class _Reader:
    """Finds elements of one namespace by path and collects what is wrong with them."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.problems: list[FieldProblem] = []
        self.values: dict[str, Any] = {}
        self.locations: dict[str, str] = {}

    def _tag(self, path: str) -> str:
        return "/".join(f"{{{self.namespace}}}{step}" for step in path.split("/"))

    def find(self, element: Element, base: str, path: str, *, required: bool) -> Element | None:
        found = element.find(self._tag(path))
        if found is None and required:
            self.problem(f"{base}/{path}", "is missing")
        return found

    def children(self, element: Element, path: str) -> Iterator[Element]:
        return element.iterfind(self._tag(path))

    def problem(self, location: str, message: str) -> None:
        self.problems.append(FieldProblem(location, message))

    def text(self, element: Element, base: str, path: str, *, required: bool) -> str | None:
        found = self.find(element, base, path, required=required)
        if found is None:
            return None
        value = (found.text or "").strip()
        if not value:
            self.problem(f"{base}/{path}", "is empty")
            return None
        return value

    def code(
        self, element: Element, base: str, path: str, allowed: tuple[str, ...], *, required: bool
    ) -> str | None:
        value = self.text(element, base, path, required=required)
        if value is not None and value not in allowed:
            self.problem(f"{base}/{path}", f"'{value}' is not one of {', '.join(allowed)}")
            return None
        return value

    def decimal(self, element: Element, base: str, path: str, *, required: bool) -> Decimal | None:
        value = self.text(element, base, path, required=required)
        if value is None:
            return None
        if not _XSD_DECIMAL.match(value):
            self.problem(f"{base}/{path}", f"'{value[:40]}' is not a non-negative decimal")
            return None
        try:
            return parse_decimal(value.lstrip("+"))
        except ValueError as error:
            self.problem(f"{base}/{path}", str(error))
            return None

    def date(self, element: Element, base: str, path: str) -> date | None:
        """An ISO 20022 DateAndDateTime2Choice: ``Dt`` (ISODate) or ``DtTm`` (ISODateTime)."""
        choice = self.find(element, base, path, required=True)
        if choice is None:
            return None
        day = self.text(choice, f"{base}/{path}", "Dt", required=False)
        moment = self.text(choice, f"{base}/{path}", "DtTm", required=False)
        try:
            if day is not None:
                return date.fromisoformat(day)
            if moment is not None:
                return datetime.fromisoformat(moment).date()
        except ValueError:
            where = f"{base}/{path}/{'Dt' if day is not None else 'DtTm'}"
            self.problem(where, f"'{(day or moment or '')[:40]}' is not an ISO date")
            return None
        self.problem(f"{base}/{path}", "has neither Dt nor DtTm")
        return None

    def keep(self, name: str, value: Any, location: str) -> None:
        if value is not None:
            self.values[name] = value
            self.locations[name] = location


def _parse(data: bytes) -> Element:
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except DTDForbidden:
        raise _refused("body", "a DTD is not allowed: entities are never expanded") from None
    except DefusedXmlException as error:
        raise _refused("body", f"refused: {type(error).__name__}") from None
    except ParseError as error:
        raise _refused("body", f"is not well-formed XML ({error})") from None
    return root


def _refused(location: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"The ISO 20022 message is not valid: {location} {message}.",
        errors=[FieldProblem(location, message)],
    )


def _split(root: Element) -> tuple[Element, Element | None]:
    """The Document and the application header, if the message has one: the root itself, or
    the first of each inside an envelope (whatever its name, e.g. a file's BizData)."""
    namespace, name = _local(root.tag)
    if name == "Document":
        return root, None
    document = header = None
    for element in root.iter():
        element_namespace, element_name = _local(element.tag)
        if element_name == "Document" and document is None:
            document = element
        elif element_name == "AppHdr" and element_namespace in HEADERS and header is None:
            header = element
    if document is None:
        where = f"{{{namespace}}}{name}" if namespace else name
        raise _refused("Document", f"is missing: the message ({where}) holds no ISO 20022 Document")
    return document, header


def _header(
    header: Element | None, version: str, given: str | None
) -> tuple[str | None, str | None]:
    """The message id (``BizMsgIdr``) and the sender's BIC (``Fr/FIId/FinInstnId/BICFI``, if
    the header names one) of the application header; without a header, the id given apart."""
    if header is None:
        if given is None:
            raise _refused(
                "AppHdr/BizMsgIdr",
                "is missing: send the business application header or the message_id parameter",
            )
        return given, None
    namespace, _ = _local(header.tag)
    assert namespace is not None
    reader = _Reader(namespace)
    identifier = reader.text(header, "AppHdr", "BizMsgIdr", required=True)
    definition = reader.text(header, "AppHdr", "MsgDefIdr", required=True)
    sender = reader.text(header, "AppHdr", "Fr/FIId/FinInstnId/BICFI", required=False)
    if definition is not None and definition != version:
        reader.problem("AppHdr/MsgDefIdr", f"'{definition}' is not the Document's {version}")
    if identifier is not None and given is not None and given != identifier:
        reader.problem("AppHdr/BizMsgIdr", f"'{identifier}' differs from message_id '{given}'")
    if sender is not None and not BIC.match(sender):
        reader.problem("AppHdr/Fr/FIId/FinInstnId/BICFI", f"'{sender[:40]}' is not a BIC")
    if reader.problems:
        raise ValidationFailed(_summary(reader.problems), errors=reader.problems)
    return identifier, None if sender is None else bic11(sender)


def _reason(reader: _Reader, reason: Element, where: str) -> dict[str, Any] | None:
    """One ``Rsn``: an ISO code (``Cd/Cd``) or a proprietary one (``Cd/Prtry/Id`` and
    ``Issr``, kept as text), and its ``AddtlRsnInf``."""
    choice = reader.find(reason, where, "Cd", required=True)
    if choice is None:
        return None
    text = reader.text(reason, where, "AddtlRsnInf", required=False)
    proprietary = reader.find(choice, f"{where}/Cd", "Prtry", required=False)
    if proprietary is not None:
        code = reader.text(proprietary, f"{where}/Cd/Prtry", "Id", required=True)
        issuer = reader.text(proprietary, f"{where}/Cd/Prtry", "Issr", required=False)
        if code is None:
            return None
        return {"code": code, "proprietary": True, "issuer": issuer, "text": text}
    code = reader.text(choice, f"{where}/Cd", "Cd", required=True)
    if code is not None and not ISO_REASON_CODE.match(code):
        reader.problem(f"{where}/Cd/Cd", f"'{code[:40]}' is not a four-letter reason code")
        return None
    return None if code is None else {"code": code, "text": text}


def _reasons(reader: _Reader, status: Element, base: str) -> list[dict[str, Any]]:
    """A status's ``Rsn`` list, or ``NoSpcfdRsn``."""
    reasons: list[dict[str, Any]] = []
    given = False
    for index, reason in enumerate(reader.children(status, "Rsn")):
        given = True
        read = _reason(reader, reason, f"{base}/Rsn[{index}]")
        if read is not None:
            reasons.append(read)
    if not given and reader.find(status, base, "NoSpcfdRsn", required=False) is None:
        reader.problem(base, "has neither Rsn nor NoSpcfdRsn")
    return reasons


# Each block: its element, and its statuses' elements. A status of the block not listed (Rpr,
# PdgCxl, CxlReqd, Prtry...) is refused naming the element: nothing says what it would do.
_BLOCKS: tuple[tuple[Block, str, dict[str, AdvisedStatus]], ...] = (
    (
        Block.PROCESSING,
        "PrcgSts",
        {
            "AckdAccptd": AdvisedStatus.ACKNOWLEDGED,
            "Rjctd": AdvisedStatus.REJECTED,
            "Canc": AdvisedStatus.CANCELLED,
            "PdgPrcg": AdvisedStatus.PENDING_PROCESSING,
        },
    ),
    (
        Block.MATCHING,
        "MtchgSts",
        {"Mtchd": AdvisedStatus.MATCHED, "Umtchd": AdvisedStatus.UNMATCHED},
    ),
    (
        Block.SETTLEMENT,
        "SttlmSts",
        {"Pdg": AdvisedStatus.PENDING, "Flng": AdvisedStatus.FAILING},
    ),
)


def _status_advice(reader: _Reader, message: Element, base: str) -> None:
    """sese.024: every status block given (processing, matching, settlement), each with its
    reasons."""
    found_any = False
    for block, tag, statuses in _BLOCKS:
        element = reader.find(message, base, tag, required=False)
        if element is None:
            continue
        found_any = True
        where = f"{base}/{tag}"
        for name, status in statuses.items():
            found = reader.find(element, where, name, required=False)
            if found is None:
                continue
            # A matched status carries no reasons to speak of: Mtchd is read as it stands.
            reasons = (
                []
                if status == AdvisedStatus.MATCHED
                else _reasons(reader, found, f"{where}/{name}")
            )
            reader.keep(
                block.value, {"status": status.value, "reasons": reasons}, f"{where}/{name}"
            )
            break
        else:
            children = [_local(child.tag)[1] for child in element]
            reader.problem(
                where,
                f"holds {', '.join(children) or 'nothing'}, not one of {', '.join(statuses)}",
            )
    if not found_any:
        reader.problem(
            f"{base}/PrcgSts", "is missing (and so are MtchgSts and SttlmSts): nothing is advised"
        )


def _amount(reader: _Reader, parent: Element, base: str, path: str, *, required: bool) -> None:
    """An AmountAndDirection: ``Amt`` with its ``Ccy`` attribute, and ``CdtDbtInd``."""
    found = reader.find(parent, base, path, required=required)
    if found is None:
        return
    where = f"{base}/{path}"
    amount = reader.decimal(found, where, "Amt", required=True)
    element = reader.find(found, where, "Amt", required=False)
    currency = None if element is None else (element.get("Ccy") or "").strip()
    if element is not None and not currency:
        reader.problem(f"{where}/Amt/@Ccy", "is missing")
    direction = reader.code(found, where, "CdtDbtInd", ("CRDT", "DBIT"), required=True)
    reader.keep("settled_amount", amount, f"{where}/Amt")
    reader.keep("currency", currency or None, f"{where}/Amt/@Ccy")
    reader.keep("credit_debit", direction, f"{where}/CdtDbtInd")


def _isin(reader: _Reader, parent: Element, base: str, *, required: bool) -> None:
    instrument = reader.find(parent, base, "FinInstrmId", required=required)
    if instrument is not None:
        isin = reader.text(instrument, f"{base}/FinInstrmId", "ISIN", required=False)
        reader.keep("isin", isin, f"{base}/FinInstrmId/ISIN")


def _status_details(reader: _Reader, message: Element, base: str) -> None:
    """sese.024 ``TxDtls``, when given: what is checked against the instruction."""
    details = reader.find(message, base, "TxDtls", required=False)
    if details is None:
        return
    where = f"{base}/TxDtls"
    _isin(reader, details, where, required=True)
    movement = reader.code(details, where, "SctiesMvmntTp", ("RECE", "DELI"), required=True)
    payment = reader.code(details, where, "Pmt", ("APMT", "FREE"), required=True)
    reader.keep("securities_movement", movement, f"{where}/SctiesMvmntTp")
    reader.keep("payment", payment, f"{where}/Pmt")
    _amount(reader, details, where, "SttlmAmt", required=False)
    # sese.024 reports the instruction's amount, not a settled one: keep only its currency.
    reader.values.pop("settled_amount", None)
    reader.locations.pop("settled_amount", None)


def _confirmation(reader: _Reader, message: Element, base: str) -> None:
    """sese.025: what settled, when, and whether more is to come."""
    ids = f"{base}/TxIdDtls"
    identification = reader.find(message, base, "TxIdDtls", required=True)
    if identification is not None:
        movement = reader.code(
            identification, ids, "SctiesMvmntTp", ("RECE", "DELI"), required=True
        )
        payment = reader.code(identification, ids, "Pmt", ("APMT", "FREE"), required=True)
        reader.keep("securities_movement", movement, f"{ids}/SctiesMvmntTp")
        reader.keep("payment", payment, f"{ids}/Pmt")
    parameters = reader.find(message, base, "AddtlParams", required=False)
    if parameters is not None:
        where = f"{base}/AddtlParams"
        partial = reader.code(parameters, where, "PrtlSttlm", ("PAIN", "PARC"), required=False)
        reader.keep("partial", None if partial is None else partial == "PAIN", f"{where}/PrtlSttlm")
    trade = reader.find(message, base, "TradDtls", required=True)
    if trade is not None:
        where = f"{base}/TradDtls"
        effective = reader.find(trade, where, "FctvSttlmDt", required=True)
        if effective is not None:
            if reader.find(effective, f"{where}/FctvSttlmDt", "DtCd", required=False) is not None:
                reader.problem(f"{where}/FctvSttlmDt/DtCd", "a date code is not a settlement date")
            else:
                day = reader.date(effective, f"{where}/FctvSttlmDt", "Dt")
                reader.keep("settlement_date", day, f"{where}/FctvSttlmDt/Dt")
    _isin(reader, message, base, required=True)
    quantities = reader.find(message, base, "QtyAndAcctDtls", required=True)
    if quantities is not None:
        where = f"{base}/QtyAndAcctDtls/SttldQty"
        settled = reader.find(quantities, f"{base}/QtyAndAcctDtls", "SttldQty", required=True)
        quantity = None if settled is None else reader.find(settled, where, "Qty", required=True)
        if quantity is not None:
            for tag in ("Unit", "FaceAmt"):
                if reader.find(quantity, f"{where}/Qty", tag, required=False) is not None:
                    value = reader.decimal(quantity, f"{where}/Qty", tag, required=True)
                    reader.keep("settled_quantity", value, f"{where}/Qty/{tag}")
                    break
            else:
                reader.problem(f"{where}/Qty", "has neither Unit nor FaceAmt")
    _amount(reader, message, base, "SttldAmt", required=False)


def _summary(problems: list[FieldProblem]) -> str:
    listed = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return f"The ISO 20022 message is not valid: {listed}{more}."


def read_advice(data: bytes, *, message_id: str | None = None) -> ReadAdvice:
    """The advice an ISO 20022 sese.024 or sese.025 message carries, every value checked;
    ``ValidationFailed`` (422) naming each element that is missing or wrong otherwise. The
    sender is the header's ``Fr`` BIC, when it has one."""
    document, header = _split(_parse(data))
    namespace, _ = _local(document.tag)
    if namespace not in DOCUMENTS:
        supported = ", ".join(sorted(DOCUMENTS))
        raise _refused("Document", f"has the namespace '{namespace or ''}', not one of {supported}")
    message_type, version = DOCUMENTS[namespace]
    identifier, sender = _header(header, version, message_id)
    reader = _Reader(namespace)
    base = _MESSAGE_ROOT[message_type]
    message = reader.find(document, "Document", base, required=True)
    if message is None:
        raise ValidationFailed(_summary(reader.problems), errors=reader.problems)
    reader.keep("message_id", identifier, "AppHdr/BizMsgIdr")
    reader.keep("sender", sender, "AppHdr/Fr/FIId/FinInstnId/BICFI")
    reader.keep("message_type", message_type.value, "Document")
    id_path = "TxId" if message_type == MessageType.STATUS else "TxIdDtls"
    reference = reader.text(message, base, f"{id_path}/AcctOwnrTxId", required=True)
    reader.keep("reference", reference, f"{base}/{id_path}/AcctOwnrTxId")
    csd_reference = reader.text(message, base, f"{id_path}/AcctSvcrTxId", required=False)
    reader.keep("csd_reference", csd_reference, f"{base}/{id_path}/AcctSvcrTxId")
    if message_type == MessageType.STATUS:
        _status_advice(reader, message, base)
        _status_details(reader, message, base)
    else:
        _confirmation(reader, message, base)
    if reader.problems:
        raise ValidationFailed(_summary(reader.problems), errors=reader.problems)
    return ReadAdvice(
        validated(reader.values, reader.locations, base, _summary), version, reader.locations
    )


def validated(
    values: dict[str, Any],
    locations: dict[str, str],
    base: str,
    summary: Callable[[list[FieldProblem]], str],
) -> AdviceIn:
    """The advice read from a message, checked as a JSON one is; each problem names where in
    the message the field was read (an element path, or an MT field and line)."""
    try:
        advice = AdviceIn.model_validate(values)
    except ValidationError as error:
        problems = [
            FieldProblem(
                locations.get(str(e["loc"][0]), str(e["loc"][0])) if e["loc"] else base,
                str(e["msg"]).removeprefix("Value error, "),
            )
            for e in error.errors()
        ]
        raise ValidationFailed(summary(problems), errors=problems) from None
    problems = [FieldProblem(locations.get(p.field, p.field), p.message) for p in advice.problems()]
    if problems:
        raise ValidationFailed(summary(problems), errors=problems)
    return advice
