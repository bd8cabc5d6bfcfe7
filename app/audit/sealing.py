"""Sealing: give committed records their place in the hash chain, in the order they are seen.

Only one sealer works at a time (``app.audit.sealer`` elects it); the database still refuses
a second seal of one record (``record_id`` is unique) or of one place (``seq`` is the key), so
two sealers racing can fail but never fork the chain.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.chain import hash_of_own
from app.audit.models import GENESIS_HASH

SEAL_BATCH = 2000


def hashed_fields(record: Any, *, seq: int, prev_hash: str) -> dict[str, Any]:
    """The fields ``chain.record_hash`` covers, for ``record`` (an ``AuditRecord``, or a row
    with its columns) at ``seq`` after ``prev_hash``."""
    return {
        "seq": seq,
        "occurred_at": record.occurred_at,
        "actor_key_id": record.actor_key_id,
        "actor_role": record.actor_role,
        "actor_name": record.actor_name,
        "request_id": record.request_id,
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "action": record.action,
        "before": record.before,
        "after": record.after,
        "prev_hash": prev_hash,
    }


async def seal_pending(
    session: AsyncSession, *, now: datetime, limit: int = SEAL_BATCH
) -> list[float]:
    """Seal up to ``limit`` committed records in the caller's transaction. Returns each sealed
    record's lag: seconds from its writer's commit to ``now`` (the sealer's wall clock)."""
    pending = await repository.unsealed_records(session, limit=limit)
    if not pending:
        return []
    head_seq, head_hash = pending[0][-2:]  # see repository.unsealed_records
    seq, previous = (0, GENESIS_HASH) if head_seq is None else (head_seq, head_hash)
    seals = []
    lags = []
    for record_id, queued_at, *values in pending:
        lags.append(max((now - queued_at).total_seconds(), 0.0))
        seq += 1
        fields = dict(zip(repository.SEALED_FIELDS, values[:-2], strict=True))
        fields["seq"], fields["prev_hash"] = seq, previous
        current = hash_of_own(fields)
        seals.append(
            {
                "seq": seq,
                "record_id": record_id,
                "prev_hash": previous,
                "hash": current,
                "sealed_at": now,
            }
        )
        previous = current
    await repository.append_seals(session, seals)
    return lags


@dataclass(frozen=True)
class Backlog:
    """Committed records not sealed yet, and how long the oldest has waited (seconds; 0 when
    none)."""

    unsealed: int
    oldest_age_seconds: float


async def backlog(session: AsyncSession, *, now: datetime) -> Backlog:
    count, oldest = await repository.backlog(session)
    age = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
    return Backlog(unsealed=count, oldest_age_seconds=age)


async def readiness(session: AsyncSession) -> dict[str, Any]:
    """The backlog as ``/readyz`` shows it."""
    waiting = await backlog(session, now=datetime.now(UTC))
    return {
        "unsealed": waiting.unsealed,
        "oldest_unsealed_age_seconds": round(waiting.oldest_age_seconds, 3),
    }
