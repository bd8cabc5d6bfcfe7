"""API models for positions, cash balances, the journal, adjustments and the ledger check."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.money import DecimalStr
from app.core.text import PrintableStr
from app.positions.accounts import LedgerKind
from app.positions.entries import EntryKind
from app.positions.states import AdjustmentStatus


class Basis(StrEnum):
    TRADE_DATE = "trade_date"
    SETTLEMENT_DATE = "settlement_date"


class PositionOut(BaseModel):
    basis: Basis
    ledger_account: str
    book: str | None = Field(description="Trade-date basis: the book.")
    account: str | None = Field(description="Settlement-date basis: the safekeeping account.")
    isin: str
    quantity: DecimalStr = Field(description="Negative when short.")
    pending: DecimalStr | None = Field(
        description="Settlement-date basis: expected deliveries (+) and receipts not yet settled."
    )
    currency: str | None = Field(description="The instrument's currency.")
    average_cost: DecimalStr | None = Field(
        description="Trade-date basis: weighted average price, in the instrument's price terms "
        "(percent of nominal for bonds); null when flat."
    )
    cost: DecimalStr | None = Field(
        description="Trade-date basis: the cost basis (negative for a short: what it brought in)."
    )
    realized_pnl: DecimalStr | None = Field(description="Trade-date basis: realised on sells.")
    as_of: date


class CashBalanceOut(BaseModel):
    ledger_account: str
    account: str
    currency: str
    settled: DecimalStr
    pending: DecimalStr = Field(description="Expected movements not yet settled or voided.")
    projected: DecimalStr = Field(description="Settled plus pending.")
    as_of: date


class PostingOut(BaseModel):
    ledger_account: str
    asset: str = Field(description="An ISIN or a currency.")
    amount: DecimalStr = Field(description="Signed, debit positive.")
    cost: DecimalStr | None = None
    realized_pnl: DecimalStr | None = None


class JournalEntryOut(BaseModel):
    id: str
    kind: EntryKind
    accounting_date: date = Field(description="The day the entry counts in the book.")
    value_date: date = Field(description="Trade date, settlement date or value date.")
    description: str
    source_type: str | None
    source_id: str | None
    reverses_id: str | None
    reversed_by: str | None
    pending_id: str | None
    created_at: datetime
    created_by: str
    postings: list[PostingOut]


class LedgerAccountOut(BaseModel):
    code: str
    kind: LedgerKind
    name: str
    reference: str | None
    created_at: datetime


class AdjustmentKind(StrEnum):
    OPENING = "opening"
    CORRECTION = "correction"
    WRITE_OFF = "write_off"


AccountRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AssetRef = Annotated[str, StringConstraints(min_length=3, max_length=12)]


class AdjustmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: AccountRef = Field(
        description="One of our accounts (`SEC-DTC`, `CASH-EUR`) or a ledger account code "
        "(`book:EQ-FLOW`, `counterparty:<LEI>`, `suspense`, ...)."
    )
    asset: AssetRef = Field(description="An ISIN or an ISO 4217 currency.")
    amount: DecimalStr = Field(
        description="Signed, debit positive: +100 on a safekeeping account is 100 more held "
        "there; a book's long position is a credit (-100 for a long of 100)."
    )
    cost: DecimalStr | None = Field(
        default=None,
        description="Only on a book's securities line, and required there: the cost basis the "
        "line brings, in the instrument's currency.",
    )


_EXAMPLE: dict[str, Any] = {
    "kind": "opening",
    "reason": "Opening inventory migrated from the legacy stock record",
    "lines": [
        {"account": "SEC-EB", "asset": "DE0001102614", "amount": "5000000"},
        {"account": "CASH-EUR", "asset": "EUR", "amount": "25000000.00"},
    ],
}


class AdjustmentIn(BaseModel):
    """A manual entry, posted only when a second operations key approves it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    kind: AdjustmentKind = Field(
        description="`opening` lines are offset per asset against `opening-equity`; "
        "`correction` and `write_off` lines must balance per asset themselves."
    )
    reason: Annotated[PrintableStr, StringConstraints(min_length=1, max_length=500)]
    value_date: date | None = Field(
        default=None, description="Defaults to today; a past date still counts from today."
    )
    lines: list[AdjustmentLineIn] = Field(min_length=1, max_length=500)


class AdjustmentLineOut(BaseModel):
    account: str
    asset: str
    amount: DecimalStr
    cost: DecimalStr | None = None


class AdjustmentOut(BaseModel):
    id: str
    kind: AdjustmentKind
    status: AdjustmentStatus
    reason: str
    value_date: date
    lines: list[AdjustmentLineOut] = Field(description="As proposed.")
    postings: list[PostingOut] = Field(description="What approval posts, offsets included.")
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    rejection_reason: str | None
    entry_id: str | None
    version: int


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[PrintableStr, StringConstraints(min_length=1, max_length=500)]


class LedgerProblemOut(BaseModel):
    kind: str
    detail: str
    entry_id: str | None
    ledger_account: str | None
    asset: str | None


class LedgerCheckOut(BaseModel):
    ok: bool
    entries_checked: int
    postings_checked: int
    balances_checked: int
    first_bad_entry_id: str | None = Field(description="The earliest entry found at fault.")
    problems: list[LedgerProblemOut] = Field(description="The first problems found (at most 50).")
