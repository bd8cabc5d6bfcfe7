"""Recording changes: one call writes the audit record and the outbox event together."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.audit.chain import record_hash
from app.audit.models import GENESIS_HASH, AuditChainHead, AuditRecord
from app.core.auth import Actor
from app.events.service import enqueue_event

_HEAD = "audit_chain_head"


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    # The locked head belongs to one database transaction; never reuse it in the next.
    if transaction.parent is None:
        session.info.pop(_HEAD, None)


async def _locked_head(session: AsyncSession) -> AuditChainHead:
    head: AuditChainHead | None = session.info.get(_HEAD)
    if head is None:
        statement = (
            select(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        head = (await session.scalars(statement)).one()
        session.info[_HEAD] = head
    return head


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
) -> AuditRecord:
    """Append to the audit chain and the outbox in the caller's transaction (flushed later).

    The first call in a transaction locks the chain head until commit, so writers append in
    commit order. Call it as the last step of a change to keep that lock short.
    """
    head = await _locked_head(session)
    seq = head.last_seq + 1
    digest = record_hash(
        seq=seq,
        occurred_at=now,
        actor_key_id=actor.key_id,
        actor_role=str(actor.role),
        actor_name=actor.name,
        request_id=actor.request_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
        prev_hash=head.last_hash,
    )
    record = AuditRecord(
        seq=seq,
        occurred_at=now,
        actor_key_id=actor.key_id,
        actor_role=str(actor.role),
        actor_name=actor.name,
        request_id=actor.request_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(record)
    head.last_seq, head.last_hash = seq, digest
    enqueue_event(
        session,
        seq=seq,
        event_type=event_type or f"{entity_type}.{action}",
        entity_type=entity_type,
        entity_id=entity_id,
        payload={"before": before, "after": after} if before is not None else {"after": after},
        now=now,
    )
    return record


async def entity_history(
    session: AsyncSession, *, entity_type: str, entity_id: str
) -> Sequence[AuditRecord]:
    statement = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
        .order_by(AuditRecord.seq)
    )
    return (await session.scalars(statement)).all()


async def entity_state_as_of(
    session: AsyncSession, *, entity_type: str, entity_id: str, as_of: datetime
) -> dict[str, Any] | None:
    """The entity's after-image at ``as_of``, from its audit records (None if it did not exist)."""
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
            recomputed = record_hash(
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
                prev_hash=previous_hash,
            )
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
