"""The outbox: events written with the change that caused them; delivery reads them later."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core.ids import new_id
from app.events import repository


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


def append_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append ``outbox_row`` rows in the caller's transaction (a synchronous session: the audit
    trail writes them beside its own records, just before the commit)."""
    repository.insert_events(session, rows)
