"""200 racing POST /trades with one Idempotency-Key over two server processes book one trade.

Real uvicorn processes against one PostgreSQL database (its own, built afresh here), so the
guard under test is the database's (the key's primary key and row locks), not anything shared
in one process's memory. Standalone: it uses neither the per-backend ``db`` nor ``api`` fixture.
"""

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from bench.idempotency_race import REPLAYED_HEADER, REUSED_TYPE_SUFFIX, race
from bench.lib.db import BenchDatabase, drop_database, prepare_database
from bench.lib.servers import Server, running_servers

PG_ENV = "SETTLEMENT_TEST_DATABASE_URL"
REQUESTS = 200

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def race_database() -> AsyncIterator[BenchDatabase]:
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(f"{PG_ENV} is not set: the race needs PostgreSQL")
    # Named from the configured database and this process, as conftest names its databases, so
    # concurrent runs against one server never drop each other's.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = make_url(server_url).database or "settlement"
    database = await prepare_database(f"{prefix}_race_{worker}_{os.getpid()}", server_url)
    try:
        yield database
    finally:
        await drop_database(database.name, server_url)


@pytest.fixture
async def two_servers(race_database: BenchDatabase) -> AsyncIterator[list[Server]]:
    async with running_servers(2, race_database.url) as servers:
        yield servers


async def test_racing_requests_with_one_key_book_exactly_one_trade(
    race_database: BenchDatabase, two_servers: list[Server]
) -> None:
    try:
        outcome = await race(two_servers, race_database, requests=REQUESTS)
    except httpx.TransportError as error:
        # The servers' logs go with their fixture: say what they wrote while they are there
        # (a CI run on a loaded host once saw a connection reset mid-race).
        raise AssertionError(
            f"{error!r} mid-race; the servers wrote:\n{_logs(two_servers)}"
        ) from error

    # Spread over both processes.
    assert sorted(outcome.per_server.values()) == [REQUESTS // 2, REQUESTS // 2]
    # Every answer is the first one: 201, the same body, the same trade.
    assert outcome.statuses == {201: REQUESTS}, outcome.bodies[:3]
    assert len(outcome.trade_ids) == 1
    assert outcome.identical_bodies
    assert outcome.bodies[0]["external_id"] == outcome.external_id
    assert outcome.bodies[0]["status"] == "captured"
    # One request did the work; every other one was answered from the key.
    assert outcome.replayed == REQUESTS - 1, f"{REPLAYED_HEADER}: true on {outcome.replayed}"
    # Exactly one trade is booked, audited once, under one key row.
    assert outcome.trades_booked == 1
    assert outcome.audit_records == 1
    assert outcome.idempotency_rows == 1
    # The same key with another body is refused on each server and books nothing.
    assert outcome.reused_statuses == [422, 422]
    assert {t.rsplit("/", 1)[-1] for t in outcome.reused_types} == {REUSED_TYPE_SUFFIX}
    assert outcome.trades_booked_after_reuse == 1
    assert outcome.trades_total_after_reuse == outcome.trades_total_before_reuse
    assert outcome.failures() == []


def _logs(servers: list[Server]) -> str:
    return "\n".join(f"--- {s.log}\n{s.log.read_text(errors='replace')[-4000:]}" for s in servers)
