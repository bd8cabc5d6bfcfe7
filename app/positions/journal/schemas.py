"""API models of the journal: entries and their postings."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.core.money import DecimalStr
from app.positions.journal.entries import EntryKind


class PostingOut(BaseModel):
    ledger_account: str
    asset: str = Field(description="An ISIN or a currency.")
    amount: DecimalStr = Field(description="Signed, debit positive.")
    cost: DecimalStr | None = None
    realized_pnl: DecimalStr | None = None


class JournalEntryOut(BaseModel):
    id: str
    kind: EntryKind
    accounting_date: date = Field(
        description="The first day on whose close the book showed the entry: the later of its "
        "value date and the day it was booked."
    )
    value_date: date = Field(
        description="The effective date the entry counts from in `as_of` views: trade date, "
        "settlement date or value date."
    )
    effective_at: datetime | None = Field(
        description="When within its value date the entry took effect (a trade's execution "
        "time): cost and realised P&L follow this order, not the booking order."
    )
    description: str
    source_type: str | None
    source_id: str | None
    reverses_id: str | None
    reversed_by: str | None
    pending_id: str | None
    created_at: datetime = Field(
        description="When it was booked: `known_at` views count it from then."
    )
    created_by: str
    postings: list[PostingOut]
