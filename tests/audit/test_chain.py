"""The audit trail: writers append without a shared lock; one sealer chains what committed."""

import asyncio
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.audit import service as audit_service
from app.audit.chain import HASHED_FIELDS, canonical, record_hash
from app.audit.models import GENESIS_HASH, AuditRecord, AuditSeal, UnsealedRecord
from app.audit.sealer import Sealer
from app.audit.sealing import hashed_fields, seal_pending
from app.audit.service import Change, entity_history, record_changes, write_queued_changes
from app.audit.verification import verify_chain
from app.core.auth import SYSTEM_ACTOR
from app.core.leadership import lead
from tests.conftest import DEFAULT_NOW, Database
from tests.factories import trade_payload
from tests.support import Api, seal


async def _book(api: Api, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await api.post("/trades", json=trade_payload(), role="trader")
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def _count(db: Database, model: Any) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _seal_of(db: Database, record_id: int) -> AuditSeal | None:
    async with db.sessionmaker() as session:
        statement = select(AuditSeal).where(AuditSeal.record_id == record_id)
        return (await session.scalars(statement)).one_or_none()


async def test_a_change_appends_one_record_queued_for_the_sealer(
    api: Api, db: Database, reference: None
) -> None:
    [trade_id] = await _book(api, 1)
    async with db.sessionmaker() as session:
        record = (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id == trade_id))
        ).one()
        queued = await session.get(UnsealedRecord, record.id)
    assert (record.action, record.actor_role, record.event_type) == (
        "captured",
        "trader",
        "trade.captured",
    )
    assert record.before is None
    assert record.after is not None
    assert record.after["net_amount"] == "18926.52"
    assert queued is not None
    assert await _seal_of(db, record.id) is None


async def test_the_sealer_links_each_record_to_the_one_before(
    api: Api, db: Database, reference: None
) -> None:
    await _book(api, 3)
    waiting = await _count(db, UnsealedRecord)
    assert await seal(db.sessionmaker) == waiting
    assert await _count(db, UnsealedRecord) == 0
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditRecord, AuditSeal)
                .join(AuditSeal, AuditSeal.record_id == AuditRecord.id)
                .order_by(AuditSeal.seq)
            )
        ).all()
    assert [seal_row.seq for _, seal_row in rows] == list(range(1, len(rows) + 1))
    previous = GENESIS_HASH
    for record, seal_row in rows:
        assert seal_row.prev_hash == previous
        fields = hashed_fields(record, seq=seal_row.seq, prev_hash=previous)
        assert seal_row.hash == record_hash(fields)
        previous = seal_row.hash
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
    assert (check.ok, check.checked, check.last_seq, check.last_hash) == (
        True,
        len(rows),
        len(rows),
        previous,
    )


async def test_a_writer_does_not_wait_for_another_writers_open_transaction(db: Database) -> None:
    """The old trail locked one head row until COMMIT; now an open writer blocks nobody, and
    the one that commits first is sealed first whatever its record id."""
    slow, fast = db.sessionmaker(), db.sessionmaker()
    if db.backend == "sqlite":
        # SQLite has one writer at a time whatever the trail does: show only the seal order.
        pytest.skip("SQLite serialises every writer")
    try:
        await record_changes(
            slow,
            [Change("probe", "slow", "touched", None, {"n": 1})],
            actor=SYSTEM_ACTOR,
            now=DEFAULT_NOW,
        )
        await write_queued_changes(slow)  # its record is written, its transaction still open
        await record_changes(
            fast,
            [Change("probe", "fast", "touched", None, {"n": 2})],
            actor=SYSTEM_ACTOR,
            now=DEFAULT_NOW,
        )
        await asyncio.wait_for(fast.commit(), timeout=5)
        assert await seal(db.sessionmaker) == 1
        await slow.commit()
        assert await seal(db.sessionmaker) == 1
    finally:
        await slow.close()
        await fast.close()
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditRecord.entity_id, AuditRecord.id, AuditSeal.seq)
                .join(AuditSeal, AuditSeal.record_id == AuditRecord.id)
                .where(AuditRecord.entity_type == "probe")
                .order_by(AuditSeal.seq)
            )
        ).all()
        assert (await verify_chain(session)).ok
    assert [row.entity_id for row in rows] == ["fast", "slow"]
    assert rows[0].id > rows[1].id  # the slow writer took its id first, and was sealed last


async def test_a_rejected_change_writes_nothing(api: Api, db: Database, reference: None) -> None:
    before = (await _count(db, AuditRecord), await _count(db, UnsealedRecord))
    response = await api.post("/trades", json=trade_payload(isin="US0378331005"), role="trader")
    assert response.status_code == 422
    assert (await _count(db, AuditRecord), await _count(db, UnsealedRecord)) == before


async def test_concurrent_writers_end_in_one_gap_free_chain(
    api: Api, db: Database, reference: None
) -> None:
    responses = await asyncio.gather(
        *(api.post("/trades", json=trade_payload(), role="trader") for _ in range(20))
    )
    assert [r.status_code for r in responses] == [201] * 20
    await seal(db.sessionmaker)
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
    assert check.ok, check
    assert check.checked == await _count(db, AuditRecord)


async def _tamper(db: Database, table: str, statement: str, **values: Any) -> None:
    """Change the trail behind the service's back (on PostgreSQL past its trigger)."""
    async with db.sessionmaker() as session:
        if db.backend == "postgres":
            await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        await session.execute(text(statement), values)
        if db.backend == "postgres":
            await session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        await session.commit()


async def test_verify_names_the_record_whose_content_was_changed(
    api: Api, db: Database, reference: None
) -> None:
    trade_ids = await _book(api, 3)
    await seal(db.sessionmaker)
    async with db.sessionmaker() as session:
        target = (
            await session.execute(
                select(AuditRecord.id, AuditSeal.seq)
                .join(AuditSeal, AuditSeal.record_id == AuditRecord.id)
                .where(AuditRecord.entity_id == trade_ids[1])
            )
        ).one()
    await _tamper(
        db,
        "audit_records",
        "UPDATE audit_records SET actor_role = 'admin' WHERE id = :id",
        id=target.id,
    )
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
        later = await verify_chain(session, first_seq=target.seq + 1)
    assert (check.ok, check.first_bad_seq, check.checked) == (False, target.seq, target.seq - 1)
    assert later.ok  # the stretch after it still links to what is stored before it


async def test_verify_names_a_seal_whose_hash_was_changed(
    api: Api, db: Database, reference: None
) -> None:
    await _book(api, 2)
    await seal(db.sessionmaker)
    await _tamper(
        db, "audit_seals", "UPDATE audit_seals SET hash = :hash WHERE seq = 3", hash="f" * 64
    )
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
    assert (check.ok, check.first_bad_seq) == (False, 3)


async def test_verify_names_a_missing_seal(api: Api, db: Database, reference: None) -> None:
    await _book(api, 2)
    await seal(db.sessionmaker)
    await _tamper(db, "audit_seals", "DELETE FROM audit_seals WHERE seq = 2")
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
    assert (check.ok, check.first_bad_seq) == (False, 2)


async def test_postgres_refuses_rewriting_records_and_seals(
    api: Api, db: Database, reference: None
) -> None:
    if db.backend != "postgres":
        pytest.skip("the append-only triggers are PostgreSQL's")
    await _book(api, 1)
    await seal(db.sessionmaker)
    for statement in (
        "UPDATE audit_records SET actor_role = 'admin'",
        "DELETE FROM audit_records",
        "UPDATE audit_seals SET hash = 'x'",
        "DELETE FROM audit_seals",
    ):
        async with db.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def test_changes_are_written_at_commit_and_dropped_on_rollback(db: Database) -> None:
    change = Change("probe", "p-1", "touched", before=None, after={"n": 1})
    before = await _count(db, AuditRecord)
    async with db.sessionmaker() as session:
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        assert await _count(db, AuditRecord) == before  # written at commit, in one statement
        await session.rollback()
    assert await _count(db, AuditRecord) == before
    async with db.sessionmaker() as session:
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()
    assert await _count(db, AuditRecord) == before + 1
    assert await _count(db, UnsealedRecord) == 1  # the fixtures' records are sealed


async def test_a_reader_in_the_same_transaction_sees_what_was_recorded(db: Database) -> None:
    change = Change("probe", "p-2", "touched", before=None, after={"n": 2})
    async with db.sessionmaker() as session:
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        history = await entity_history(session, entity_type="probe", entity_id="p-2")
        assert [(r.seq, r.action, r.after) for r in history] == [(None, "touched", {"n": 2})]
        await session.commit()
    await seal(db.sessionmaker)
    async with db.sessionmaker() as session:
        history = await entity_history(session, entity_type="probe", entity_id="p-2")
        assert (await verify_chain(session)).ok
    assert history[0].seq is not None


async def test_the_running_sealer_seals_within_a_second(db: Database) -> None:
    sealer = Sealer(db.engine, db.sessionmaker, interval=0.01)
    task = asyncio.create_task(sealer.run())
    try:
        await _recorded_and_sealed(db, "p-3", within=1.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    async with db.sessionmaker() as session:
        assert (await verify_chain(session)).ok


async def _queue_vacuums(db: Database) -> int:
    async with db.sessionmaker() as session:
        statement = "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'audit_unsealed'"
        return int(await session.scalar(text(statement)) or 0)


async def test_the_leading_sealer_vacuums_its_queue_as_it_seals(db: Database) -> None:
    """Each poll reads the queue from its oldest id: the rows sealing deleted must not pile up
    in front of it between two visits of autovacuum (or without autovacuum)."""
    if db.backend != "postgres":
        pytest.skip("VACUUM is PostgreSQL's")
    before = await _queue_vacuums(db)
    sealer = Sealer(db.engine, db.sessionmaker, interval=0.01, vacuum_interval=0.05)
    task = asyncio.create_task(sealer.run())
    try:
        for _ in range(200):  # two seconds at most
            if await _queue_vacuums(db) >= before + 2:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await _queue_vacuums(db) >= before + 2


async def _queue_probes(db: Database, prefix: str, count: int) -> None:
    changes = [
        Change("probe", f"{prefix}-{n:04d}", "touched", None, {"n": n}) for n in range(count)
    ]
    async with db.sessionmaker() as session:
        await record_changes(session, changes, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()


async def test_the_sealer_reads_records_by_id_however_its_connection_planned_before(
    db: Database,
) -> None:
    """The leader polls on one connection for hours: a plan it kept from an empty trail must
    not make each poll walk the whole trail (once per record it takes)."""
    if db.backend != "postgres":
        pytest.skip("plan caching is PostgreSQL's")
    sealer = Sealer(db.engine, db.sessionmaker)
    async with db.engine.connect() as connection:
        for poll in range(8):  # past the five runs after which a generic plan may be kept
            await _queue_probes(db, f"early-{poll}", 1)
            assert await sealer.seal_once(connection) == 1
        await _queue_probes(db, "late", 2000)
        async with db.sessionmaker(bind=connection) as session, session.begin():
            walks_before = await _walks_of_the_trail(session)
            sealed = await seal_pending(session, now=DEFAULT_NOW, limit=300)
            walks_after = await _walks_of_the_trail(session)
    assert (len(sealed), walks_after - walks_before) == (300, 0)


async def _walks_of_the_trail(session: Any) -> int:
    """Sequential scans of the trail so far in ``session``'s transaction (its connection's)."""
    statement = (
        "SELECT seq_scan FROM pg_stat_xact_user_tables "
        "WHERE relname = 'audit_records' AND schemaname = current_schema()"
    )
    return int(await session.scalar(text(statement)) or 0)


async def test_only_one_process_leads_the_sealer_on_postgres(db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("SQLite has no advisory lock: its write lock orders the sealers")
    async with lead(db.engine, "test.leader") as first:
        assert first is not None
        async with lead(db.engine, "test.leader") as second:
            assert second is None
    async with lead(db.engine, "test.leader") as again:
        assert again is not None  # released when the leader stepped down


async def test_a_leader_whose_connection_saw_an_error_steps_down_cleanly(db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("SQLite has no advisory lock: its write lock orders the sealers")
    async with lead(db.engine, "test.leader.error") as leader:
        assert leader is not None
        connection = leader._connection  # what a check cut short leaves behind
        assert connection is not None
        with pytest.raises(DBAPIError, match="division by zero"):
            await connection.execute(text("SELECT 1 / 0"))
    async with lead(db.engine, "test.leader.error") as again:
        assert again is not None


async def test_two_sealers_at_once_never_fork_the_chain(
    api: Api, db: Database, reference: None
) -> None:
    """Leadership is an optimisation: the seal table's keys keep two racing sealers honest."""
    await _book(api, 5)
    results = await asyncio.gather(
        seal(db.sessionmaker), seal(db.sessionmaker), return_exceptions=True
    )
    sealed = sum(r for r in results if isinstance(r, int))
    await seal(db.sessionmaker)
    async with db.sessionmaker() as session:
        check = await verify_chain(session)
    assert check.ok
    assert check.checked == await _count(db, AuditRecord)
    assert sealed <= check.checked


# Canonical bytes ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_canonical_bytes_are_those_of_the_standard_library(value: Any) -> None:
    """An auditor recomputes hashes with ``json.dumps`` alone (see the README)."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical({"v": value}) == ("{" + '"v":' + expected + "}").encode()


def test_a_record_hash_is_sha256_of_its_canonical_fields() -> None:
    fields = dict.fromkeys(HASHED_FIELDS) | {
        "seq": 7,
        "occurred_at": DEFAULT_NOW,
        "actor_key_id": "key_1",
        "actor_role": "trader",
        "actor_name": "Désk",
        "entity_type": "trade",
        "entity_id": "trd_1",
        "action": "captured",
        "after": {"quantity": "100", "note": "a\nb"},
        "prev_hash": GENESIS_HASH,
    }
    expected_bytes = (
        '{"action":"captured","actor_key_id":"key_1","actor_name":"Désk","actor_role":"trader",'
        '"after":{"note":"a\\nb","quantity":"100"},"before":null,"entity_id":"trd_1",'
        '"entity_type":"trade","occurred_at":"2026-11-25T15:00:00+00:00",'
        f'"prev_hash":"{GENESIS_HASH}","request_id":null,"seq":7}}'
    ).encode()
    assert record_hash(fields) == hashlib.sha256(expected_bytes).hexdigest()


async def test_tampering_with_a_record_under_sqlite_needs_no_trigger(
    api: Api, db: Database, reference: None
) -> None:
    if db.backend != "sqlite":
        pytest.skip("PostgreSQL refuses the UPDATE (see the trigger test)")
    [trade_id] = await _book(api, 1)
    await seal(db.sessionmaker)
    async with db.sessionmaker() as session:
        await session.execute(
            update(AuditRecord).where(AuditRecord.entity_id == trade_id).values(action="amended")
        )
        await session.commit()
        check = await verify_chain(session)
    assert not check.ok


async def test_metrics_show_the_backlog_and_the_seal_lag(api: Api, db: Database) -> None:
    async with db.sessionmaker() as session:
        change = Change("probe", "p-4", "touched", before=None, after={"n": 4})
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()
    sealer = Sealer(db.engine, db.sessionmaker)
    await sealer.report_backlog()
    waiting = (await api.get("/metrics")).text
    assert "audit_unsealed_records 1.0" in waiting
    assert await sealer.seal_once() == 1
    await sealer.report_backlog()
    sealed = (await api.get("/metrics")).text
    assert "audit_unsealed_records 0.0" in sealed
    assert "audit_unsealed_oldest_age_seconds 0.0" in sealed
    assert "audit_seal_lag_seconds_count" in sealed


@pytest.mark.parametrize("count", [10, 150])  # a group's few (arrays), a run's many (COPY)
async def test_records_of_one_call_take_ascending_ids_in_their_order_each_queued_once(
    db: Database, count: int
) -> None:
    changes = [Change("probe", f"m-{n:03d}", "touched", None, {"n": n}) for n in range(count)]
    async with db.sessionmaker() as session:
        await record_changes(session, changes, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditRecord.id, AuditRecord.entity_id, AuditRecord.after, AuditRecord.before)
                .where(AuditRecord.entity_type == "probe")
                .order_by(AuditRecord.id)
            )
        ).all()
        queued = (await session.scalars(select(UnsealedRecord.record_id))).all()
    assert [(row.entity_id, row.after, row.before) for row in rows] == [
        (f"m-{n:03d}", {"n": n}, None) for n in range(count)
    ]
    assert sorted(queued) == [row.id for row in rows]


async def test_a_sealing_rolled_back_leaves_its_records_queued(db: Database) -> None:
    async with db.sessionmaker() as session:
        change = Change("probe", "p-5", "touched", before=None, after={"n": 5})
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()
    seals = await _count(db, AuditSeal)
    async with db.sessionmaker() as session:
        assert len(await seal_pending(session, now=DEFAULT_NOW)) == 1
        await session.rollback()
    assert (await _count(db, UnsealedRecord), await _count(db, AuditSeal)) == (1, seals)
    assert await seal(db.sessionmaker) == 1


async def test_a_sealer_whose_connection_dies_is_replaced_by_another(db: Database) -> None:
    """The leader seals on its lock's connection: when that goes, so does its leadership, and
    a standby takes over within its standby interval."""
    if db.backend != "postgres":
        pytest.skip("SQLite has no advisory lock: every process seals")
    first = Sealer(db.engine, db.sessionmaker, interval=0.01, standby_interval=0.05)
    running = [asyncio.create_task(first.run())]
    try:
        await _recorded_and_sealed(db, "p-6")
        second = Sealer(db.engine, db.sessionmaker, interval=0.01, standby_interval=0.05)
        running.append(asyncio.create_task(second.run()))
        async with db.engine.connect() as connection:
            holders = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            assert holders.scalars().all() == [True]
        await _recorded_and_sealed(db, "p-7")
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    async with db.sessionmaker() as session:
        assert (await verify_chain(session)).ok


async def _recorded_and_sealed(db: Database, entity_id: str, *, within: float = 3.0) -> None:
    async with db.sessionmaker() as session:
        change = Change("probe", entity_id, "touched", before=None, after={"id": entity_id})
        await record_changes(session, [change], actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        await session.commit()
    for _ in range(round(within / 0.01)):
        if not await _count(db, UnsealedRecord):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{entity_id} not sealed within {within:g} s")


async def _probes(session: Any) -> list[str]:
    statement = select(AuditRecord.entity_id).where(AuditRecord.entity_type == "probe")
    return list((await session.scalars(statement.order_by(AuditRecord.id))).all())


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_a_long_transactions_changes_are_written_in_parts_in_order(
    db: Database, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    """Once ``WRITE_QUEUED_AT`` changes wait they are written, in the same transaction (a run
    of a hundred thousand matches holds a part of them at a time): in the order recorded, and
    gone with the transaction when it rolls back."""
    monkeypatch.setattr(audit_service, "WRITE_QUEUED_AT", 3)
    async with db.sessionmaker() as session:
        for batch in (["a", "b"], ["c", "d"], ["e"]):
            changes = [Change("probe", name, "touched", None, {"name": name}) for name in batch]
            await record_changes(session, changes, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
            if batch == ["a", "b"]:
                assert await _probes(session) == []
        assert await _probes(session) == ["a", "b", "c", "d"]
        await (session.commit() if outcome == "commit" else session.rollback())
        assert await _probes(session) == (["a", "b", "c", "d", "e"] if outcome == "commit" else [])
