"""Recording changes: one call writes the audit record and the outbox event together."""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.audit import repository
from app.audit.chain import HASHED_FIELDS, record_hash
from app.audit.models import GENESIS_HASH, AuditChainHead, AuditRecord
from app.audit.repository import AuditFilter
from app.core.auth import Actor
from app.core.db import table_of
from app.core.errors import NotFound
from app.core.pagination import PageRequest
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.events.service import append_events, outbox_row

_HEAD = "audit_chain_head"
_QUEUE = "audit_queue"


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_state(session: Session, transaction: SessionTransaction) -> None:
    # The locked head and the queued changes belong to one database transaction: never carry
    # them into the next (after a rollback, the queued changes are simply dropped).
    if transaction.parent is None:
        session.info.pop(_HEAD, None)
        session.info.pop(_QUEUE, None)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    _write_queued(session)


def _locked_head(session: Session) -> AuditChainHead:
    head: AuditChainHead | None = session.info.get(_HEAD)
    if head is None:
        statement = (
            select(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        head = session.scalars(statement).one()
        session.info[_HEAD] = head
    return head


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

    The records are written when the transaction commits (or when a reader in the same
    transaction asks for them): the chain head is locked only from then until the commit, so
    writers append in commit order and no other lock is ever taken while holding it.
    """
    if changes:
        session.info.setdefault(_QUEUE, []).append(_Queued(tuple(changes), actor, now))
    # Callers go on to write rows that refer to what they just changed: have it in the database.
    await session.flush()


async def write_queued_changes(session: AsyncSession) -> None:
    """Write the changes recorded so far in this transaction (reads of the trail call this)."""
    if session.info.get(_QUEUE):
        await session.run_sync(_write_queued)


def _write_queued(session: Session) -> None:
    queued: list[_Queued] | None = session.info.pop(_QUEUE, None)
    if not queued:
        return
    session.flush()  # write the changes themselves before taking the lock, not under it
    head = _locked_head(session)
    seq, previous = head.last_seq, head.last_hash
    records: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for batch in queued:
        actor, now = batch.actor, batch.now
        for change in batch.changes:
            seq += 1
            fields = {
                "seq": seq,
                "occurred_at": now,
                "actor_key_id": actor.key_id,
                "actor_role": str(actor.role),
                "actor_name": actor.name,
                "request_id": actor.request_id,
                "entity_type": change.entity_type,
                "entity_id": change.entity_id,
                "action": change.action,
                "before": change.before,
                "after": change.after,
                "prev_hash": previous,
            }
            previous = record_hash(fields)
            records.append({**fields, "hash": previous})
            events.append(
                outbox_row(
                    seq=seq,
                    event_type=change.event_type or f"{change.entity_type}.{change.action}",
                    entity_type=change.entity_type,
                    entity_id=change.entity_id,
                    payload=(
                        {"before": change.before, "after": change.after}
                        if change.before is not None
                        else {"after": change.after}
                    ),
                    now=now,
                )
            )
    session.execute(insert(table_of(AuditRecord)), records)
    append_events(session, events)
    head.last_seq, head.last_hash = seq, previous
    session.flush()


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
    **changes: Any,
) -> S:
    """Move ``entity`` on by ``event`` through its transition table (``InvalidTransition``
    otherwise), set ``changes`` on it, and audit the move (action: the event's name unless
    given). Returns the new state."""
    state_type = type(next(iter(transitions))[0])
    async with audited(
        session, entity, entity_type=entity_type, action=action or event.value, actor=actor, now=now
    ):
        new_state = next_state(transitions, state_type(entity.status), event)
        entity.status = new_state.value
        for name, value in changes.items():
            setattr(entity, name, value)
    return new_state


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One audit record as a value, for a domain that shows an entity's history."""

    seq: int
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
    def of(cls, record: AuditRecord) -> "HistoryEntry":
        return cls(
            seq=record.seq,
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
    """Every audit record of one entity, oldest first."""
    await write_queued_changes(session)
    statement = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
        .order_by(AuditRecord.seq)
    )
    return [HistoryEntry.of(record) for record in await session.scalars(statement)]


async def entity_state_as_of(
    session: AsyncSession, *, entity_type: str, entity_id: str, as_of: datetime
) -> dict[str, Any] | None:
    """The entity's after-image at ``as_of``, from its audit records (None if it did not exist)."""
    await write_queued_changes(session)
    statement = (
        select(AuditRecord.after)
        .where(
            AuditRecord.entity_type == entity_type,
            AuditRecord.entity_id == entity_id,
            AuditRecord.occurred_at <= as_of,
        )
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    )
    after: dict[str, Any] | None = (await session.execute(statement)).scalar_one_or_none()
    return after


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_seq: int | None


VERIFY_CHUNK = 1000


async def verify_chain(session: AsyncSession) -> ChainCheck:
    """Recompute every hash in sequence order; name the first record that does not fit."""
    await write_queued_changes(session)
    previous_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    while True:
        statement = (
            select(AuditRecord)
            .where(AuditRecord.seq >= expected_seq)
            .order_by(AuditRecord.seq)
            .limit(VERIFY_CHUNK)
            .execution_options(populate_existing=True)
        )
        records = (await session.scalars(statement)).all()
        for record in records:
            stored = {name: getattr(record, name) for name in HASHED_FIELDS}
            recomputed = record_hash({**stored, "prev_hash": previous_hash})
            if (
                record.seq != expected_seq
                or record.prev_hash != previous_hash
                or record.hash != recomputed
            ):
                return ChainCheck(ok=False, checked=checked, first_bad_seq=expected_seq)
            previous_hash, expected_seq, checked = record.hash, expected_seq + 1, checked + 1
        if len(records) < VERIFY_CHUNK:
            break
        session.expunge_all()
    head = await session.get(AuditChainHead, 1, populate_existing=True)
    if head is None or head.last_seq != checked or head.last_hash != previous_hash:
        return ChainCheck(ok=False, checked=checked, first_bad_seq=checked + 1)
    return ChainCheck(ok=True, checked=checked, first_bad_seq=None)


# Compliance's reads ---------------------------------------------------------------------------


async def list_records(
    session: AsyncSession, *, wanted: AuditFilter, page: PageRequest
) -> tuple[Sequence[AuditRecord], str | None]:
    """Audit records matching ``wanted``, in ``seq`` order, one page at a time."""
    return await repository.page_of_records(session, wanted=wanted, page=page)


async def entity_records(
    session: AsyncSession, *, entity_type: str, entity_id: str, page: PageRequest
) -> tuple[Sequence[AuditRecord], str | None]:
    """One entity's whole history, in ``seq`` order; ``NotFound`` if it has no record at all."""
    wanted = AuditFilter(entity_type=entity_type, entity_id=entity_id)
    records, cursor = await repository.page_of_records(session, wanted=wanted, page=page)
    if not records and not await repository.entity_has_records(
        session, entity_type=entity_type, entity_id=entity_id
    ):
        raise NotFound(f"No audit record of {entity_type} '{entity_id}'.")
    return records, cursor
