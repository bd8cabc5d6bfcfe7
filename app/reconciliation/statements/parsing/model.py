"""The one shape every statement format is parsed into: statements with their balances and
entries, exact decimals, amounts signed credit positive. Pure: no database."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class StatementKind(StrEnum):
    STATEMENT = "statement"  # camt.053, MT940, MT950: end of day, booked balances
    REPORT = "report"  # camt.052, MT942: intraday
    NOTIFICATION = "notification"  # camt.054: debit / credit notifications


class CreditDebit(StrEnum):
    CREDIT = "CRDT"
    DEBIT = "DBIT"


class EntryStatus(StrEnum):
    BOOKED = "booked"
    PENDING = "pending"
    INFORMATION = "information"


@dataclass(frozen=True, slots=True)
class Balance:
    amount: Decimal  # signed: negative is a debit (overdrawn) balance
    date: date


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    amount: Decimal  # signed, credit positive
    credit_debit: CreditDebit
    booking_date: date | None
    value_date: date | None
    status: EntryStatus = EntryStatus.BOOKED
    bank_transaction_code: str | None = None
    # end_to_end_id, account_servicer_reference, instruction_id, uetr, customer_reference, ...
    references: dict[str, str] = field(default_factory=dict)
    remittance_information: str | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    reversal: bool = False  # MT940 RC / RD, camt RvslInd: undoes an earlier entry


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    kind: StatementKind
    account: str  # IBAN or the bank's account number
    currency: str
    statement_id: str
    electronic_sequence: int | None = None
    legal_sequence: int | None = None
    # MT940 / MT950 / MT942 :28C: sequence number: the page of a statement sent in several
    # messages (the same statement number), not a statement sequence.
    page: int | None = None
    created_at: datetime | None = None
    opening_booked: Balance | None = None
    closing_booked: Balance | None = None
    opening_available: Balance | None = None
    closing_available: Balance | None = None
    entries: tuple[ParsedEntry, ...] = ()


class StatementParseError(ValueError):
    """A file that cannot be parsed, with where: a line number or an element path."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location
