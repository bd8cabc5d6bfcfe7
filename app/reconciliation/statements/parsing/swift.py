"""SWIFT MT940 / MT950 statements and MT942 interim reports into ``ParsedStatement``: the
``mt940`` library reads each field; this module splits files into messages, keeps line numbers
for refusals, and checks what the library lets through. Pure: no database."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timezone
from decimal import Decimal
from typing import Any

import mt940

from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)
from app.reconciliation.statements.parsing.swift_details import read_details

# A C or RD entry brings money in (RD reverses a debit); D and RC take it out.
_OPTIONS = mt940.Options(reversal_sign=True, case_insensitive_marks=True, timezone_offset=True)
_LIBRARY_ERRORS = (RuntimeError, ValueError, ArithmeticError, KeyError, TypeError, IndexError)
_NUL_SHARE = 0.05  # a file this full of NULs is binary, not a statement with stray bytes

_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):")
_BLOCK_2 = re.compile(r"\{2:[IO](\d{3})")
_BALANCE = re.compile(r"[DC]\d{6}[A-Z]{3}\d+,\d*")
_ENTRY_START = re.compile(r"\d{6}(\d{4}|\s{4})?R?[DC][A-Z]?\s?\d+,\d*", re.IGNORECASE)
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_CURRENCY_34F = re.compile(r"([A-Z]{3})")
_CURRENCY_90 = re.compile(r"\d*([A-Z]{3})")

_KINDS = {"940": StatementKind.STATEMENT, "950": StatementKind.STATEMENT}
_KINDS["942"] = StatementKind.REPORT
_REPORT_TAGS = frozenset({"34F", "13D", "13"})
# Which balance each tag gives; :65: (forward available, possibly several) has no place.
_BALANCE_SLOTS = {
    "60F": "opening_booked",
    "60M": "opening_booked",
    "60": "opening_booked",
    "62F": "closing_booked",
    "62M": "closing_booked",
    "62": "closing_booked",
    "64": "closing_available",
}
_LIBRARY_TAGS: dict[str, Any] = {
    "60F": mt940.tags.FinalOpeningBalance(),
    "60M": mt940.tags.IntermediateOpeningBalance(),
    "60": mt940.tags.OpeningBalance(),
    "62F": mt940.tags.FinalClosingBalance(),
    "62M": mt940.tags.IntermediateClosingBalance(),
    "62": mt940.tags.ClosingBalance(),
    "64": mt940.tags.AvailableBalance(),
    "61": mt940.tags.Statement(),
    "28C": mt940.tags.StatementNumber(),
    "13D": mt940.tags.DateTimeIndication(),
}
_LIBRARY_TAGS["28"] = _LIBRARY_TAGS["28C"]
_LIBRARY_TAGS["13"] = _LIBRARY_TAGS["13D"]


@dataclass(frozen=True, slots=True)
class _Field:
    tag: str
    value: str  # continuation lines joined by newlines
    line: int

    @property
    def where(self) -> str:
        return f"line {self.line}"


@dataclass(slots=True)
class _Message:
    line: int  # of its :20:
    message_type: str | None  # "940", from block 2 when the file has SWIFT headers
    fields: list[_Field] = field(default_factory=list)


@dataclass(slots=True)
class _Entry:
    line: _Field
    details: list[_Field] = field(default_factory=list)


@dataclass(slots=True)
class _Collected:
    singles: dict[str, _Field] = field(default_factory=dict)
    balances: dict[str, _Field] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)


def parse_swift(text: str) -> list[ParsedStatement]:
    """Every MT940 / MT950 / MT942 message of a file, in file order.

    Raises StatementParseError naming the line when the file is not such a message or a
    balance or statement line of it cannot be read."""
    messages = _split_messages(_clean_lines(text))
    if not messages:
        raise StatementParseError(
            "not a SWIFT MT940/MT950/MT942 message: no :20: transaction reference",
            location="line 1",
        )
    return [_statement(message) for message in messages]


def _clean_lines(text: str) -> list[str]:
    """The file's lines, CRLF or LF, without control characters or trailing blanks."""
    nul_count = text.count("\x00")
    if nul_count and nul_count >= len(text) * _NUL_SHARE:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise StatementParseError(
            "a binary file (NUL bytes), not a SWIFT message", location=f"line {line}"
        )
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [
        "".join(c if c == "\t" or unicodedata.category(c)[0] != "C" else "" for c in line)
        .replace("\t", " ")
        .rstrip()
        for line in text.split("\n")
    ]


def _split_messages(lines: list[str]) -> list[_Message]:
    messages: list[_Message] = []
    current: _Message | None = None
    message_type: str | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw
        if "{1:" in line or "{2:" in line or "{4:" in line:
            header = _BLOCK_2.search(line)
            message_type = header.group(1) if header else message_type
            current = None
            line = line.split("{4:", 1)[1] if "{4:" in line else ""
        if line.startswith("-") and (line.startswith("-}") or not line.strip("-")):
            current = None  # end of block 4: what follows (block 5, trailer) is not statement text
            continue
        if not line.strip():
            continue
        tag = _TAG.match(line)
        if tag and tag.group(1) == "20":
            current = _Message(line=number, message_type=message_type)
            message_type = None
            messages.append(current)
        if current is None:
            if tag:
                raise StatementParseError(
                    f"field :{tag.group(1)}: before any :20: transaction reference",
                    location=f"line {number}",
                )
            continue  # text between messages: headers, trailers, a bank's banner
        _add_line(current, number, line, tag)
    return messages


def _add_line(message: _Message, number: int, line: str, tag: re.Match[str] | None) -> None:
    if tag:
        message.fields.append(_Field(tag.group(1), line[tag.end() :], number))
        return
    last = message.fields[-1]
    message.fields[-1] = _Field(last.tag, f"{last.value}\n{line}", last.line)


def _statement(message: _Message) -> ParsedStatement:
    try:
        return _build(message)
    except StatementParseError:
        raise
    except _LIBRARY_ERRORS as exc:  # a safety net: every library call below is wrapped already
        raise StatementParseError(
            f"unreadable message: {exc}", location=f"line {message.line}"
        ) from exc


def _build(message: _Message) -> ParsedStatement:
    kind = _kind(message)
    collected = _collect(message.fields)
    balances = {slot: _balance(f) for slot, f in collected.balances.items()}
    currency = _currency(message, kind, collected, balances)
    statement_id = collected.singles["20"].value.strip()
    if not statement_id:
        raise StatementParseError(
            "empty :20: transaction reference", location=f"line {message.line}"
        )
    legal, page = _sequence(collected.singles.get("28C") or collected.singles.get("28"))
    created = collected.singles.get("13D") or collected.singles.get("13")
    return ParsedStatement(
        kind=kind,
        account=_account(collected.singles.get("25"), message),
        currency=currency,
        statement_id=statement_id,
        legal_sequence=legal,
        page=page,
        created_at=_created_at(created) if created else None,
        opening_booked=balances["opening_booked"][0] if "opening_booked" in balances else None,
        closing_booked=balances["closing_booked"][0] if "closing_booked" in balances else None,
        closing_available=balances["closing_available"][0]
        if "closing_available" in balances
        else None,
        entries=tuple(_entry(entry) for entry in collected.entries),
    )


def _kind(message: _Message) -> StatementKind:
    if message.message_type is not None:
        if message.message_type not in _KINDS:
            raise StatementParseError(
                f"MT{message.message_type} is not an MT940, MT950 or MT942 statement",
                location=f"line {message.line}",
            )
        return _KINDS[message.message_type]
    if any(f.tag in _REPORT_TAGS for f in message.fields):
        return StatementKind.REPORT
    return StatementKind.STATEMENT


def _collect(fields: list[_Field]) -> _Collected:
    """The message's fields by role; an :86: belongs to the :61: it follows, if any."""
    collected = _Collected()
    in_entry = False
    for f in fields:
        if f.tag == "61":
            collected.entries.append(_Entry(line=f))
            in_entry = True
        elif f.tag == "86":
            if in_entry:
                collected.entries[-1].details.append(f)
        elif f.tag in _BALANCE_SLOTS:
            collected.balances.setdefault(_BALANCE_SLOTS[f.tag], f)
            in_entry = False
        else:
            collected.singles.setdefault(f.tag, f)
            in_entry = False
    return collected


def _currency(
    message: _Message,
    kind: StatementKind,
    collected: _Collected,
    balances: dict[str, tuple[Balance, str, _Field]],
) -> str:
    """The one currency of the balances (or of :34F: / :90D: / :90C: in a report)."""
    where = f"line {message.line}"
    if "25" not in collected.singles:
        raise StatementParseError("no :25: account identification", location=where)
    if kind is StatementKind.STATEMENT:
        for slot, tag in (("opening_booked", ":60F:"), ("closing_booked", ":62F:")):
            if slot not in balances:
                raise StatementParseError(
                    f"no {tag} {slot.replace('_', ' ')} balance", location=where
                )
    currencies = [(cur, f) for _, cur, f in balances.values()] + _report_currencies(collected)
    if not currencies:
        raise StatementParseError("no currency: no balance, :34F: or :90D:/:90C:", location=where)
    currency = currencies[0][0]
    for other, f in currencies[1:]:
        if other != currency:
            raise StatementParseError(
                f"balance in {other} in a statement in {currency}", location=f.where
            )
    return currency


def _report_currencies(collected: _Collected) -> list[tuple[str, _Field]]:
    found: list[tuple[str, _Field]] = []
    for tag, pattern in (("34F", _CURRENCY_34F), ("90D", _CURRENCY_90), ("90C", _CURRENCY_90)):
        f = collected.singles.get(tag)
        match = pattern.match(f.value.strip()) if f else None
        if f and match:
            found.append((match.group(1), f))
    return found


def _balance(f: _Field) -> tuple[Balance, str, _Field]:
    value = f.value.strip()
    if not _BALANCE.fullmatch(value):
        raise StatementParseError(
            f"unreadable balance :{f.tag}: {value!r}: expected a D/C mark, a YYMMDD date, "
            "a currency and an amount with a decimal comma",
            location=f.where,
        )
    tag = _LIBRARY_TAGS[f.tag]
    try:
        built = next(iter(tag(_transactions(), tag.parse(_transactions(), value)).values()))
        amount = Decimal(built.amount.amount)
        day = date(built.date.year, built.date.month, built.date.day)
    except _LIBRARY_ERRORS as exc:
        raise StatementParseError(
            f"unreadable balance :{f.tag}: {value!r}: {exc}", location=f.where
        ) from exc
    return Balance(amount=_unsigned_zero(amount), date=day), value[7:10], f


def _unsigned_zero(amount: Decimal) -> Decimal:
    """A D0,00 balance or entry is zero, not minus zero."""
    return amount if amount else abs(amount)


def _transactions() -> Any:
    return mt940.models.Transactions(options=_OPTIONS)


def _account(f: _Field | None, message: _Message) -> str:
    """The IBAN or account number of :25:, without a leading ``BIC/``."""
    value = f.value.split("\n")[0].strip() if f else ""
    prefix, slash, rest = value.partition("/")
    if slash and _BIC.fullmatch(prefix):
        value = rest.strip()
    if _IBAN.fullmatch(value.replace(" ", "")):
        value = value.replace(" ", "")
    if not value:
        raise StatementParseError(
            "empty :25: account identification", location=f"line {message.line}"
        )
    return value


def _sequence(f: _Field | None) -> tuple[int | None, int | None]:
    """The statement number (legal sequence) and, if given, the page (:28C:'s sequence number)."""
    if f is None:
        return None, None
    try:
        parts = _LIBRARY_TAGS["28C"].parse(_transactions(), f.value.strip())
    except _LIBRARY_ERRORS as exc:
        raise StatementParseError(
            f"unreadable :{f.tag}: {f.value.strip()!r}", location=f.where
        ) from exc
    sequence = parts.get("sequence_number")
    return int(parts["statement_number"]), int(sequence) if sequence else None


def _created_at(f: _Field) -> datetime:
    """:13D: YYMMDDhhmm with its offset; a missing offset is read as UTC."""
    tag = _LIBRARY_TAGS["13D"]
    try:
        built = tag(_transactions(), tag.parse(_transactions(), f.value.strip()))["date"]
        offset = built.utcoffset()
    except _LIBRARY_ERRORS as exc:
        raise StatementParseError(
            f"unreadable :{f.tag}: {f.value.strip()!r}", location=f.where
        ) from exc
    zone = timezone(offset) if offset is not None else UTC
    return datetime(built.year, built.month, built.day, built.hour, built.minute, tzinfo=zone)


def _entry(entry: _Entry) -> ParsedEntry:
    f = entry.line
    raw = _entry_fields(f)
    mark = str(raw["status"]).upper()
    credit = mark in {"C", "RD"}
    references = _entry_references(raw)
    details = read_details("\n".join(d.value for d in entry.details)) if entry.details else None
    if details:
        references.update(details.references)
    return ParsedEntry(
        amount=raw["signed_amount"],
        credit_debit=CreditDebit.CREDIT if credit else CreditDebit.DEBIT,
        reversal=mark.startswith("R"),
        booking_date=raw["booking_date"],
        value_date=raw["value_date"],
        bank_transaction_code=(raw.get("id") or "").strip().upper() or None,
        references=references,
        remittance_information=details.remittance_information if details else None,
        counterparty_name=details.counterparty_name if details else None,
        counterparty_account=details.counterparty_account if details else None,
    )


def _entry_fields(f: _Field) -> dict[str, Any]:
    """The library's reading of a :61:, with the signed amount and plain dates added."""
    if not _ENTRY_START.match(f.value):
        raise StatementParseError(
            f"unreadable :61: {f.value.splitlines()[0]!r}: expected a YYMMDD value date, an "
            "optional MMDD entry date, a D/C/RD/RC mark and an amount with a decimal comma",
            location=f.where,
        )
    tag = _LIBRARY_TAGS["61"]
    transactions = _transactions()
    try:
        raw = mt940.processors.date_fixup_pre_processor(
            transactions, tag, tag.parse(transactions, f.value)
        )
        built = tag(transactions, raw)
        entry = built.get("entry_date")
        built["signed_amount"] = _unsigned_zero(Decimal(built["amount"].amount))
        built["value_date"] = date(built["date"].year, built["date"].month, built["date"].day)
        built["booking_date"] = date(entry.year, entry.month, entry.day) if entry else None
    except _LIBRARY_ERRORS as exc:
        raise StatementParseError(
            f"unreadable :61: {f.value.splitlines()[0]!r}: {exc}", location=f.where
        ) from exc
    return dict(built)


def _entry_references(raw: dict[str, Any]) -> dict[str, str]:
    references: dict[str, str] = {}
    values = {
        "customer_reference": raw.get("customer_reference"),
        "account_servicer_reference": raw.get("bank_reference"),
        "supplementary_details": raw.get("extra_details"),
        "funds_code": raw.get("funds_code"),
    }
    for key, value in values.items():
        text = (value or "").strip()
        if text and text.upper() != "NONREF":
            references[key] = text
    return references
