"""Concurrent reads answered together (app/core/coalesce.py): one statement for the asks of one
turn of the event loop, never an answer read before its ask, an error to every asker. The reads
run on asyncpg's own connection, so PostgreSQL's only (the app coalesces on PostgreSQL alone)."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from app.core import db as core_db
from app.core.coalesce import CoalescedRead, close_coalesced_reads, coalesced
from tests.conftest import Database


@pytest.fixture(autouse=True)
def _postgres_only(db: Database) -> None:
    if db.backend == "sqlite":
        pytest.skip("coalesced reads run on asyncpg's connection (PostgreSQL)")


class Reads:
    """A read of the keys' squares that records each call, and can be held at its start."""

    def __init__(self) -> None:
        self.calls: list[frozenset[int]] = []
        self.started = asyncio.Event()
        self.hold = asyncio.Event()
        self.hold.set()

    async def __call__(self, driver: Any, keys: frozenset[int]) -> Mapping[int, int]:
        self.calls.append(keys)
        self.started.set()
        await self.hold.wait()
        assert await driver.fetchval("SELECT 1") == 1
        return {key: key * key for key in keys if key >= 0}


async def test_asks_of_one_turn_share_one_read(db: Database) -> None:
    reads = Reads()
    coalesced = CoalescedRead(db.engine, reads)

    answers = await asyncio.gather(*(coalesced.get(n) for n in (3, 4, 3, -1)))

    assert answers == [9, 16, 9, None]
    assert reads.calls == [frozenset({3, 4, -1})]


async def test_an_ask_made_while_a_read_runs_gets_a_read_of_its_own(db: Database) -> None:
    reads = Reads()
    reads.hold.clear()
    coalesced = CoalescedRead(db.engine, reads)
    first = asyncio.create_task(coalesced.get(2))
    await reads.started.wait()

    second = asyncio.create_task(coalesced.get(2))
    await asyncio.sleep(0)
    reads.hold.set()

    assert [await first, await second] == [4, 4]
    assert reads.calls == [frozenset({2}), frozenset({2})]


async def test_a_failed_read_fails_every_asker_and_the_next_reads_again(db: Database) -> None:
    calls: list[frozenset[int]] = []

    async def failing(driver: Any, keys: frozenset[int]) -> Mapping[int, int]:
        calls.append(keys)
        if len(calls) == 1:
            raise RuntimeError("connection lost")
        return dict.fromkeys(keys, 0)

    coalesced = CoalescedRead(db.engine, failing)
    answers = await asyncio.gather(coalesced.get(1), coalesced.get(2), return_exceptions=True)

    assert [str(a) for a in answers] == ["connection lost", "connection lost"]
    assert await coalesced.get(1) == 0
    assert calls == [frozenset({1, 2}), frozenset({1})]


async def test_an_asker_cancelled_leaves_the_read_to_the_others(db: Database) -> None:
    reads = Reads()
    reads.hold.clear()
    coalesced = CoalescedRead(db.engine, reads)
    gone = asyncio.create_task(coalesced.get(5))
    stays = asyncio.create_task(coalesced.get(6))
    await reads.started.wait()

    gone.cancel()
    reads.hold.set()

    assert await stays == 36
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_an_error_of_the_driver_is_raised_as_sqlalchemy_raises_it(db: Database) -> None:
    async def bad_sql(driver: Any, keys: frozenset[int]) -> Mapping[int, int]:
        await driver.fetchval("SELECT no_such_column FROM api_keys")
        return {}

    with pytest.raises(ProgrammingError) as raised:
        await CoalescedRead(db.engine, bad_sql).get(1)

    assert raised.value.connection_invalidated is False
    assert "no_such_column" in str(raised.value.orig)


async def test_a_connection_lost_in_a_read_is_not_pooled_again(db: Database) -> None:
    pids: list[int] = []

    async def read_pid(driver: Any, keys: frozenset[int]) -> Mapping[int, int]:
        pids.append(await driver.fetchval("SELECT pg_backend_pid()"))
        if len(pids) == 1:
            async with db.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
            await driver.fetchval("SELECT 1")
        return dict.fromkeys(keys, pids[-1])

    coalesced = CoalescedRead(db.engine, read_pid)
    with pytest.raises(DBAPIError) as raised:
        await coalesced.get(1)
    assert raised.value.connection_invalidated is True

    assert await coalesced.get(1) == pids[1]
    assert pids[1] != pids[0]


class Pids:
    """A read answering every key with the backend it ran on."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    async def __call__(self, driver: Any, keys: frozenset[int]) -> Mapping[int, int]:
        self.pids.append(await driver.fetchval("SELECT pg_backend_pid()"))
        return dict.fromkeys(keys, self.pids[-1])


async def test_reads_in_turn_share_one_connection_held_outside_the_pool(db: Database) -> None:
    reads = Pids()
    coalesced_read = CoalescedRead(db.engine, reads)
    checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
    try:
        first = await coalesced_read.get(1)
        assert await coalesced_read.get(2) == first
        assert db.engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]

        await coalesced_read.aclose()
        assert await coalesced_read.get(3) != first
    finally:
        await coalesced_read.aclose()
    assert len(reads.pids) == 3


async def test_a_held_connection_lost_while_idle_is_replaced_unseen(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_db, "PING_IDLE_SECONDS", 0.0)  # pinged before every read
    coalesced_read = CoalescedRead(db.engine, Pids())
    try:
        first = await coalesced_read.get(1)
        async with db.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": first})

        again = await coalesced_read.get(1)

        assert again != first
    finally:
        await coalesced_read.aclose()


async def test_the_held_connections_close_with_the_engine_s_reads(db: Database) -> None:
    held = await coalesced(db.engine, "test_pids", Pids()).get(1)

    await close_coalesced_reads(db.engine)

    # The server ends the backend once it reads the close: soon, not at once.
    alive = 1
    for _ in range(50):
        async with db.engine.connect() as other:
            found = await other.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": held}
            )
            alive = found.scalar_one()
        if alive == 0:
            break
        await asyncio.sleep(0.05)
    assert alive == 0
