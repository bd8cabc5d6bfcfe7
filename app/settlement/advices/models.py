"""Status advices received from the CSD or custodian: sese.024 / MT548 status, sese.025 /
MT544-547 confirmation."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class StatusAdvice(Base):
    """One accepted advice. ``(sender, message_id)`` is unique: message ids are unique per
    sender only; the same message again replays this row."""

    __tablename__ = "status_advices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(35))
    # The sender's BIC (11 characters), or the API key id for JSON sent without one.
    sender: Mapped[str] = mapped_column(String(64))
    # The reference the advice named (our SEME, or an instruction id); null before 0025i.
    reference: Mapped[str | None] = mapped_column(String(40), default=None)
    # Null for an exception about an unknown reference.
    instruction_id: Mapped[str | None] = mapped_column(ForeignKey("settlement_instructions.id"))
    # "sese.024" or "sese.025".
    message_type: Mapped[str] = mapped_column(String(8))
    # sese.024: the furthest block's status (acknowledged ... failing); sese.025:
    # partially_settled or settled; exception (kept for operations), then resolved.
    status: Mapped[str] = mapped_column(String(20))
    # The reasons of that block: [{"code", "text", "proprietary", "issuer"}].
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    settled_quantity: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    settled_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
    settlement_date: Mapped[date | None] = mapped_column(Date, default=None)
    # "json" or "xml" (the ISO 20022 message version read).
    source: Mapped[str] = mapped_column(String(20))
    # The advice as read (the same fields whichever format it came in).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SHA-256 of the advice as read: the same message id with other content is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The instruction as the advice left it: {"id", "status", "settled_quantity", ...}.
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))
    # Why it was kept for operations instead of applied (status exception or resolved).
    exception: Mapped[str | None] = mapped_column(String(1000), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    resolution: Mapped[str | None] = mapped_column(String(500), default=None)

    __table_args__ = (
        UniqueConstraint("sender", "message_id"),
        Index(None, "instruction_id", "id"),
        Index(None, "message_type", "id"),
        Index(None, "status", "id"),
    )
