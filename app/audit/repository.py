"""Every query of audit records that compliance reads."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.core.pagination import PageRequest, fetch_page


@dataclass(frozen=True)
class AuditFilter:
    """Which records to list; every field left None matches all. ``occurred_from`` is
    inclusive, ``occurred_to`` exclusive, so consecutive windows neither overlap nor miss."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor_key_id: str | None = None
    actor_role: str | None = None
    action: str | None = None
    request_id: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def _readable() -> Select[Any]:
    # Readers page by ``seq``: every record they may see has its final place in the chain, so
    # a cursor never skips a record (once a sealer numbers the chain, only sealed records).
    return select(AuditRecord)


def _filtered(wanted: AuditFilter) -> Select[Any]:
    statement = _readable()
    equal_to = {
        AuditRecord.entity_type: wanted.entity_type,
        AuditRecord.entity_id: wanted.entity_id,
        AuditRecord.actor_key_id: wanted.actor_key_id,
        AuditRecord.actor_role: wanted.actor_role,
        AuditRecord.action: wanted.action,
        AuditRecord.request_id: wanted.request_id,
    }
    for column, value in equal_to.items():
        if value is not None:
            statement = statement.where(column == value)
    if wanted.occurred_from is not None:
        statement = statement.where(AuditRecord.occurred_at >= wanted.occurred_from)
    if wanted.occurred_to is not None:
        statement = statement.where(AuditRecord.occurred_at < wanted.occurred_to)
    return statement


async def page_of_records(
    session: AsyncSession, *, wanted: AuditFilter, page: PageRequest
) -> tuple[Sequence[AuditRecord], str | None]:
    """The records ``wanted`` asks for, in chain order, one page after the cursor."""
    return await fetch_page(session, _filtered(wanted), AuditRecord.seq, page)


async def entity_has_records(session: AsyncSession, *, entity_type: str, entity_id: str) -> bool:
    statement = (
        _readable()
        .with_only_columns(AuditRecord.seq)
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
        .limit(1)
    )
    return (await session.scalar(statement)) is not None
