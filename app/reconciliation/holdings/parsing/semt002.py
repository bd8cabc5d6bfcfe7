"""ISO 20022 semt.002 (securities balance custody report, the custodian's statement of holdings),
versions .001.03 to .001.12 and their .002 subsets, read by namespace into
ParsedHoldingsStatement. The statement's safekeeping account gives one statement, and each
sub-account (SubAcctDtls) with its own SfkpgAcct another. Pure: no database."""

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from app.core.iso20022_xml import Node, parse_xml, split_tag
from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHolding,
    ParsedHoldingsStatement,
    QuantityType,
    StatementBasis,
)
from app.reconciliation.holdings.parsing.values import checked_isin

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:semt\.002\.00[12]\.(\d{2})$")
_OLDEST_VERSION, _NEWEST_VERSION = 3, 12
_REPORT = "SctiesBalCtdyRpt"
_BASES = {
    "SETT": StatementBasis.SETTLED,
    "TRAD": StatementBasis.TRADED,
    "CONT": StatementBasis.CONTRACTUAL,
}
# Where a balance's quantity is (BalanceQuantity choices nest it one or two levels deep):
# Unit for securities counted in units, FaceAmt for bonds held by nominal.
_QUANTITIES = {"Unit": QuantityType.UNIT, "FaceAmt": QuantityType.FAMT}
_XML_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_ZONE_SUFFIX = re.compile(r"(Z|[+-]\d{2}:\d{2})$")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def parse_semt002(data: bytes) -> list[ParsedHoldingsStatement]:
    """Every statement of every semt.002 Document in the file (alone, or in an envelope)."""
    return [
        statement
        for report in _reports(parse_xml(data, error=HoldingsParseError))
        for statement in _statements(report)
    ]


def _reports(root: Element) -> Iterator[Node]:
    documents = [element for element in root.iter() if split_tag(element.tag)[1] == "Document"]
    if not documents:
        namespace, name = split_tag(root.tag)
        raise HoldingsParseError(
            f"not a semt.002 document (root element {name!r}, namespace {namespace!r})",
            location=name,
        )
    for index, element in enumerate(documents, start=1):
        path = "Document" if len(documents) == 1 else f"Document[{index}]"
        yield _report(element, path)


def _report(document: Element, path: str) -> Node:
    namespace, _name = split_tag(document.tag)
    match = _NAMESPACE.match(namespace)
    if match is None:
        raise HoldingsParseError(f"namespace {namespace!r} is not semt.002", location=path)
    version = int(match[1])
    if not _OLDEST_VERSION <= version <= _NEWEST_VERSION:
        raise HoldingsParseError(
            f"semt.002 version {match[1]} is not supported (.03 to .12)", location=path
        )
    for child in document:
        child_namespace, name = split_tag(child.tag)
        if child_namespace == namespace and name == _REPORT:
            return Node(child, f"{path}/{name}", namespace, HoldingsParseError)
    raise HoldingsParseError("required element is missing", location=f"{path}/{_REPORT}")


def _statements(report: Node) -> Iterator[ParsedHoldingsStatement]:
    general = report.require("StmtGnlDtls")
    statement_date, written = _statement_date(general.require("StmtDtTm"))
    page, last_page = _pagination(report.find("Pgntn"))
    # One header for the account's statement and each sub-account's.
    header = ParsedHoldingsStatement(
        safekeeping_account="",
        statement_id=general.text_of("StmtId") or written,
        statement_date=statement_date,
        basis=_basis(general.find("StmtBsis")),
        page=page,
        last_page=last_page,
    )
    sub_accounts = list(report.children("SubAcctDtls"))
    account = report.find("SfkpgAcct/Id")
    balances = list(report.children("BalForAcct"))
    if account is None and (balances or not sub_accounts):
        raise HoldingsParseError("required element is missing", location=f"{report.path}/SfkpgAcct")
    if account is not None and (balances or not sub_accounts):
        yield replace(
            header,
            safekeeping_account=_account(account),
            holdings=tuple(_holding(balance) for balance in balances),
        )
    for sub_account in sub_accounts:
        yield replace(
            header,
            safekeeping_account=_account(sub_account.require("SfkpgAcct/Id")),
            holdings=tuple(_holding(b) for b in sub_account.children("BalForSubAcct")),
        )


def _account(identifier: Node) -> str:
    if not identifier.text:
        raise HoldingsParseError("the safekeeping account is empty", location=identifier.path)
    return identifier.text


def _holding(balance: Node) -> ParsedHolding:
    identification = balance.require("FinInstrmId")
    isin_node = identification.find("ISIN")
    if isin_node is None:
        raise HoldingsParseError("no ISIN", location=f"{identification.path}/ISIN")
    quantity, quantity_type = _balance(balance.require("AggtBal"))
    available = balance.find("AvlblBal")
    return ParsedHolding(
        isin=checked_isin(isin_node.text, location=isin_node.path),
        quantity=quantity,
        quantity_type=quantity_type,
        available=_balance(available)[0] if available is not None else None,
    )


def _balance(balance: Node) -> tuple[Decimal, QuantityType]:
    """The signed quantity of a balance: its Unit or FaceAmt, negated when ShrtLngInd is SHOR."""
    quantity = balance.first_descendant(tuple(_QUANTITIES))
    if quantity is None:
        raise HoldingsParseError(
            "no Unit or FaceAmt quantity (proprietary and amortised quantities are not read)",
            location=f"{balance.path}/Qty",
        )
    if not _XML_DECIMAL.match(quantity.text):
        raise HoldingsParseError(
            f"quantity {quantity.text!r} is not a decimal", location=quantity.path
        )
    value = Decimal(quantity.text)
    short_long = balance.text_of("ShrtLngInd")
    if short_long not in (None, "SHOR", "LONG"):
        raise HoldingsParseError(
            f"{short_long!r} is neither SHOR nor LONG", location=f"{balance.path}/ShrtLngInd"
        )
    if short_long == "SHOR":
        if value < 0:
            raise HoldingsParseError(
                "a short balance with a negative quantity", location=quantity.path
            )
        value = -value
    return value, _QUANTITIES[quantity.name]


def _statement_date(moment: Node) -> tuple[date, str]:
    """The statement's date (the calendar date of a DtTm as the custodian wrote it), and the
    text as written."""
    if (day := moment.find("Dt")) is not None:
        try:
            return date.fromisoformat(_DATE_ZONE_SUFFIX.sub("", day.text)), day.text
        except ValueError:
            raise HoldingsParseError(f"{day.text!r} is not a date", location=day.path) from None
    if (stamp := moment.find("DtTm")) is not None:
        try:
            return datetime.fromisoformat(stamp.text).date(), stamp.text
        except ValueError:
            raise HoldingsParseError(
                f"{stamp.text!r} is not a date-time", location=stamp.path
            ) from None
    raise HoldingsParseError("neither Dt nor DtTm", location=moment.path)


def _basis(basis: Node | None) -> StatementBasis | None:
    """SETT / TRAD / CONT; a proprietary basis says nothing we can compare with."""
    code = basis.text_of("Cd") if basis is not None else None
    if basis is None or code is None:
        return None
    if code not in _BASES:
        raise HoldingsParseError(f"unknown statement basis {code!r}", location=f"{basis.path}/Cd")
    return _BASES[code]


def _pagination(pagination: Node | None) -> tuple[int | None, bool | None]:
    if pagination is None:
        return None, None
    number = pagination.require("PgNb")
    if not number.text.isdigit() or int(number.text) < 1:
        raise HoldingsParseError(f"{number.text!r} is not a page number", location=number.path)
    last = pagination.require("LastPgInd")
    if last.text.lower() not in _TRUE | _FALSE:
        raise HoldingsParseError(f"{last.text!r} is not a boolean", location=last.path)
    return int(number.text), last.text.lower() in _TRUE
