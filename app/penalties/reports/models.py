"""The depository's penalty reports received, each with its reconciliation against ours."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime


class PenaltyReportRow(Base):
    """One report as received. ``(sender, message_id)`` is unique: the same message again
    replays this row's answer."""

    __tablename__ = "penalty_reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The sender's BIC (11 characters), else the API key id of who posted it.
    sender: Mapped[str] = mapped_column(String(64))
    # The AppHdr's BizMsgIdr, else the report's id (RptId / report_id).
    message_id: Mapped[str] = mapped_column(String(35))
    report_id: Mapped[str] = mapped_column(String(35))
    report_date: Mapped[date | None] = mapped_column(Date, default=None)
    # "semt.044.001.01" or "json".
    source: Mapped[str] = mapped_column(String(20))
    # The body as received, and its SHA-256: the same message id with other content is refused.
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # The business days compared (ISO dates, ascending).
    days: Mapped[list[str]] = mapped_column(JSON)
    lines: Mapped[int] = mapped_column(Integer)  # the depository's lines read
    matched: Mapped[int] = mapped_column(Integer)  # comparisons that agree
    differing: Mapped[int] = mapped_column(Integer)  # differences listed
    # Every difference: [{"kind", "reference", "instruction_id", "day", "penalty_kind",
    # "ours", "theirs", "difference"}] (schemas.DifferenceOut).
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("sender", "message_id"), Index(None, "report_date", "id"))
