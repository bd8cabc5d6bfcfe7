"""The outbound queue: one row per message sent (or to send) to a depository. The content is
written once and never changed; only the delivery status moves on."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instruction_id: Mapped[str] = mapped_column(
        ForeignKey("settlement_instructions.id"), index=True
    )
    # ``new`` instructs; ``cancel`` withdraws the message named by ``related_reference``.
    kind: Mapped[str] = mapped_column(String(8))
    # The message definition written: sese.023.001.11, sese.020.001.07, MT540 ... MT543.
    format: Mapped[str] = mapped_column(String(20))
    # Our SEME: what every advice about it names (app.settlement.outbound.references).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    related_reference: Mapped[str | None] = mapped_column(String(16), default=None)
    content: Mapped[str] = mapped_column(Text)
    # pending -> claimed -> sent -> acknowledged | rejected (the depository's processing status).
    status: Mapped[str] = mapped_column(String(12))
    # The depository's reasons for its processing status: [{"code", "text"}].
    status_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The API key id of the gateway that claimed it.
    claimed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    advised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index(None, "status", "created_at", "id"),)
