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
