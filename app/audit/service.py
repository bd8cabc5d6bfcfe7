"""Recording changes: one call writes the audit record and the outbox event together."""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.audit import repository
from app.audit.models import AuditRecord
from app.audit.repository import AuditFilter, SealedRecord
from app.core import bulk
from app.core.auth import Actor
from app.core.db import AUDIT_TRAIL
from app.core.errors import NotFound
from app.core.pagination import PageRequest
from app.core.snapshots import row_from_snapshot, row_snapshot
from app.core.states import next_state
from app.core.values import quick_init

_QUEUE, _QUEUED = "audit_queue", "audit_queued_changes"
# Queued changes written before the commit once this many wait (see ``record_changes``).
WRITE_QUEUED_AT = 10_000


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_state(session: Session, transaction: SessionTransaction) -> None:
    # The queued changes belong to one database transaction: never carry them into the next
    # (after a rollback, they are simply dropped).
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)
        session.info.pop(_QUEUED, None)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    _write_queued(session)


@quick_init
@dataclass(frozen=True)
class Change:
    """One change of one entity: what the audit record and the outbox event describe."""

    entity_type: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    event_type: str | None = None


@dataclass(frozen=True)
class _Queued:
    changes: tuple[Change, ...]
    actor: Actor
    now: datetime


async def record_changes(
    session: AsyncSession, changes: Sequence[Change], *, actor: Actor, now: datetime
) -> None:
    """Record changes in the audit chain and the outbox, in the caller's transaction.

    The records are written in one statement when the transaction commits (or when a reader
    in the same transaction asks for them, or once ``WRITE_QUEUED_AT`` changes wait: a run
    recording a day's hundred thousand changes holds a part of them at a time, in the same
    transaction and order). Writers take no lock they share: the sealer gives each committed
    record its place in the chain moments later.
    """
    await record_changes_of_each(session, [(changes, actor, now)])


async def record_changes_of_each(
    session: AsyncSession, recorded: Sequence[tuple[Sequence[Change], Actor, datetime]]
) -> None:
    """``record_changes`` of several callers' changes (each with its actor and time), in
    order, at once: one flush for them all (a capture group's members each have their own
    time)."""
    for changes, actor, now in recorded:
        if changes:
            session.info.setdefault(_QUEUE, []).append(_Queued(tuple(changes), actor, now))
            session.info[_QUEUED] = session.info.get(_QUEUED, 0) + len(changes)
    if session.info.get(_QUEUED, 0) >= WRITE_QUEUED_AT:
        await session.run_sync(_write_queued)  # flushes first
        return
    # Callers go on to write rows that refer to what they just changed: have it in the database.
    await session.flush()


async def write_queued_changes(session: AsyncSession) -> None:
    """Write the changes recorded so far in this transaction (reads of the trail call this)."""
    if session.info.get(_QUEUE):
        await session.run_sync(_write_queued)


async def write_with_changes(
    session: AsyncSession,
    rows: Sequence[bulk.TableRows],
    changes: Sequence[Change],
    *,
    actor: Actor,
    now: datetime,
    after: bulk.Pending | None = None,
) -> bulk.Pending | None:
    """Write a caller's new rows and record its changes to them, at once, once ``after`` (a
    COPY of an earlier call still under way) is answered: the records (with any recorded
    before them in the transaction) follow the rows in one pipeline of COPYs, so that on
    PostgreSQL their text is built while the database takes in the rows. Returns the last
    COPY, still under way (the records' queue for the sealer is sent when it is finished),
    which the caller hands to ``bulk.finished`` (or to the next call) before it uses the
    session again."""
    if changes:
        session.info.setdefault(_QUEUE, []).append(_Queued(tuple(changes), actor, now))
    pending: bulk.Pending | None = await session.run_sync(_write_after, rows, after)
    return pending


def _write_after(
    session: Session, rows: Sequence[bulk.TableRows], after: bulk.Pending | None
) -> bulk.Pending | None:
    bulk.finish(after)  # what follows reads and writes on the same connection
    queued: list[_Queued] | None = session.info.pop(_QUEUE, None)
    session.info.pop(_QUEUED, None)
    session.flush()
    tables = list(rows)
    if queued and session.info.get(AUDIT_TRAIL, True):
        columns = _columns(queued)
        if bulk.copies(session, len(columns["entity_id"])):
            tables += repository.record_tables(session, columns)
        else:
            repository.append_records(session, columns)
    # The records' queue for the sealer last, once they are in: the caller's work meanwhile
    # overlaps the records' COPY, the larger.
    return bulk.start_tables(session, tables, None, last_later=True)


def _write_queued(session: Session) -> None:
    queued: list[_Queued] | None = session.info.pop(_QUEUE, None)
    session.info.pop(_QUEUED, None)
    if not queued or not session.info.get(AUDIT_TRAIL, True):
        return
    session.flush()
    repository.append_records(session, _columns(queued))


def _columns(queued: Sequence[_Queued]) -> dict[str, list[Any]]:
    """The records of the queued changes, column by column: what a batch's changes share (its
    time, its actor) is one object repeated, written once."""
    columns: dict[str, list[Any]] = {name: [] for name in repository.RECORD_COLUMNS}
    for batch in queued:
        changes, actor, count = batch.changes, batch.actor, len(batch.changes)
        columns["occurred_at"] += [batch.now] * count
        columns["actor_key_id"] += [actor.key_id] * count
        columns["actor_role"] += [str(actor.role)] * count
        columns["actor_name"] += [actor.name] * count
        columns["request_id"] += [actor.request_id] * count
        columns["entity_type"] += [change.entity_type for change in changes]
        columns["entity_id"] += [change.entity_id for change in changes]
        columns["action"] += [change.action for change in changes]
        columns["before"] += [change.before for change in changes]
        columns["after"] += [change.after for change in changes]
        columns["event_type"] += [
            change.event_type or f"{change.entity_type}.{change.action}" for change in changes
        ]
    return columns


async def record_change(
    session: AsyncSession,
    *,
    actor: Actor,
    entity_type: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
    event_type: str | None = None,
) -> None:
    """``record_changes`` for one change."""
    change = Change(entity_type, entity_id, action, before, after, event_type)
    await record_changes(session, [change], actor=actor, now=now)


@asynccontextmanager
async def audited(
    session: AsyncSession,
    entity: Any,
    *,
    entity_type: str,
    action: str,
    actor: Actor,
    now: datetime,
    created: bool = False,
    event_type: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> AsyncIterator[None]:
    """Audit what the block does to ``entity``: its row before (none when ``created``) and
    after, less the ``exclude`` columns, as one audit record and one outbox event in the
    caller's transaction. Nothing is recorded when the block raises."""
    before = None if created else row_snapshot(entity, exclude=exclude)
    yield
    await record_change(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity.id,
        action=action,
        before=before,
        after=row_snapshot(entity, exclude=exclude),
        now=now,
        event_type=event_type,
    )


S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


async def transition(
    session: AsyncSession,
    entity: Any,
    *,
    transitions: Mapping[tuple[S, E], S],
    event: E,
    entity_type: str,
    actor: Actor,
    now: datetime,
    action: str | None = None,
    exclude: frozenset[str] = frozenset(),
    **changes: Any,
) -> S:
    """Move ``entity`` on by ``event`` through its transition table (``InvalidTransition``
    otherwise), set ``changes`` on it, and audit the move (action: the event's name unless
    given; ``exclude`` as for ``audited``). Returns the new state."""
    state_type = type(next(iter(transitions))[0])
    async with audited(
        session,
        entity,
        entity_type=entity_type,
        action=action or event.value,
        actor=actor,
        now=now,
        exclude=exclude,
    ):
        new_state = next_state(transitions, state_type(entity.status), event)
        entity.status = new_state.value
        for name, value in changes.items():
            setattr(entity, name, value)
    return new_state


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One audit record as a value, for a domain that shows an entity's history; ``seq`` is
    None until the sealer has chained the record (well under a second after its commit)."""

    seq: int | None
    occurred_at: datetime
    actor_key_id: str
    actor_role: str
    actor_name: str
    request_id: str | None
    entity_type: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, record: AuditRecord, seq: int | None) -> "HistoryEntry":
        return cls(
            seq=seq,
            occurred_at=record.occurred_at,
            actor_key_id=record.actor_key_id,
            actor_role=record.actor_role,
            actor_name=record.actor_name,
            request_id=record.request_id,
            entity_type=record.entity_type,
            entity_id=record.entity_id,
            action=record.action,
            before=record.before,
            after=record.after,
        )


async def entity_history(
    session: AsyncSession, *, entity_type: str, entity_id: str
) -> list[HistoryEntry]:
    """Every audit record of one entity, oldest first, sealed or not (the entity's own row
    lock orders its writers, so record ids follow its changes)."""
    await write_queued_changes(session)
    rows = await repository.entity_records_with_seq(
        session, entity_type=entity_type, entity_id=entity_id
    )
    return [HistoryEntry.of(record, seq) for record, seq in rows]


_IN_CHUNK = 500
M = TypeVar("M")


def _label(entity_type: str, title: str | None) -> str:
    return title or entity_type.replace("_", " ")


async def state_as_of(
    session: AsyncSession,
    model: type[Any],
    *,
    entity_type: str,
    entity_id: str,
    as_of: datetime,
    title: str | None = None,
) -> dict[str, Any]:
    """The entity's row at ``as_of`` as its audit records tell it (a ``row_snapshot``): the
    after image of its last record by then. A row made without a record (seeded by a
    migration, or older than the trail) stood as its first later record's before image says,
    or, with no record at all, as its current row (``model`` by primary key) says: nothing
    changes it unrecorded; before its ``created_at`` it did not exist. NotFound, naming
    ``title`` (default: the entity type in words), when it did not exist then, or at all."""
    await write_queued_changes(session)
    label = _label(entity_type, title)
    found = await repository.last_after_up_to(
        session, entity_type=entity_type, entity_id=entity_id, as_of=as_of
    )
    if found is None:
        found = await _unrecorded_state(session, model, entity_type, entity_id, as_of, label)
    (state,) = found
    if state is None:
        named = f"{label[:1].upper()}{label[1:]} '{entity_id}'"
        raise NotFound(f"{named} did not exist at {as_of.isoformat()}.")
    return state


async def _unrecorded_state(
    session: AsyncSession,
    model: type[Any],
    entity_type: str,
    entity_id: str,
    as_of: datetime,
    label: str,
) -> tuple[dict[str, Any] | None]:
    """The state at ``as_of`` of an entity with no record by then: its first later record's
    before image, else its current row; none if it was created after ``as_of``."""
    found = await repository.first_before_after(
        session, entity_type=entity_type, entity_id=entity_id, as_of=as_of
    )
    if found is None:
        current = await session.get(model, entity_id)
        if current is None:
            raise NotFound(f"No {label} '{entity_id}'.")
        found = (row_snapshot(current),)
    (state,) = found
    created = None if state is None else state.get("created_at")
    if isinstance(created, str) and datetime.fromisoformat(created) > as_of:
        return (None,)
    return found


async def row_as_of(
    session: AsyncSession,
    model: type[M],
    *,
    entity_type: str,
    entity_id: str,
    as_of: datetime,
    title: str | None = None,
) -> M:
    """``state_as_of`` as a transient ``model`` row (never added to the session): what the row
    was, for code that shapes answers from rows."""
    state = await state_as_of(
        session, model, entity_type=entity_type, entity_id=entity_id, as_of=as_of, title=title
    )
    return row_from_snapshot(model, state)


async def recorded_by(
    session: AsyncSession,
    *,
    entity_type: str,
    entity_ids: Sequence[str],
    action: str,
    as_of: datetime,
) -> set[str]:
    """Those of ``entity_ids`` that had a record of ``action`` at or before ``as_of``."""
    await write_queued_changes(session)
    found: set[str] = set()
    for start in range(0, len(entity_ids), _IN_CHUNK):
        found |= await repository.entity_ids_with_action(
            session,
            entity_type=entity_type,
            entity_ids=entity_ids[start : start + _IN_CHUNK],
            action=action,
            up_to=as_of,
        )
    return found


# Compliance's reads ---------------------------------------------------------------------------


async def list_records(
    session: AsyncSession, *, wanted: AuditFilter, page: PageRequest
) -> tuple[Sequence[SealedRecord], str | None]:
    """Sealed audit records matching ``wanted``, in ``seq`` order, one page at a time."""
    return await repository.page_of_records(session, wanted=wanted, page=page)


async def entity_records(
    session: AsyncSession, *, entity_type: str, entity_id: str, page: PageRequest
) -> tuple[Sequence[SealedRecord], str | None]:
    """One entity's whole sealed history, in ``seq`` order; ``NotFound`` if it has no record."""
    wanted = AuditFilter(entity_type=entity_type, entity_id=entity_id)
    records, cursor = await repository.page_of_records(session, wanted=wanted, page=page)
    if not records and not await repository.entity_has_records(
        session, entity_type=entity_type, entity_id=entity_id
    ):
        raise NotFound(f"No audit record of {entity_type} '{entity_id}'.")
    return records, cursor
