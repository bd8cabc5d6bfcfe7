"""The journal (append-only), pending postings (two-phase) and the running balances."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime

# SQLite gives an automatic rowid only to an INTEGER PRIMARY KEY.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


class LedgerAccount(Base):
    """Where an asset sits or is owed: a book, a safekeeping or cash account, a counterparty,
    or one of the fixed accounts (commission, fees, penalties, write-offs, suspense, equity)."""

    __tablename__ = "ledger_accounts"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The book, account or counterparty the ledger account stands for, if any.
    reference: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JournalEntry(Base):
    """One balanced movement. Never updated or deleted: a correction is a reversal entry."""

    __tablename__ = "journal_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The day the entry counts in the book: never a day that had already begun when it was
    # posted, so an answer "as of" an earlier day never changes.
    accounting_date: Mapped[date] = mapped_column(Date)
    # The economic date: trade date, settlement date, the adjustment's value date.
    value_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500))
    source_type: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(40), index=True)
    reverses_id: Mapped[str | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True, default=None
    )
    pending_id: Mapped[str | None] = mapped_column(
        ForeignKey("pending_entries.id"), unique=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index(None, "accounting_date", "id"),)


class Posting(Base):
    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"))
    ledger_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    asset: Mapped[str] = mapped_column(String(12))
    # Signed, debit positive.
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    # On a book's securities posting only: what the trade did to the position's cost basis and
    # realised P&L (instrument currency), so positions are sums of postings like everything else.
    cost: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    realized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)

    __table_args__ = (
        Index(None, "ledger_account", "asset"),
        # An entry's postings in order: PostgreSQL's balance trigger finds the last one by it.
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

    __table_args__ = (Index(None, "status", "expected_date"),)


class PendingPosting(Base):
    __tablename__ = "pending_postings"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    pending_id: Mapped[str] = mapped_column(ForeignKey("pending_entries.id"), index=True)
    ledger_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    asset: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())


class LedgerBalance(Base):
    """The running totals of one (ledger account, asset): every posting so far.

    Writers lock this row before they change it or its daily rows, so the totals are always the
    sum of the postings (``/ledger/check`` proves it)."""

    __tablename__ = "ledger_balances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    asset: Mapped[str] = mapped_column(String(12))
    posted: Mapped[Decimal] = mapped_column(ExactDecimal())
    pending: Mapped[Decimal] = mapped_column(ExactDecimal())
    cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())
    # The latest accounting date with a daily row.
    last_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("ledger_account", "asset"), Index(None, "asset"))


class LedgerBalanceDay(Base):
    """The totals at the end of each accounting date on which they changed: an as-of answer
    reads one row per balance instead of summing history."""

    __tablename__ = "ledger_balance_days"

    balance_id: Mapped[int] = mapped_column(ForeignKey("ledger_balances.id"), primary_key=True)
    as_of_date: Mapped[date] = mapped_column(Date, primary_key=True)
    posted: Mapped[Decimal] = mapped_column(ExactDecimal())
    pending: Mapped[Decimal] = mapped_column(ExactDecimal())
    cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())


class Adjustment(Base):
    """A manual entry under four-eyes: proposed by one operations key, approved by another."""

    __tablename__ = "adjustments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500))
    value_date: Mapped[date] = mapped_column(Date)
    # As proposed, and as they will be posted (ledger account codes, the opening offset added).
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    postings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_by_name: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_by_name: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    rejection_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"), default=None)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index(None, "status", "proposed_at"),)
