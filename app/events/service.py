"""The outbox: events written with the change that caused them; delivery reads them later."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import new_id
from app.events.models import OutboxEvent


def enqueue_event(
    session: AsyncSession,
    *,
    seq: int,
    event_type: str,
    entity_type: str,
    entity_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxEvent:
    event = OutboxEvent(
        seq=seq,
        event_id=new_id("evt"),
        event_type=event_type,
        entity_type=entity_type,
        entity_id=entity_id,
        occurred_at=now,
        payload=payload,
    )
    session.add(event)
    return event
