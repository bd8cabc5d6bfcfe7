"""Breaks: every difference between the book and the outside world, owned until explained; and
the comments operations leave on them."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class ReconciliationBreak(Base):
    """One difference. ``key`` names what differs (the kind and the items, a statement's
    integrity, an account's balance on a day, a holding): the same difference found again is
    the same break, never a second one."""

    __tablename__ = "reconciliation_breaks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # missing_in_book | missing_at_bank | amount_difference | value_date_difference |
    # integrity | balance | holdings
    kind: Mapped[str] = mapped_column(String(24))
    # open | explained | write_off_proposed | written_off | closed (by a later match)
    status: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(2000), unique=True)
    account: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    isin: Mapped[str | None] = mapped_column(String(12))
    # Signed from our side: cash for cash breaks, a quantity for holdings.
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    # The day its age counts from, and the value date of the reconciliation that found it.
    since: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(String(1000))
    statement_id: Mapped[str | None] = mapped_column(String(40), default=None)
    statement_entry_ids: Mapped[list[str]] = mapped_column(JSON)
    movement_ids: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    found_by_run: Mapped[str | None] = mapped_column(String(40), default=None)
    # explained | write_off | matched: how it ended, and what ended it (a match, an adjustment).
    resolution: Mapped[str | None] = mapped_column(String(20), default=None)
    resolution_note: Mapped[str | None] = mapped_column(String(1000), default=None)
    closed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    adjustment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index(None, "status", "account", "since"),
        Index(None, "account", "value_date"),
    )


class BreakComment(Base):
    __tablename__ = "break_comments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    break_id: Mapped[str] = mapped_column(ForeignKey("reconciliation_breaks.id"), index=True)
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
