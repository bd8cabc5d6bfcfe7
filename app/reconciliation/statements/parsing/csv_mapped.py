"""CSV statements read through a named column mapping (kept as data, ``/statement-mappings``):
which header holds which field, the delimiter, the decimal separator, the date format and how
credits and debits are told apart. One row per entry; rows group into statements by account
and statement id. Pure: no database."""

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)

# The fields a mapping can name; ``amount`` or both ``credit`` and ``debit`` must be mapped.
FIELDS = (
    "account",
    "currency",
    "statement_id",
    "sequence",
    "booking_date",
    "value_date",
    "amount",
    "credit",
    "debit",
    "credit_debit",
    "bank_transaction_code",
    "end_to_end_id",
    "account_servicer_reference",
    "remittance_information",
    "counterparty_name",
    "counterparty_account",
    "opening_balance",
    "closing_balance",
)
_REFERENCES = ("end_to_end_id", "account_servicer_reference")


@dataclass(frozen=True)
class CsvMapping:
    """How one bank's CSV reads. ``columns`` maps a field of ``FIELDS`` to its header."""

    columns: Mapping[str, str]
    delimiter: str = ","
    decimal_separator: str = "."
    thousands_separator: str = ""
    date_format: str = "%Y-%m-%d"
    currency: str | None = None  # when the file has no currency column
    encoding: str = "utf-8"
    # With a ``credit_debit`` column: the values that mean a credit (anything else: a debit).
    credit_values: frozenset[str] = field(default_factory=lambda: frozenset({"C", "CR", "CRDT"}))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown fields in the mapping: {', '.join(unknown)}")
        for needed in ("account", "booking_date"):
            if needed not in self.columns:
                raise ValueError(f"the mapping must name the '{needed}' column")
        if "amount" not in self.columns and not {"credit", "debit"} <= set(self.columns):
            raise ValueError("the mapping must name 'amount', or both 'credit' and 'debit'")
        if "currency" not in self.columns and self.currency is None:
            raise ValueError("the mapping must name the 'currency' column or give a currency")


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    mapping: CsvMapping

    def text(self, name: str) -> str | None:
        header = self.mapping.columns.get(name)
        value = self.values.get(header, "").strip() if header else ""
        return value or None

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise StatementParseError(f"'{self.mapping.columns[name]}' is empty", location=self.at)
        return value

    @property
    def at(self) -> str:
        return f"line {self.line}"

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        cleaned = value.replace(self.mapping.thousands_separator or "\0", "").replace(" ", "")
        cleaned = cleaned.replace(self.mapping.decimal_separator, ".")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise StatementParseError(
                f"'{value}' in '{self.mapping.columns[name]}' is not an amount", location=self.at
            ) from None
        if not number.is_finite():
            raise StatementParseError(f"'{value}' is not an amount", location=self.at)
        return number

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return datetime.strptime(value, self.mapping.date_format).date()  # noqa: DTZ007
        except ValueError:
            raise StatementParseError(
                f"'{value}' in '{self.mapping.columns[name]}' is not a date "
                f"({self.mapping.date_format})",
                location=self.at,
            ) from None


def _signed_amount(row: _Row) -> Decimal:
    if "amount" in row.mapping.columns:
        amount = row.decimal("amount")
        if amount is None:
            raise StatementParseError("the amount is empty", location=row.at)
        indicator = row.text("credit_debit")
        if indicator is None:
            return amount
        return abs(amount) if indicator.upper() in row.mapping.credit_values else -abs(amount)
    credit, debit = row.decimal("credit"), row.decimal("debit")
    if (credit is None) == (debit is None):
        raise StatementParseError("exactly one of credit and debit must be filled", location=row.at)
    return abs(credit) if credit is not None else -abs(debit or Decimal(0))


def _entry(row: _Row) -> ParsedEntry:
    amount = _signed_amount(row)
    references = {name: value for name in _REFERENCES if (value := row.text(name)) is not None}
    return ParsedEntry(
        amount=amount,
        credit_debit=CreditDebit.CREDIT if amount >= 0 else CreditDebit.DEBIT,
        booking_date=row.day("booking_date"),
        value_date=row.day("value_date") or row.day("booking_date"),
        bank_transaction_code=row.text("bank_transaction_code"),
        references=references,
        remittance_information=row.text("remittance_information"),
        counterparty_name=row.text("counterparty_name"),
        counterparty_account=row.text("counterparty_account"),
    )


def _rows(text: str, mapping: CsvMapping) -> Iterator[_Row]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=mapping.delimiter)
    headers = set(reader.fieldnames or ())
    missing = sorted(h for h in mapping.columns.values() if h not in headers)
    if missing:
        raise StatementParseError(
            f"no column {', '.join(missing)} in the header", location="line 1"
        )
    for row in reader:
        if None in row:
            raise StatementParseError(
                "more fields than the header names", location=f"line {reader.line_num}"
            )
        if any((value or "").strip() for value in row.values()):
            yield _Row(reader.line_num, {k: v or "" for k, v in row.items()}, mapping)


def _statement(rows: list[_Row]) -> ParsedStatement:
    first, last = rows[0], rows[-1]
    entries = tuple(_entry(row) for row in rows)
    days = [e.booking_date for e in entries if e.booking_date is not None]
    currency = first.text("currency") or first.mapping.currency
    assert currency is not None  # the mapping checks a currency column or a default
    opening, closing = first.decimal("opening_balance"), last.decimal("closing_balance")
    sequence = first.text("sequence")
    return ParsedStatement(
        kind=StatementKind.STATEMENT,
        account=first.required("account"),
        currency=currency.upper(),
        statement_id=first.text("statement_id") or f"{min(days)}..{max(days)}",
        legal_sequence=int(sequence) if sequence and sequence.isdigit() else None,
        opening_booked=Balance(opening, min(days)) if opening is not None else None,
        closing_booked=Balance(closing, max(days)) if closing is not None else None,
        entries=entries,
    )


def parse_csv(text: str, mapping: CsvMapping) -> list[ParsedStatement]:
    """Every statement of the file, in the order their first rows come."""
    grouped: dict[tuple[str, str | None], list[_Row]] = {}
    for row in _rows(text, mapping):
        grouped.setdefault((row.required("account"), row.text("statement_id")), []).append(row)
    if not grouped:
        raise StatementParseError("the file has no entries", location="line 2")
    return [_statement(rows) for rows in grouped.values()]
