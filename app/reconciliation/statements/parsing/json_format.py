"""Statements as JSON, the service's own format: amounts as strings holding exact decimals
(JSON integers accepted), signed credit positive, dates ``YYYY-MM-DD``. Pure: no database.

    {"statements": [{"account": "DE89...", "currency": "EUR", "statement_id": "2026-11-25",
      "sequence": 330, "opening_balance": {"amount": "1000.00", "date": "2026-11-24"},
      "closing_balance": {"amount": "1500.00", "date": "2026-11-25"},
      "entries": [{"amount": "500.00", "booking_date": "2026-11-25", "value_date": "2026-11-25",
                   "status": "booked", "references": {"end_to_end_id": "E2E-1"},
                   "remittance_information": "...", "counterparty": {"name": "...",
                   "account": "..."}}]}]}
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    EntryStatus,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)


def _no_floats(value: object) -> object:
    # A JSON number with a fraction has already lost exactness: amounts come as strings.
    if isinstance(value, float):
        raise ValueError("amounts are strings holding exact decimals (or integers), not floats")
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_floats), Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Balance(_Strict):
    amount: Amount
    date: date


class _Counterparty(_Strict):
    name: str | None = None
    account: str | None = None


class _Entry(_Strict):
    amount: Amount
    booking_date: date | None = None
    value_date: date | None = None
    status: EntryStatus = EntryStatus.BOOKED
    bank_transaction_code: str | None = None
    references: dict[str, str] = Field(default_factory=dict)
    remittance_information: str | None = None
    counterparty: _Counterparty = Field(default_factory=_Counterparty)


class _Statement(_Strict):
    kind: StatementKind = StatementKind.STATEMENT
    account: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    statement_id: str = Field(min_length=1)
    sequence: int | None = Field(default=None, ge=0)
    electronic_sequence: int | None = Field(default=None, ge=0)
    created_at: datetime | None = None
    opening_balance: _Balance | None = None
    closing_balance: _Balance | None = None
    opening_available: _Balance | None = None
    closing_available: _Balance | None = None
    entries: list[_Entry]


class _File(_Strict):
    statements: list[_Statement] = Field(min_length=1)


def _balance(balance: _Balance | None) -> Balance | None:
    return Balance(balance.amount, balance.date) if balance is not None else None


def _entry(entry: _Entry) -> ParsedEntry:
    return ParsedEntry(
        amount=entry.amount,
        credit_debit=CreditDebit.CREDIT if entry.amount >= 0 else CreditDebit.DEBIT,
        booking_date=entry.booking_date,
        value_date=entry.value_date or entry.booking_date,
        status=entry.status,
        bank_transaction_code=entry.bank_transaction_code,
        references=dict(entry.references),
        remittance_information=entry.remittance_information,
        counterparty_name=entry.counterparty.name,
        counterparty_account=entry.counterparty.account,
    )


def _statement(statement: _Statement) -> ParsedStatement:
    created = statement.created_at
    if created is not None and created.tzinfo is None:
        raise StatementParseError("created_at needs a UTC offset", location="created_at")
    return ParsedStatement(
        kind=statement.kind,
        account=statement.account,
        currency=statement.currency,
        statement_id=statement.statement_id,
        electronic_sequence=statement.electronic_sequence,
        legal_sequence=statement.sequence,
        created_at=created,
        opening_booked=_balance(statement.opening_balance),
        closing_booked=_balance(statement.closing_balance),
        opening_available=_balance(statement.opening_available),
        closing_available=_balance(statement.closing_available),
        entries=tuple(_entry(entry) for entry in statement.entries),
    )


def parse_json(data: bytes | str) -> list[ParsedStatement]:
    try:
        parsed = _File.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise StatementParseError(first["msg"], location=where) from None
    return [_statement(statement) for statement in parsed.statements]
