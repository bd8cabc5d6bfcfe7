from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ROW_ID, UTCDateTime


class WebhookSubscription(Base):
    """Where to send which events. The secret signs every delivery, so it is kept as given (a
    hash could not sign); it is shown once, at creation, and never in reads or the trail."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12))
    paused_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    # Failed attempts since the last delivered one: at the threshold the relay pauses it.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The chain head when the subscription was made: it receives the events sealed after it.
    from_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event to send to one subscription: ``generation`` 0 from the fan-out, 1, 2... for
    each redelivery. The unique key makes the fan-out safe to repeat."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(40), ForeignKey("webhook_subscriptions.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    generation: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A relay that claimed it sends it until then; past it (the relay died), another may.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(40), default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The key that asked for a redelivery; None for the fan-out.
    requested_by: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        UniqueConstraint("subscription_id", "seq", "generation"),
        # The relay's claim: pending deliveries that are due.
        Index(None, "status", "next_attempt_at"),
        # Ordered per entity: is an earlier delivery of this entity still pending?
        Index(
            "ix_webhook_deliveries_entity_order",
            "subscription_id",
            "entity_type",
            "entity_id",
            "status",
            "seq",
        ),
        # The delivery log, newest first.
        Index(None, "subscription_id", "id"),
    )


class WebhookAttempt(Base):
    """One try to deliver: when, how long, what the receiver answered, and when the next one
    is due (None once delivered)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(40), ForeignKey("webhook_deliveries.id"))
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("delivery_id", "number"),)


class RelayCursor(Base):
    """The one row saying how far the relay has fanned the feed out into deliveries."""

    __tablename__ = "webhook_relay_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
