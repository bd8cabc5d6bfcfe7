"""API models of bank statements: the answer to a file received, the statements listed, one
statement with its entries."""

import datetime as dt
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.money import DecimalStr
from app.reconciliation.statements.models import BankStatement, StatementEntry
from app.reconciliation.statements.parsing.detect import StatementFormat
from app.reconciliation.statements.parsing.model import CreditDebit, EntryStatus, StatementKind


class FormatParam(StrEnum):
    """``?format=``: the parser's own names, and the SWIFT message types read as ``swift``."""

    CAMT = "camt"
    SWIFT = "swift"
    MT940 = "mt940"
    MT950 = "mt950"
    MT942 = "mt942"
    CSV = "csv"
    JSON = "json"

    @property
    def statement_format(self) -> StatementFormat:
        if self in (FormatParam.MT940, FormatParam.MT950, FormatParam.MT942):
            return StatementFormat.SWIFT
        return StatementFormat(self.value)


class Integrity(StrEnum):
    OK = "ok"
    BREAKS = "breaks"


class BalanceOut(BaseModel):
    amount: DecimalStr = Field(description="Signed: negative is a debit (overdrawn) balance.")
    date: dt.date

    @classmethod
    def of(cls, amount: Decimal | None, day: dt.date | None) -> "BalanceOut | None":
        return cls(amount=amount, date=day) if amount is not None and day is not None else None


class IntegrityBreakOut(BaseModel):
    kind: str = Field(
        examples=["does_not_add_up"],
        description="does_not_add_up, opening_not_previous_closing, sequence_gap, "
        "sequence_repeated or currency_changed.",
    )
    expected: str | None = Field(examples=["12000.00"])
    found: str | None = Field(examples=["12000.01"])
    message: str


IntegrityOut = Literal["ok"] | list[IntegrityBreakOut]


def _integrity(row: BankStatement) -> IntegrityOut:
    if not row.integrity_breaks:
        return "ok"
    return [IntegrityBreakOut.model_validate(found) for found in row.integrity_breaks]


_INTEGRITY = (
    '"ok", or what is wrong: opening + booked entries != closing, opening != the previous '
    "statement's closing, a gap or step back in the sequence, another currency."
)


class StatementSummary(BaseModel):
    """One stored statement, as a received file's answer and a list show it."""

    id: str = Field(examples=["stm_01kbx0m7d9r2j6f3q8w4e5t6y7"])
    account: str = Field(description="Our cash account code.", examples=["CASH-EUR"])
    kind: StatementKind
    statement_id: str = Field(description="The bank's id of the statement.")
    sequence: int | None = Field(
        description="The number continuity counts: the electronic sequence, else the legal one."
    )
    opening_balance: BalanceOut | None = Field(description="Opening booked balance.")
    closing_balance: BalanceOut | None = Field(description="Closing booked balance.")
    currency: str
    entries: int = Field(description="How many entries the statement has.")
    integrity: IntegrityOut = Field(description=_INTEGRITY)

    @classmethod
    def of(cls, row: BankStatement) -> "StatementSummary":
        return cls(
            id=row.id,
            account=row.account,
            kind=StatementKind(row.kind),
            statement_id=row.statement_id,
            sequence=row.sequence,
            opening_balance=BalanceOut.of(row.opening_booked_amount, row.opening_booked_date),
            closing_balance=BalanceOut.of(row.closing_booked_amount, row.closing_booked_date),
            currency=row.currency,
            entries=row.entry_count,
            integrity=_integrity(row),
        )


class StatementsReceived(BaseModel):
    items: list[StatementSummary] = Field(description="Each statement of the file, in order.")


class CounterpartyOut(BaseModel):
    name: str | None
    account: str | None


class EntryOut(BaseModel):
    id: str
    line: int = Field(description="Its place in the statement, from 1.")
    amount: DecimalStr = Field(description="Signed, credit positive.")
    credit_debit: CreditDebit
    booking_date: date | None
    value_date: date | None
    status: EntryStatus
    bank_transaction_code: str | None
    references: dict[str, str] = Field(
        description="end_to_end_id, account_servicer_reference, instruction_id, uetr and "
        "whatever else the bank gave, by name."
    )
    remittance_information: str | None
    counterparty: CounterpartyOut
    reversal: bool = Field(description="Undoes an earlier entry (MT940 RC/RD, camt RvslInd).")

    @classmethod
    def of(cls, row: StatementEntry) -> "EntryOut":
        return cls(
            id=row.id,
            line=row.line,
            amount=row.amount,
            credit_debit=CreditDebit(row.credit_debit),
            booking_date=row.booking_date,
            value_date=row.value_date,
            status=EntryStatus(row.status),
            bank_transaction_code=row.bank_transaction_code,
            references=row.references,
            remittance_information=row.remittance_information,
            counterparty=CounterpartyOut(
                name=row.counterparty_name, account=row.counterparty_account
            ),
            reversal=row.reversal,
        )


class StatementOut(BaseModel):
    """One stored statement with everything read from it."""

    id: str
    account: str
    account_identifier: str = Field(description="The IBAN or account number the bank gave.")
    kind: StatementKind
    format: StatementFormat
    statement_id: str
    sequence: int | None
    electronic_sequence: int | None
    legal_sequence: int | None
    page: int | None = Field(description="MT940: the page of a statement in several messages.")
    currency: str
    opening_balance: BalanceOut | None
    closing_balance: BalanceOut | None
    opening_available: BalanceOut | None
    closing_available: BalanceOut | None
    statement_date: date | None = Field(
        description="The day it is about: the closing balance's date, else its latest entry's."
    )
    created_at: datetime | None = Field(description="When the bank created it.")
    content_hash: str = Field(description="SHA-256 of its canonical content.")
    integrity: IntegrityOut = Field(description=_INTEGRITY)
    file_id: str = Field(description="The file it came in (kept as received).")
    received_at: datetime
    received_by: str
    entry_count: int
    entries: list[EntryOut]

    @classmethod
    def of(cls, row: BankStatement, entries: Sequence[StatementEntry]) -> "StatementOut":
        balances: dict[str, Any] = {
            f"{name}_{side}": BalanceOut.of(
                getattr(row, f"{name}_{side}_amount"), getattr(row, f"{name}_{side}_date")
            )
            for name in ("opening", "closing")
            for side in ("booked", "available")
        }
        return cls(
            id=row.id,
            account=row.account,
            account_identifier=row.account_identifier,
            kind=StatementKind(row.kind),
            format=StatementFormat(row.format),
            statement_id=row.statement_id,
            sequence=row.sequence,
            electronic_sequence=row.electronic_sequence,
            legal_sequence=row.legal_sequence,
            page=row.page,
            currency=row.currency,
            opening_balance=balances["opening_booked"],
            closing_balance=balances["closing_booked"],
            opening_available=balances["opening_available"],
            closing_available=balances["closing_available"],
            statement_date=row.statement_date,
            created_at=row.created_at,
            content_hash=row.content_hash,
            integrity=_integrity(row),
            file_id=row.file_id,
            received_at=row.received_at,
            received_by=row.received_by,
            entry_count=row.entry_count,
            entries=[EntryOut.of(entry) for entry in entries],
        )
