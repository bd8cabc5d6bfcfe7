"""Fixtures for the reference-data tests."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord

AuditLookup = Callable[[str], Awaitable[list[dict[str, Any]]]]
Counter = Callable[[], Awaitable[int]]

_AUDIT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_key_id",
    "actor_role",
    "actor_name",
    "request_id",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
    "event_type",
)


@pytest.fixture
def audit_of_request(session: AsyncSession) -> AuditLookup:
    """The audit records written under one X-Request-ID (each with the event it publishes).

    The read transaction is ended before returning: on SQLite every transaction takes the write
    lock (BEGIN IMMEDIATE), and an open one would block the next API call.
    """

    async def lookup(request_id: str) -> list[dict[str, Any]]:
        try:
            records = (
                await session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.request_id == request_id)
                    .order_by(AuditRecord.id)
                )
            ).all()
            return [{name: getattr(record, name) for name in _AUDIT_COLUMNS} for record in records]
        finally:
            await session.rollback()

    return lookup


@pytest.fixture
def audit_count(session: AsyncSession) -> Counter:
    """How many audit records exist (the read transaction is ended before returning)."""

    async def count() -> int:
        try:
            return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)
        finally:
            await session.rollback()

    return count
