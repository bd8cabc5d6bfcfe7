"""The outbox: events written with the change that caused them; delivery reads them later."""

from datetime import datetime
from typing import Any

from app.core.ids import new_id


def outbox_row(
    *,
    seq: int,
    event_type: str,
    entity_type: str,
    entity_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """An outbox event as a row, to insert with the change it reports."""
    return {
        "seq": seq,
        "event_id": new_id("evt"),
        "event_type": event_type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "occurred_at": now,
        "payload": payload,
        "published_at": None,
    }
