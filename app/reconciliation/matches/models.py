"""Matches of statement lines with book movements, and the items each holds: an item is in at
most one active match, and the database says so (a unique key per item)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class ReconciliationMatch(Base):
    """Statement lines (entries of stored statements) and book movements (journal entries)
    that explain each other, put together by a rule of a run or by hand."""

    __tablename__ = "reconciliation_matches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account: Mapped[str] = mapped_column(String(40))
    value_date: Mapped[date] = mapped_column(Date)
    # The rule's name, or "manual".
    rule: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))  # active | unmatched
    # The sorted line and movement ids: the same items give the same key.
    key: Mapped[str] = mapped_column(String(2000))
    statement_entry_ids: Mapped[list[str]] = mapped_column(JSON)
    movement_ids: Mapped[list[str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    # The lines' sum less the movements', and the widest value-date gap in calendar days.
    amount_difference: Mapped[Decimal] = mapped_column(ExactDecimal())
    value_date_difference: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(40), default=None)
    comment: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    unmatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    unmatched_by: Mapped[str | None] = mapped_column(String(64), default=None)
    unmatch_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index(None, "account", "value_date", "status"),)


class MatchedItem(Base):
    """One statement line or book movement held by an active match. Deleted when the match is
    undone, so the item can be matched again; never two rows for one item."""

    __tablename__ = "matched_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_kind: Mapped[str] = mapped_column(String(10))  # line | movement
    item_id: Mapped[str] = mapped_column(String(40))
    match_id: Mapped[str] = mapped_column(ForeignKey("reconciliation_matches.id"), index=True)

    __table_args__ = (UniqueConstraint("item_kind", "item_id"),)
