"""ISO 20022 cash statements (camt.052 report, camt.053 statement, camt.054 notification, versions
.001.02 to .001.13) parsed by namespace into ParsedStatement. Pure: no database."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from app.core.iso20022_xml import Node as _Node
from app.core.iso20022_xml import parse_xml
from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    EntryStatus,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.05([234])\.001\.(\d{2})$")
_OLDEST_VERSION, _NEWEST_VERSION = 2, 13
# message number -> (kind, body element, the repeated statement element)
_MESSAGES = {
    "2": (StatementKind.REPORT, "BkToCstmrAcctRpt", "Rpt"),
    "3": (StatementKind.STATEMENT, "BkToCstmrStmt", "Stmt"),
    "4": (StatementKind.NOTIFICATION, "BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_ENTRY_STATUSES = {
    "BOOK": EntryStatus.BOOKED,
    "PDNG": EntryStatus.PENDING,
    "FUTR": EntryStatus.PENDING,  # .08+: booked on a future date, not yet on the account
    "INFO": EntryStatus.INFORMATION,
}
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")  # ISO amounts are unsigned; the sign is CdtDbtInd
_DATE_ZONE_SUFFIX = re.compile(r"(Z|[+-]\d{2}:\d{2})$")  # xs:date may carry a zone
# Refs children -> the key the matching engine reads
_REFERENCE_KEYS = {
    "MsgId": "message_id",
    "AcctSvcrRef": "account_servicer_reference",
    "PmtInfId": "payment_information_id",
    "InstrId": "instruction_id",
    "EndToEndId": "end_to_end_id",
    "TxId": "transaction_id",
    "UETR": "uetr",
}


def parse_camt(data: bytes) -> list[ParsedStatement]:
    """Every Stmt / Rpt / Ntfctn of a camt.052, .053 or .054 file, in file order."""
    document, message_number = _document(parse_xml(data, error=StatementParseError))
    kind, body_name, statement_name = _MESSAGES[message_number]
    body = document.require(body_name)
    group_created_at = _optional_timestamp(body.find("GrpHdr/CreDtTm"))
    statements = [
        _statement(node, kind=kind, group_created_at=group_created_at)
        for node in body.children(statement_name)
    ]
    if not statements:
        raise StatementParseError(
            "no statement in the file", location=f"{body.path}/{statement_name}"
        )
    return statements


def _document(root: Element) -> tuple[_Node, str]:
    """The camt Document: the root, or inside an envelope (a business application header)."""
    for element in root.iter():
        namespace, _, local_name = element.tag[1:].partition("}")
        if local_name == "Document" and element.tag.startswith("{"):
            return _checked_document(element, namespace)
    namespace, _, local_name = (
        root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    raise StatementParseError(
        f"not a camt document (root element {local_name or root.tag!r}, namespace {namespace!r})",
        location=local_name or root.tag,
    )


def _checked_document(element: Element, namespace: str) -> tuple[_Node, str]:
    """The Document and its message number ("2", "3" or "4" for camt.052 / .053 / .054)."""
    match = _NAMESPACE.match(namespace)
    if match is None:
        raise StatementParseError(
            f"namespace {namespace!r} is not camt.052, camt.053 or camt.054", location="Document"
        )
    version = int(match[2])
    if not _OLDEST_VERSION <= version <= _NEWEST_VERSION:
        raise StatementParseError(
            f"camt.05{match[1]} version .001.{match[2]} is not supported (.001.02 to .001.13)",
            location="Document",
        )
    return _Node(element, "Document", namespace, StatementParseError), match[1]


def _statement(
    node: _Node, *, kind: StatementKind, group_created_at: datetime | None
) -> ParsedStatement:
    balances = {code: balance for code, balance, _currency in _balances(node)}
    created_at = _optional_timestamp(node.find("CreDtTm")) or group_created_at
    return ParsedStatement(
        kind=kind,
        account=_account(node.require("Acct")),
        currency=_currency(node),
        statement_id=node.require("Id").text,
        electronic_sequence=_optional_integer(node.find("ElctrncSeqNb")),
        legal_sequence=_optional_integer(node.find("LglSeqNb")),
        created_at=created_at,
        opening_booked=balances.get("OPBD"),
        closing_booked=balances.get("CLBD"),
        opening_available=balances.get("OPAV"),
        closing_available=balances.get("CLAV"),
        entries=tuple(_entry(entry) for entry in node.children("Ntry")),
    )


def _account(account: _Node) -> str:
    identifier = account.text_of("Id/IBAN") or account.text_of("Id/Othr/Id")
    if identifier is None:
        raise StatementParseError(
            "account has neither IBAN nor Othr/Id", location=f"{account.path}/Id"
        )
    return identifier


def _currency(statement: _Node) -> str:
    """Acct/Ccy, else the currency the balances and then the entries are stated in."""
    declared = statement.text_of("Acct/Ccy")
    if declared:
        return declared
    for _code, _balance, currency in _balances(statement):
        return currency
    for entry in statement.children("Ntry"):
        amount = entry.find("Amt")
        if amount is not None and amount.element.get("Ccy"):
            return amount.element.get("Ccy", "")
    raise StatementParseError(
        "no currency: neither Acct/Ccy nor a balance or entry amount",
        location=f"{statement.path}/Acct/Ccy",
    )


def _balances(statement: _Node) -> Iterator[tuple[str, Balance, str]]:
    """(type code, balance, currency) for every Bal, whatever its type."""
    for node in statement.children("Bal"):
        code = node.text_of("Tp/CdOrPrtry/Cd") or node.text_of("Tp/CdOrPrtry/Prtry") or ""
        amount_node = node.require("Amt")
        amount = _signed(_amount(amount_node), _credit_debit(node.require("CdtDbtInd")))
        balance = Balance(amount=amount, date=_date_choice(node.require("Dt")))
        yield code, balance, amount_node.element.get("Ccy", "")


def _entry(node: _Node) -> ParsedEntry:
    credit_debit = _credit_debit(node.require("CdtDbtInd"))
    details = _single_transaction(node)
    return ParsedEntry(
        amount=_signed(_amount(node.require("Amt")), credit_debit),
        credit_debit=credit_debit,
        booking_date=_optional_date_choice(node.find("BookgDt")),
        value_date=_optional_date_choice(node.find("ValDt")),
        status=_entry_status(node.find("Sts")),
        bank_transaction_code=_bank_transaction_code(node.find("BkTxCd")),
        references=_references(node, details),
        remittance_information=_remittance(details.find("RmtInf")) if details is not None else None,
        counterparty_name=_counterparty_name(details, credit_debit),
        counterparty_account=_counterparty_account(details, credit_debit),
    )


def _single_transaction(entry: _Node) -> _Node | None:
    """The one TxDtls of the entry; a batch of several has no single counterparty or reference."""
    transactions = [
        tx for details in entry.children("NtryDtls") for tx in details.children("TxDtls")
    ]
    return transactions[0] if len(transactions) == 1 else None


def _references(entry: _Node, details: _Node | None) -> dict[str, str]:
    references: dict[str, str] = {}
    refs = details.find("Refs") if details is not None else None
    if refs is not None:
        for child_name, key in _REFERENCE_KEYS.items():
            if value := refs.text_of(child_name):
                references[key] = value
    if servicer_reference := entry.text_of("AcctSvcrRef"):
        references["account_servicer_reference"] = servicer_reference
    return references


def _remittance(remittance: _Node | None) -> str | None:
    """Unstructured lines joined with a space, else the structured creditor and document refs."""
    if remittance is None:
        return None
    unstructured = [line.text for line in remittance.children("Ustrd") if line.text]
    if unstructured:
        return " ".join(unstructured)
    structured = [
        reference
        for block in remittance.children("Strd")
        for reference in (block.text_of("CdtrRefInf/Ref"), *_document_numbers(block))
        if reference
    ]
    return " ".join(structured) or None


def _document_numbers(structured: _Node) -> Iterator[str | None]:
    for document in structured.children("RfrdDocInf"):
        yield document.text_of("Nb")


def _counterparty_name(details: _Node | None, credit_debit: CreditDebit) -> str | None:
    """The debtor of a credit, the creditor of a debit (Pty/Nm from .08 on)."""
    if details is None:
        return None
    party = _other_party(credit_debit)
    return details.text_of(f"RltdPties/{party}/Nm") or details.text_of(f"RltdPties/{party}/Pty/Nm")


def _counterparty_account(details: _Node | None, credit_debit: CreditDebit) -> str | None:
    if details is None:
        return None
    account = f"RltdPties/{_other_party(credit_debit)}Acct/Id"
    return details.text_of(f"{account}/IBAN") or details.text_of(f"{account}/Othr/Id")


def _other_party(credit_debit: CreditDebit) -> str:
    return "Dbtr" if credit_debit is CreditDebit.CREDIT else "Cdtr"


def _bank_transaction_code(code: _Node | None) -> str | None:
    """ "Domain/Family/SubFamily" (e.g. PMNT/RCDT/ESCT), else the proprietary code."""
    if code is None:
        return None
    domain = code.text_of("Domn/Cd")
    family = code.text_of("Domn/Fmly/Cd")
    sub_family = code.text_of("Domn/Fmly/SubFmlyCd")
    if domain and family and sub_family:
        return f"{domain}/{family}/{sub_family}"
    return code.text_of("Prtry/Cd")


def _entry_status(status: _Node | None) -> EntryStatus:
    """A bare code up to .07, Sts/Cd (or Sts/Prtry) from .08 on."""
    if status is None:
        return EntryStatus.BOOKED
    code = status.text_of("Cd") or status.text_of("Prtry") or status.text
    if code not in _ENTRY_STATUSES:
        raise StatementParseError(f"unknown entry status {code!r}", location=status.path)
    return _ENTRY_STATUSES[code]


def _amount(node: _Node) -> Decimal:
    if not _AMOUNT.match(node.text):
        raise StatementParseError(f"amount {node.text!r} is not a decimal", location=node.path)
    return Decimal(node.text)


def _credit_debit(node: _Node) -> CreditDebit:
    try:
        return CreditDebit(node.text)
    except ValueError:
        raise StatementParseError(
            f"{node.text!r} is neither CRDT nor DBIT", location=node.path
        ) from None


def _signed(amount: Decimal, credit_debit: CreditDebit) -> Decimal:
    return -amount if credit_debit is CreditDebit.DEBIT and amount else amount


def _optional_date_choice(node: _Node | None) -> date | None:
    return _date_choice(node) if node is not None else None


def _date_choice(node: _Node) -> date:
    """A DateAndDateTimeChoice: Dt, or the calendar date of DtTm as the bank wrote it."""
    if (day := node.find("Dt")) is not None:
        return _date(day)
    if (moment := node.find("DtTm")) is not None:
        return _timestamp(moment).date()
    raise StatementParseError("neither Dt nor DtTm", location=node.path)


def _date(node: _Node) -> date:
    try:
        return date.fromisoformat(_DATE_ZONE_SUFFIX.sub("", node.text))
    except ValueError:
        raise StatementParseError(f"{node.text!r} is not a date", location=node.path) from None


def _timestamp(node: _Node) -> datetime:
    """An ISO date-time; one written without an offset is read as UTC."""
    try:
        moment = datetime.fromisoformat(node.text)
    except ValueError:
        raise StatementParseError(f"{node.text!r} is not a date-time", location=node.path) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _optional_timestamp(node: _Node | None) -> datetime | None:
    return _timestamp(node) if node is not None else None


def _optional_integer(node: _Node | None) -> int | None:
    if node is None:
        return None
    if not node.text.isdigit():
        raise StatementParseError(f"{node.text!r} is not a sequence number", location=node.path)
    return int(node.text)
