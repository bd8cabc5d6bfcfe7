"""The journal (append-only entries and their postings) and pending entries (two-phase)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ROW_ID, ExactDecimal, UTCDateTime


class JournalEntry(Base):
    """One balanced movement. Never updated or deleted: a correction is a reversal entry."""

    __tablename__ = "journal_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The first day on whose close the book showed the entry: the later of its value date and
    # the day it was booked.
    accounting_date: Mapped[date] = mapped_column(Date)
    # The effective date, from which as-of views count the entry: trade date, settlement date,
    # the adjustment's value date.
    value_date: Mapped[date] = mapped_column(Date)
    # A trade's execution time: the order of cost and realised P&L within a position.
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    description: Mapped[str] = mapped_column(String(500))
    source_type: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(40), index=True)
    reverses_id: Mapped[str | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True, default=None
    )
    pending_id: Mapped[str | None] = mapped_column(
        ForeignKey("pending_entries.id"), unique=True, default=None
    )
    # The booking time: known_at views count the entry from then.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index(None, "accounting_date", "id"),
        Index(None, "created_at"),
        # A day's movements on an account, as reconciliation expects them.
        Index(None, "value_date"),
    )


class Posting(Base):
    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    # The entry and the ledger account must exist: not foreign keys (a check per posting) but
    # one check per statement in the database (migration 0033a), as strict.
    entry_id: Mapped[str] = mapped_column(String(40))
    ledger_account: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(12))
    # Signed, debit positive.
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    # On a book's securities posting only: what the trade did to the position's cost basis and
    # realised P&L (instrument currency), so positions are sums of postings like everything else.
    cost: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    realized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)

    __table_args__ = (
        Index(None, "ledger_account", "asset"),
        # An entry's postings in order: PostgreSQL's zero-sum check at commit sums them by it.
        Index(None, "entry_id", "id"),
    )


class PendingEntry(Base):
    """An expected movement (a settlement due): posted or voided exactly once."""

    __tablename__ = "pending_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    expected_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500))
    source_type: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(40), index=True)
    opened_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    void_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    # After a partial posting, the pending entry opened for what is still expected.
    remainder_id: Mapped[str | None] = mapped_column(String(40), default=None)

    __table_args__ = (
        Index(None, "status", "expected_date"),
        # known_at views take back what was opened or resolved after the moment asked about.
        Index(None, "created_at"),
        Index(None, "resolved_at"),
    )


class PendingPosting(Base):
    __tablename__ = "pending_postings"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    pending_id: Mapped[str] = mapped_column(ForeignKey("pending_entries.id"), index=True)
    ledger_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    asset: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
