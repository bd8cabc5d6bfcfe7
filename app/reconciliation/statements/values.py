"""The frozen values the statements service hands to the rest of reconciliation (matching,
balance checks): read straight from the columns, never ORM rows. Pure: no database."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementLine:
    """One booked entry of a bank statement, as the matching rules read it."""

    id: str
    statement: str  # our statement id (stm_...)
    account: str  # our cash account code
    line: int  # its place in the statement, from 1
    currency: str
    amount: Decimal  # signed, credit positive
    credit_debit: str  # CRDT or DBIT
    booking_date: date | None
    value_date: date | None
    bank_transaction_code: str | None
    end_to_end_id: str | None
    account_servicer_reference: str | None
    instruction_id: str | None
    uetr: str | None
    references: Mapping[str, str]  # every reference the bank gave, the four above included
    remittance_information: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    reversal: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosingBalance:
    """The closing booked balance of an account's statement for a day."""

    statement: str  # our statement id (stm_...)
    account: str
    currency: str
    amount: Decimal  # signed: negative is overdrawn
    date: date
