"""The trail as an event feed: a record with an ``event_type`` is an event, published once the
sealer has given it its place (``seq``), in that order. The events domain reads it here, as
plain values, never through the trail's models."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository


@dataclass(frozen=True, slots=True)
class SealedEvent:
    """One published event: its place in the chain and the change it describes (``before``
    is None when the entity was created)."""

    seq: int
    event_type: str
    occurred_at: datetime
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EventHead:
    """An event without its images: enough to decide who should receive it."""

    seq: int
    event_type: str
    entity_type: str
    entity_id: str


@dataclass(frozen=True)
class TypeFilter:
    """Which event types to read: ``exact`` names, and types starting with one of
    ``prefixes``; ``exact`` None reads every type."""

    exact: tuple[str, ...] | None = None
    prefixes: tuple[str, ...] = ()


EVERY_TYPE = TypeFilter()


def _event(row: Row[Any]) -> SealedEvent:
    return SealedEvent(
        seq=row.seq,
        event_type=row.event_type,
        occurred_at=row.occurred_at,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
    )


async def events_after(
    session: AsyncSession, *, after: int, types: TypeFilter = EVERY_TYPE, limit: int
) -> list[SealedEvent]:
    """Up to ``limit`` sealed events after ``seq`` ``after`` whose type ``types`` admits, in
    seal order. An event that committed late is sealed late, so a reader that passes the last
    ``seq`` it saw never skips one."""
    rows = await repository.sealed_events(
        session, after=after, exact=types.exact, prefixes=types.prefixes, limit=limit
    )
    return [_event(row) for row in rows]


async def event_heads_after(
    session: AsyncSession, *, after: int, up_to: int, limit: int
) -> list[EventHead]:
    """Up to ``limit`` events sealed in (``after``, ``up_to``], without their images."""
    rows = await repository.sealed_events(
        session, after=after, up_to=up_to, exact=None, prefixes=(), limit=limit, heads_only=True
    )
    return [EventHead(row.seq, row.event_type, row.entity_type, row.entity_id) for row in rows]


async def events_at(session: AsyncSession, seqs: Sequence[int]) -> dict[int, SealedEvent]:
    """The sealed events at these ``seq``s, by ``seq``."""
    if not seqs:
        return {}
    return {row.seq: _event(row) for row in await repository.events_at(session, sorted(set(seqs)))}


async def last_sealed_seq(session: AsyncSession) -> int:
    """The chain head's ``seq`` (0 before the first seal). Seals commit in ``seq`` order, so
    every place up to it is already visible."""
    seq, _hash = await repository.chain_head(session)
    return seq
