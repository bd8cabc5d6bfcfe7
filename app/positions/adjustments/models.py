"""Adjustments: manual entries awaiting, or past, their four-eyes decision."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime


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
