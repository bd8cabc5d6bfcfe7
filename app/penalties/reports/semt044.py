"""ISO 20022 semt.044.001.01 (SecuritiesTransactionPenaltiesReportV01, ``SctiesTxPnltiesRpt``),
the depository's daily penalty list (T2S and the CSDs under CSDR), read into ``PenaltyReport``.
Pure: no database.

What is read (every other element is left alone)::

    SctiesTxPnltiesRpt
      RptPgntn/PgNb, LastPgInd                     page (optional)
      RptGnlDtls/RptId, RptDt (Dt|DtTm), PnltyListTp/Cd (FWIS, FWAM, CURR)
      AcctOwnr/Id/AnyBIC, AcctSvcr/Id/AnyBIC, SfkpgAcct/Id
      Pnlty (per party and currency): Ccy, Dt (the day computed), PtyId
        PnltyPerCtrPty: PtyId/Id/AnyBIC and LEI (the counterparty)
          PnltyDtls: Id/MktInfrstrctrId (the penalty's id), Tp (SEFP, LMFP),
                     Sts/Sts/Cd (ACTV, REMO, REIC, SWIC, RLOC, NCOM, OTHR),
                     CmptdAmt/Amt@Ccy and CdtDbt (DBIT: we pay, CRDT: we receive),
                     ClctnData/Dt (each day penalised) and FinInstrmAttrbts/Id/ISIN,
                     RltdTx/Ref/AcctOwnrTxId (our SEME), AcctSvcrTxId, MktInfrstrctrTxId,
                     RltdTx/TxDtls/SttlmDt/Dt (the intended settlement date)

A message is the ``Document`` alone, or an envelope (any root) with the business application
header (``AppHdr``, head.001.001.01 to .04) whose ``BizMsgIdr`` is the message id and
``Fr/FIId/FinInstnId/BICFI`` the sender. DTDs and entities are refused (defusedxml). Every
refusal is a ``PenaltyReportError`` naming the element.

The line's status: ``REMO`` is a removal; ``REIC``, ``SWIC``, ``RLOC`` and every line of an
amended list (``FWAM``) a modification; anything else a new penalty. A penalty without
``ClctnData`` is for the day it was computed (``Pnlty/Dt``).
"""

import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from stdnum import isin as stdnum_isin
from stdnum.exceptions import ValidationError as StdnumError

from app.core.iso20022_xml import Node, parse_xml, split_tag
from app.core.money import parse_decimal
from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import (
    PenaltyReport,
    PenaltyReportError,
    PenaltyUpdate,
    ReportedPenalty,
)

_ISO = "urn:iso:std:iso:20022:tech:xsd:"
VERSIONS = ("semt.044.001.01",)
_HEADERS = frozenset(f"{_ISO}head.001.001.0{n}" for n in range(1, 5))
_REPORT = "SctiesTxPnltiesRpt"
KINDS = {"SEFP": PenaltyKind.SETTLEMENT_FAIL, "LMFP": PenaltyKind.LATE_MATCHING_FAIL}
PAYERS = {"DBIT": Party.US, "CRDT": Party.COUNTERPARTY}
LIST_TYPES = ("FWIS", "FWAM", "CURR")
STATUSES = ("ACTV", "NCOM", "OTHR", "RLOC", "REIC", "REMO", "SWIC")
_MODIFYING = frozenset({"REIC", "SWIC", "RLOC"})
_AMOUNT = re.compile(r"^\+?\d+(\.\d+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_BIC = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def bic11(bic: str) -> str:
    """``MGTCBEBE`` and ``MGTCBEBEXXX`` are one sender."""
    return bic + "XXX" if len(bic) == 8 else bic


def parse_semt044(data: bytes, *, message_id: str | None = None) -> PenaltyReport:
    """The report of a semt.044 message (alone or in an envelope with its AppHdr).
    ``message_id``, when given, must be the header's ``BizMsgIdr`` (or stands for it)."""
    root = parse_xml(data, error=PenaltyReportError)
    document, header = _split(root)
    report, version = _report(document)
    header_id, sender = _header(header, version)
    if header_id is not None and message_id is not None and header_id != message_id:
        raise PenaltyReportError(
            f"'{header_id}' differs from the message id given ('{message_id}')",
            location="AppHdr/BizMsgIdr",
        )
    return _read(report, message_id=header_id or message_id, sender=sender)


def _split(root: Element) -> tuple[Element, Element | None]:
    if split_tag(root.tag)[1] == "Document":
        return root, None
    document = header = None
    for element in root.iter():
        namespace, name = split_tag(element.tag)
        if name == "Document" and document is None:
            document = element
        elif name == "AppHdr" and namespace in _HEADERS and header is None:
            header = element
    if document is None:
        raise PenaltyReportError(
            f"is missing: the message ({split_tag(root.tag)[1]}) holds no ISO 20022 Document",
            location="Document",
        )
    return document, header


def _report(document: Element) -> tuple[Node, str]:
    namespace, _ = split_tag(document.tag)
    version = namespace.removeprefix(_ISO)
    if not namespace.startswith(_ISO) or version not in VERSIONS:
        raise PenaltyReportError(
            f"namespace '{namespace}' is not {', '.join(VERSIONS)}", location="Document"
        )
    node = Node(document, "Document", namespace, PenaltyReportError)
    return node.require(_REPORT), version


def _header(header: Element | None, version: str) -> tuple[str | None, str | None]:
    """The header's ``BizMsgIdr`` and sender BIC (11 characters), or (None, None)."""
    if header is None:
        return None, None
    node = Node(header, "AppHdr", split_tag(header.tag)[0], PenaltyReportError)
    identifier = node.require("BizMsgIdr").text
    definition = node.find("MsgDefIdr")
    if definition is not None and definition.text != version:
        raise PenaltyReportError(
            f"'{definition.text}' is not the Document's {version}", location=definition.path
        )
    sender = node.find("Fr/FIId/FinInstnId/BICFI")
    return identifier or None, None if sender is None else _bic(sender)


def _read(report: Node, *, message_id: str | None, sender: str | None) -> PenaltyReport:
    general = report.require("RptGnlDtls")
    report_id = general.require("RptId")
    if not report_id.text:
        raise PenaltyReportError("is empty", location=report_id.path)
    date_choice = general.find("RptDt")
    list_type = _code(general.find("PnltyListTp/Cd"), LIST_TYPES)
    servicer = report.find("AcctSvcr/Id/AnyBIC")
    owner = report.find("AcctOwnr/Id/AnyBIC")
    page, last_page = _pagination(report.find("RptPgntn"))
    lines = tuple(
        line
        for penalty in report.children("Pnlty")
        for line in _penalties(penalty, amended=list_type == "FWAM")
    )
    return PenaltyReport(
        report_id=report_id.text,
        report_date=None if date_choice is None else _date(date_choice),
        sender=sender or (None if servicer is None else _bic(servicer)),
        message_id=message_id,
        list_type=list_type,
        account_owner=None if owner is None else _bic(owner),
        safekeeping_account=report.text_of("SfkpgAcct/Id"),
        page=page,
        last_page=last_page,
        lines=lines,
    )


def _penalties(penalty: Node, *, amended: bool) -> Iterator[ReportedPenalty]:
    """The lines of one ``Pnlty`` block (one party, one currency, one computation day)."""
    currency_node = penalty.require("Ccy")
    currency = _currency(currency_node.text, location=currency_node.path)
    computed = penalty.find("Dt")
    computed_on = None if computed is None else _date(computed)
    for per_counterparty in penalty.children("PnltyPerCtrPty"):
        party = per_counterparty.require("PtyId/Id")
        bic = party.find("Id/AnyBIC")
        counterparty = {
            "counterparty_bic": None if bic is None else _bic(bic),
            "counterparty_lei": party.text_of("LEI"),
        }
        for details in per_counterparty.children("PnltyDtls"):
            yield _penalty(
                details,
                currency=currency,
                computed_on=computed_on,
                amended=amended,
                **counterparty,
            )


def _penalty(
    details: Node,
    *,
    currency: str,
    computed_on: date | None,
    amended: bool,
    counterparty_bic: str | None,
    counterparty_lei: str | None,
) -> ReportedPenalty:
    identifier = details.require("Id/MktInfrstrctrId")
    kind = _code(details.require("Tp"), tuple(KINDS))
    status = _code(details.find("Sts/Sts/Cd"), STATUSES)
    amount, amount_currency, payer = _amount(details.require("CmptdAmt"))
    if amount_currency != currency:
        raise PenaltyReportError(
            f"'{amount_currency}' is not the block's currency {currency}",
            location=f"{details.path}/CmptdAmt/Amt/@Ccy",
        )
    days, isin = _calculation(details, computed_on)
    reference = details.require("RltdTx/Ref")
    ours = reference.require("AcctOwnrTxId")
    if not ours.text or not identifier.text:
        empty = ours if not ours.text else identifier
        raise PenaltyReportError("is empty", location=empty.path)
    settlement = details.find("RltdTx/TxDtls/SttlmDt/Dt")
    return ReportedPenalty(
        penalty_id=identifier.text,
        kind=KINDS[str(kind)],
        our_reference=ours.text,
        their_reference=reference.text_of("AcctSvcrTxId") or reference.text_of("MktInfrstrctrTxId"),
        isin=isin,
        days=days,
        amount=amount,
        currency=currency,
        payer=payer,
        update=_update(status, amended=amended),
        status=status,
        computed_on=computed_on,
        intended_settlement_date=None if settlement is None else _date(settlement),
        counterparty_bic=counterparty_bic,
        counterparty_lei=counterparty_lei,
        location=details.path,
    )


def _update(status: str | None, *, amended: bool) -> PenaltyUpdate:
    if status == "REMO":
        return PenaltyUpdate.REMOVED
    if amended or status in _MODIFYING:
        return PenaltyUpdate.MODIFIED
    return PenaltyUpdate.NEW


def _calculation(details: Node, computed_on: date | None) -> tuple[tuple[date, ...], str | None]:
    """The days penalised (``ClctnData/Dt``, else the day computed) and the ISIN."""
    days: list[date] = []
    isin = None
    for record in details.children("ClctnData"):
        day = record.require("Dt")
        days.append(_iso_date(day))
        found = record.find("FinInstrmAttrbts/Id/ISIN")
        if found is not None and isin is None:
            isin = _isin(found)
    if not days:
        if computed_on is None:
            raise PenaltyReportError(
                "is missing, and so is the block's Dt: no day is penalised",
                location=f"{details.path}/ClctnData",
            )
        days.append(computed_on)
    if len(set(days)) != len(days):
        raise PenaltyReportError("names a day twice", location=f"{details.path}/ClctnData")
    kind = details.text_of("Tp")
    if kind == "SEFP" and len(days) > 1:
        raise PenaltyReportError(
            f"holds {len(days)} days: a settlement fail penalty is for one business day",
            location=f"{details.path}/ClctnData",
        )
    return tuple(sorted(days)), isin


def _amount(amount: Node) -> tuple[Decimal, str, Party]:
    """An AmountAndDirection5: ``Amt`` with its ``Ccy`` and ``CdtDbt`` (our side)."""
    value = amount.require("Amt")
    if not _AMOUNT.match(value.text):
        raise PenaltyReportError(
            f"'{value.text[:40]}' is not a non-negative decimal", location=value.path
        )
    try:
        parsed = parse_decimal(value.text.lstrip("+"))
    except ValueError as error:
        raise PenaltyReportError(str(error), location=value.path) from None
    currency = _currency(value.element.get("Ccy") or "", location=f"{value.path}/@Ccy")
    direction = amount.find("CdtDbt")
    if direction is None:
        raise PenaltyReportError(
            "is missing: the amount says neither DBIT (we pay) nor CRDT (we receive)",
            location=f"{amount.path}/CdtDbt",
        )
    return parsed, currency, PAYERS[str(_code(direction, tuple(PAYERS)))]


def _code(node: Node | None, allowed: tuple[str, ...]) -> str | None:
    if node is None:
        return None
    if node.text not in allowed:
        raise PenaltyReportError(
            f"'{node.text[:40]}' is not one of {', '.join(allowed)}", location=node.path
        )
    return node.text


def _currency(text: str, *, location: str) -> str:
    if not _CURRENCY.match(text.strip()):
        raise PenaltyReportError(f"'{text[:40]}' is not a currency code", location=location)
    return text.strip()


def _bic(node: Node) -> str:
    if not _BIC.match(node.text):
        raise PenaltyReportError(f"'{node.text[:40]}' is not a BIC", location=node.path)
    return bic11(node.text)


def _isin(node: Node) -> str:
    try:
        return str(stdnum_isin.validate(node.text))
    except StdnumError as error:
        raise PenaltyReportError(
            f"'{node.text[:40]}' is not a valid ISIN ({error})", location=node.path
        ) from None


def _iso_date(node: Node) -> date:
    try:
        return date.fromisoformat(node.text)
    except ValueError:
        raise PenaltyReportError(f"'{node.text[:40]}' is not a date", location=node.path) from None


def _date(choice: Node) -> date:
    """A DateAndDateTime2Choice: ``Dt`` or ``DtTm`` (its calendar date as written)."""
    if (day := choice.find("Dt")) is not None:
        return _iso_date(day)
    if (moment := choice.find("DtTm")) is not None:
        try:
            return datetime.fromisoformat(moment.text).date()
        except ValueError:
            raise PenaltyReportError(
                f"'{moment.text[:40]}' is not a date-time", location=moment.path
            ) from None
    raise PenaltyReportError("has neither Dt nor DtTm", location=choice.path)


def _pagination(pagination: Node | None) -> tuple[int | None, bool | None]:
    if pagination is None:
        return None, None
    number = pagination.require("PgNb")
    if not number.text.isdigit() or int(number.text) < 1:
        raise PenaltyReportError(f"'{number.text[:40]}' is not a page number", location=number.path)
    last = pagination.require("LastPgInd")
    if last.text.lower() not in _TRUE | _FALSE:
        raise PenaltyReportError(f"'{last.text[:40]}' is not a boolean", location=last.path)
    return int(number.text), last.text.lower() in _TRUE
