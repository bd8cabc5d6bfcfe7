"""Statement mappings: create, replace under ``If-Match``, read (audited); a mapping by name as
the ``CsvMapping`` value the CSV parser reads with."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageRequest
from app.core.snapshots import row_snapshot
from app.core.versioning import check_version
from app.reconciliation.mappings import repository
from app.reconciliation.mappings.models import StatementMapping
from app.reconciliation.mappings.schemas import (
    StatementMappingFields,
    StatementMappingIn,
    StatementMappingOut,
)
from app.reconciliation.statements.parsing.csv_mapped import CsvMapping

ENTITY = "statement_mapping"


@dataclass(frozen=True)
class NamedMapping:
    """A stored mapping as the statements service reads a file with it."""

    name: str
    version: int
    mapping: CsvMapping


def _values(data: StatementMappingFields) -> dict[str, object]:
    return data.model_dump(exclude={"name"})


async def create_mapping(
    session: AsyncSession, *, data: StatementMappingIn, actor: Actor, now: datetime
) -> StatementMapping:
    data.check_reads()
    if await repository.get(session, data.name) is not None:
        raise Conflict(f"The statement mapping '{data.name}' already exists.", name=data.name)
    mapping = StatementMapping(
        name=data.name, **_values(data), version=1, created_at=now, updated_at=now
    )
    await repository.add(session, mapping)
    await _record(session, mapping, "created", None, actor=actor, now=now)
    return mapping


async def replace_mapping(
    session: AsyncSession,
    *,
    name: str,
    data: StatementMappingFields,
    version: int,
    actor: Actor,
    now: datetime,
) -> StatementMapping:
    """Every field replaced at ``version`` (412 when stale); a new version unless nothing
    changed."""
    data.check_reads()
    mapping = _found(await repository.get(session, name, lock=True), name)
    check_version(current=mapping.version, expected=version, what=f"statement mapping '{name}'")
    values = _values(data)
    if all(getattr(mapping, field) == value for field, value in values.items()):
        return mapping
    before = row_snapshot(mapping)
    for field, value in values.items():
        setattr(mapping, field, value)
    mapping.version += 1
    mapping.updated_at = now
    await _record(session, mapping, "replaced", before, actor=actor, now=now)
    return mapping


async def _record(
    session: AsyncSession,
    mapping: StatementMapping,
    action: str,
    before: dict[str, object] | None,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=mapping.name,
        action=action,
        before=before,
        after=row_snapshot(mapping),
        now=now,
    )


def _found(mapping: StatementMapping | None, name: str) -> StatementMapping:
    if mapping is None:
        raise NotFound(f"No statement mapping '{name}'.")
    return mapping


async def get_mapping(
    session: AsyncSession, *, name: str, as_of: datetime | None = None
) -> StatementMapping:
    """The mapping now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await row_as_of(
            session, StatementMapping, entity_type=ENTITY, entity_id=name, as_of=as_of
        )
    return _found(await repository.get(session, name), name)


async def list_mappings(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[StatementMapping], str | None]:
    return await repository.page(session, page)


# For the statements service ---------------------------------------------------------------------


async def find_mapping(session: AsyncSession, *, name: str) -> NamedMapping | None:
    """The mapping of that name as the CSV parser reads with it, or None."""
    row = await repository.get(session, name)
    if row is None:
        return None
    fields = StatementMappingOut.model_validate(row)
    return NamedMapping(row.name, row.version, fields.csv_mapping())
