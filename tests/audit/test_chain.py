"""The audit trail: every change writes a hash-chained record and an outbox event together."""

import asyncio

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.audit.chain import HASHED_FIELDS, record_hash
from app.audit.models import GENESIS_HASH, AuditRecord
from app.audit.service import Change, entity_history, record_changes, verify_chain
from app.core.auth import SYSTEM_ACTOR
from app.events.models import OutboxEvent
from tests.conftest import DEFAULT_NOW, Database
from tests.factories import trade_payload
from tests.support import Api


async def _book(api: Api, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await api.post("/trades", json=trade_payload(), role="trader")
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_each_change_appends_one_linked_record_and_one_event(
    api: Api, db: Database, reference: None
) -> None:
    [trade_id] = await _book(api, 1)
    async with db.sessionmaker() as session:
        record = (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id == trade_id))
        ).one()
        previous = await session.get(AuditRecord, record.seq - 1)
        event = await session.get(OutboxEvent, record.seq)
    assert previous is not None
    assert record.prev_hash == previous.hash
    assert record.action == "captured"
    assert record.actor_role == "trader"
    assert record.before is None
    assert record.after is not None
    assert record.after["net_amount"] == "18926.52"
    assert record.hash == record_hash({name: getattr(record, name) for name in HASHED_FIELDS})
    assert event is not None
    assert (event.event_type, event.entity_id) == ("trade.captured", trade_id)
    assert event.payload == {"after": record.after}


async def test_the_chain_verifies_from_genesis(api: Api, db: Database, reference: None) -> None:
    await _book(api, 3)
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
        total = await session.scalar(select(func.count()).select_from(AuditRecord))
        first = await session.get(AuditRecord, 1)
    assert check.ok
    assert check.checked == total
    assert first is not None
    assert first.prev_hash == GENESIS_HASH


async def test_records_and_events_are_written_together(
    api: Api, db: Database, reference: None
) -> None:
    await _book(api, 2)
    async with db.sessionmaker() as session:
        seqs = (await session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq))).all()
        event_seqs = (
            await session.scalars(select(OutboxEvent.seq).order_by(OutboxEvent.seq))
        ).all()
    assert seqs == event_seqs
    assert seqs == list(range(1, len(seqs) + 1))


async def test_a_rejected_change_writes_nothing(api: Api, db: Database, reference: None) -> None:
    async with db.sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(AuditRecord))
    response = await api.post("/trades", json=trade_payload(isin="US0378331005"), role="trader")
    assert response.status_code == 422
    async with db.sessionmaker() as session:
        after = await session.scalar(select(func.count()).select_from(AuditRecord))
    assert after == before


async def test_concurrent_writers_keep_one_gap_free_chain(
    api: Api, db: Database, reference: None
) -> None:
    responses = await asyncio.gather(
        *(api.post("/trades", json=trade_payload(), role="trader") for _ in range(20))
    )
    assert [r.status_code for r in responses] == [201] * 20
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
    assert check.ok, check


async def test_tampering_is_found_at_the_altered_record(
    api: Api, db: Database, reference: None
) -> None:
    if db.backend == "postgres":
        pytest.skip("PostgreSQL refuses the UPDATE itself (see the trigger test)")
    [trade_id] = await _book(api, 1)
    async with db.sessionmaker() as session:
        record = (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id == trade_id))
        ).one()
        await session.execute(
            update(AuditRecord).where(AuditRecord.seq == record.seq).values(actor_role="admin")
        )
        await session.commit()
        check = await verify_chain(session)
    assert not check.ok
    assert check.first_bad_seq == record.seq


async def test_postgres_refuses_rewriting_the_audit_trail(
    api: Api, db: Database, reference: None
) -> None:
    if db.backend != "postgres":
        pytest.skip("the append-only trigger is PostgreSQL's")
    await _book(api, 1)
    for statement in ("UPDATE audit_records SET actor_role = 'admin'", "DELETE FROM audit_records"):
        async with db.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def _audit_count(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


async def test_changes_are_written_at_commit_and_dropped_on_rollback(db: Database) -> None:
    change = Change("probe", "p-1", "touched", before=None, after={"n": 1})
    before = await _audit_count(db)
    async with db.sessionmaker() as session:
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        assert await _audit_count(db) == before  # not yet: the chain is not locked until commit
        await session.rollback()
    assert await _audit_count(db) == before
    async with db.sessionmaker() as session:
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()
    assert await _audit_count(db) == before + 1


async def test_a_reader_in_the_same_transaction_sees_what_was_recorded(db: Database) -> None:
    change = Change("probe", "p-2", "touched", before=None, after={"n": 2})
    async with db.sessionmaker() as session:
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        history = await entity_history(session, entity_type="probe", entity_id="p-2")
        assert [(r.action, r.after) for r in history] == [("touched", {"n": 2})]
        await session.commit()
    async with db.sessionmaker() as session:
        assert (await verify_chain(session)).ok
