"""Drift: rows changed behind the service's back.

Each audited entity's current row is compared with the after-image of its last audit record,
last by record id, sealed or not (a change committed a moment ago is legitimate; its record may
still wait for the sealer). The tables come from the wiring (``app.audited``): audit imports no
domain, so each table is described by an ``AuditedTable`` value.

Two passes per table, each a chunk at a time so memory stays flat whatever the table's size:
the rows in key order, each paired with its last record (one query per chunk): ``changed`` or
``unaudited``; then the audited entity ids in order, looking for rows that are gone although
their last record left them in place: ``deleted``.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.audit import repository
from app.core.snapshots import jsonable, row_snapshot

DRIFT_CHUNK = 500
# A mass update behind the service's back would otherwise make the answer as big as the table.
DRIFT_LIMIT = 1000

_KEY_PARSERS: dict[type, Any] = {
    str: str,
    int: int,
    date: date.fromisoformat,
    datetime: datetime.fromisoformat,
}


class DriftKind(StrEnum):
    CHANGED = "changed"  # the row differs from its last after-image
    DELETED = "deleted"  # the row is gone, its last record did not delete it
    UNAUDITED = "unaudited"  # the row exists, the trail has no record of it (or deleted it)


@dataclass(frozen=True)
class AuditedTable:
    """A table whose rows are entities of the trail: records of ``entity_type`` carry the row's
    after-image as ``row_snapshot(row, exclude=exclude)``, under the row's primary key (parts
    joined by ``/``) as entity id.

    ``unrecorded``: bookkeeping columns the service changes without a record (which run last
    tried an instruction); never compared. ``progress``: columns that move without a record
    while the last record leaves the entity with status ``progress_status`` (a run's counters
    between its chunks); compared once a later record closes that state.
    """

    entity_type: str
    model: type[Any]
    exclude: frozenset[str] = frozenset()
    unrecorded: frozenset[str] = frozenset()
    progress: frozenset[str] = frozenset()
    progress_status: str | None = None

    @property
    def key(self) -> tuple[InstrumentedAttribute[Any], ...]:
        return tuple(getattr(self.model, column.key) for column in self._key_columns())

    def _key_columns(self) -> tuple[Any, ...]:
        mapper = inspect(self.model)
        return tuple(mapper.get_property_by_column(column) for column in mapper.primary_key)

    def entity_id(self, key: Sequence[Any]) -> str:
        """The entity id of the row with primary key ``key`` (as records name it)."""
        return "/".join(str(jsonable(part)) for part in key)

    def key_of(self, entity_id: str) -> tuple[Any, ...] | None:
        """The primary key an entity id names; None if it names no possible row."""
        columns = [prop.columns[0] for prop in self._key_columns()]
        parts = entity_id.split("/", len(columns) - 1)
        if len(parts) != len(columns):
            return None
        try:
            return tuple(
                _KEY_PARSERS[column.type.python_type](part)
                for column, part in zip(columns, parts, strict=True)
            )
        except ValueError:
            return None

    def ignored(self, audited: Mapping[str, Any]) -> frozenset[str]:
        """Columns not compared with the after-image ``audited``."""
        if self.progress_status is not None and audited.get("status") == self.progress_status:
            return self.unrecorded | self.progress
        return self.unrecorded


@dataclass(frozen=True)
class Drift:
    """One entity whose row is not what its last audit record says. ``changed`` names the
    differing columns, with only their values; ``deleted`` shows the last after-image,
    ``unaudited`` the row."""

    entity_type: str
    entity_id: str
    kind: DriftKind
    fields: tuple[str, ...]
    audited: dict[str, Any] | None
    current: dict[str, Any] | None


@dataclass
class DriftReport:
    """The first ``DRIFT_LIMIT`` drifts found, and how many there are in all."""

    items: list[Drift] = field(default_factory=list)
    count: int = 0

    def add(self, drift: Drift) -> None:
        self.count += 1
        if len(self.items) < DRIFT_LIMIT:
            self.items.append(drift)


def compare(
    table: AuditedTable, entity_id: str, audited: dict[str, Any] | None, current: dict[str, Any]
) -> Drift | None:
    """How the row ``current`` drifted from its last after-image ``audited``, if it did.

    Only the columns both have are compared: a column added to the table after the record
    (a migration's new column) is not one the record can vouch for, until the entity's next
    change records it."""
    if audited is None:
        return Drift(table.entity_type, entity_id, DriftKind.UNAUDITED, (), None, current)
    names = (audited.keys() & current.keys()) - table.ignored(audited)
    differing = tuple(sorted(n for n in names if audited[n] != current[n]))
    if not differing:
        return None
    return Drift(
        table.entity_type,
        entity_id,
        DriftKind.CHANGED,
        differing,
        {name: audited[name] for name in differing},
        {name: current[name] for name in differing},
    )


async def find_drift(session: AsyncSession, tables: Iterable[AuditedTable]) -> DriftReport:
    """Every drift of every table (the first ``DRIFT_LIMIT`` shown), a chunk at a time. The
    caller gives the session one snapshot of the database (``core.db.read_snapshot``): a row
    and its record read a moment apart would otherwise disagree about a change committed in
    between."""
    report = DriftReport()
    for table in tables:
        await _rows_against_records(session, table, report)
        await _records_against_rows(session, table, report)
    return report


async def _rows_against_records(
    session: AsyncSession, table: AuditedTable, report: DriftReport
) -> None:
    key = table.key
    after: tuple[Any, ...] | None = None
    while True:
        rows = await repository.rows_in_key_order(
            session, table.model, key, after=after, limit=DRIFT_CHUNK, deferred=table.exclude
        )
        if not rows:
            return
        keyed = {table.entity_id([getattr(row, k.key) for k in key]): row for row in rows}
        last = await repository.last_after_images(
            session, entity_type=table.entity_type, entity_ids=list(keyed)
        )
        for entity_id, row in keyed.items():
            current = row_snapshot(row, exclude=table.exclude)
            drift = compare(table, entity_id, last.get(entity_id), current)
            if drift is not None:
                report.add(drift)
        after = tuple(getattr(rows[-1], k.key) for k in key)
        session.expunge_all()  # the chunk is done with: memory stays flat
        if len(rows) < DRIFT_CHUNK:
            return


async def _records_against_rows(
    session: AsyncSession, table: AuditedTable, report: DriftReport
) -> None:
    after: str | None = None
    while True:
        entities = await repository.audited_entities(
            session, entity_type=table.entity_type, after=after, limit=DRIFT_CHUNK
        )
        if not entities:
            return
        keys = {entity_id: table.key_of(entity_id) for entity_id, _ in entities}
        existing = await repository.existing_keys(
            session, table.key, [k for k in keys.values() if k is not None]
        )
        gone = {
            record_id: entity_id
            for entity_id, record_id in entities
            if keys[entity_id] is None or keys[entity_id] not in existing
        }
        if gone:
            afters = await repository.after_images(session, record_ids=list(gone))
            for record_id, entity_id in gone.items():
                audited = afters.get(record_id)
                if audited is not None:
                    report.add(
                        Drift(table.entity_type, entity_id, DriftKind.DELETED, (), audited, None)
                    )
        after = entities[-1][0]
        if len(entities) < DRIFT_CHUNK:
            return
