"""Writing the outbox table: the one statement that appends events."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.core.db import table_of
from app.events.models import OutboxEvent


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    session.execute(insert(table_of(OutboxEvent)), rows)
