"""Proof under pressure: three real server processes (uvicorn, ``app.main``) on loopback ports
against one PostgreSQL database of their own, built afresh here (``settlement migrate`` and
``settlement demo``), so every guard under test is the database's (primary keys, row locks,
``FOR UPDATE SKIP LOCKED``, version columns), not anything shared in one process's memory.

- 200 racing POST /trades with one ``Idempotency-Key``, spread over the three processes, book one
  trade; every answer is that trade, all but one replayed.
- Two clearing runs, then two settlement runs, for one date, started at once on two processes,
  clear and settle each trade once: one obligation and one instruction per trade, one journal
  entry per instruction; the ledger checks clean.
- 30 racing amendments of one trade with the same ``If-Match``: one 200, the rest 412.
- A clearing run and a settlement run, each in a process of its own (``interrupted_run``), killed
  with SIGKILL in the middle of a chunk: refused a resume while its dead worker's lease holds
  (409), then, stalled, taken over by ``POST .../resume`` on a server: what the committed chunks
  did stays done once, the killed chunk's work is rolled back and done once by the takeover;
  the ledger checks clean and the audit chain (sealed by the servers' sealer) verifies.

PostgreSQL only (skipped on the SQLite run); one xdist group, so one worker starts the servers.
"""

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bench.idempotency_race import REPLAYED_HEADER, race, trade_body
from bench.lib import data
from bench.lib.db import (
    PROJECT_ROOT,
    BenchDatabase,
    app_environment,
    connect,
    drop_database,
    prepare_database,
)
from bench.lib.servers import Server, running_servers

PG_ENV = "SETTLEMENT_TEST_DATABASE_URL"
API = data.API
SERVERS = 3
RACERS = 200
AMENDERS = 30
TRADES = 60  # per date
CHUNK = 5  # the interrupted runs' chunk size: 12 chunks
STALL_AT = 3  # two chunks committed, the third done but not committed when it is killed
# At most 10 connections a process (30 in all): PostgreSQL's 100 are shared with other tests, and
# a server refused a connection answers 500 (an error that is not the client's).
POOL = {"SETTLEMENT_DB_POOL_SIZE": "5", "SETTLEMENT_DB_MAX_OVERFLOW": "5"}
# The servers' run lease: a killed run is stalled (and resumed through the API) this soon.
LEASE = 4.0
SETTINGS = {**POOL, "SETTLEMENT_RUN_LEASE_SECONDS": str(LEASE)}
LEIS = [data.make_lei(n, "5493PRESS") for n in range(1, 5)]
ISINS = [data.make_isin("XS", n, "PR") for n in range(6)]

pytestmark = [pytest.mark.postgres_only, pytest.mark.xdist_group("under_pressure")]


@dataclass
class Pressure:
    db: BenchDatabase
    servers: list[Server]
    days: list[date]  # XOFF settlement days up to today, oldest first

    def client(self, index: int, role: str = "operations") -> httpx.AsyncClient:
        server = self.servers[index % len(self.servers)]
        return httpx.AsyncClient(
            base_url=server.base_url, headers=self.db.headers(role), timeout=60
        )

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        connection = await connect(self.db.url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    async def value(self, sql: str, *args: object) -> Any:
        return (await self.fetch(sql, *args))[0][0]


async def _reference(pressure: Pressure) -> None:
    """Equities on XOFF (settled internally, against our books) traded with counterparties
    that settle gross; the XOFF settlement days up to today."""
    parties = [(lei, f"Pressure party {n}", "none") for n, lei in enumerate(LEIS)]
    async with pressure.client(0) as api:
        await data.create_reference(api, [(isin, "XOFF", "EUR") for isin in ISINS], parties)
        today = datetime.now(UTC).date()
        window = {"from": str(today - timedelta(days=21)), "to": str(today)}
        days = await api.get(
            f"{API}/calendars/XOFF/business-days", params={**window, "kind": "settlement"}
        )
    pressure.days = [date.fromisoformat(day) for day in days.json()["business_days"]]


@pytest.fixture(scope="module")
async def pressure() -> AsyncIterator[Pressure]:
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(f"{PG_ENV} is not set: these tests need PostgreSQL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = make_url(server_url).database or "settlement"
    db = await prepare_database(f"{prefix}_pressure_{worker}_{os.getpid()}", server_url)
    try:
        async with running_servers(SERVERS, db.url, settings=SETTINGS) as servers:
            pressure = Pressure(db, servers, [])
            await _reference(pressure)
            yield pressure
    finally:
        await drop_database(db.name, server_url)


async def book(pressure: Pressure, tag: str, trade_date: date) -> list[str]:
    """TRADES buys of the pressure equities on ``trade_date``, each confirmed by the
    counterparty (through the three processes at once)."""
    items = [
        {
            "external_id": f"PRESS-{tag}-{n:03d}",
            "book": "EQ-FLOW",
            "counterparty_lei": LEIS[n % len(LEIS)],
            "isin": ISINS[n % len(ISINS)],
            "side": "buy",
            "quantity": str(10 + n),
            "price": "12.50",
            "currency": "EUR",
            "trade_date": str(trade_date),
            "trade_time": f"{trade_date}T10:00:00Z",
            "venue": "XOFF",
            "commission": "0",
            "fees": "0",
        }
        for n in range(TRADES)
    ]
    async with pressure.client(1, "trader") as api:
        answer = await api.post(f"{API}/trades/batch", json={"items": items})
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == TRADES, answer.text
    trade_ids = [result["id"] for result in answer.json()["results"]]
    due = await pressure.value(
        "SELECT min(settlement_date) FROM trades WHERE id = $1", trade_ids[0]
    )
    gateways = [pressure.client(n, "gateway") for n in range(SERVERS)]

    async def confirm(n: int, item: dict[str, Any]) -> int | str:
        quantity = int(item["quantity"])
        answer = await gateways[n % SERVERS].post(
            f"{API}/confirmations",
            json={
                "confirmation_id": f"CNF-{item['external_id']}",
                "counterparty_lei": item["counterparty_lei"],
                "trade_reference": item["external_id"],
                "isin": item["isin"],
                "side": "sell",
                "quantity": item["quantity"],
                "price": item["price"],
                "currency": "EUR",
                "trade_date": item["trade_date"],
                "settlement_date": str(due),
                "net_amount": f"{quantity * Decimal(item['price']):.2f}",
            },
        )
        return answer.status_code if answer.status_code == 201 else answer.text

    try:
        statuses = await asyncio.gather(*(confirm(n, item) for n, item in enumerate(items)))
    finally:
        await asyncio.gather(*(c.aclose() for c in gateways))
    assert statuses == [201] * TRADES
    confirmed = await pressure.value(
        "SELECT count(*) FROM trades WHERE id = ANY($1) AND status = 'confirmed'", trade_ids
    )
    assert confirmed == TRADES
    return trade_ids


async def cleared_counts(pressure: Pressure, trade_ids: list[str]) -> tuple[int, int, int, int]:
    """(trades instructed, distinct obligations, lineage rows, instructions) of the trades."""
    row = (
        await pressure.fetch(
            """SELECT count(*) FILTER (WHERE t.status = 'instructed'),
                  count(DISTINCT t.obligation_id),
                  (SELECT count(*) FROM obligation_trades ot WHERE ot.trade_id = ANY($1)),
                  (SELECT count(*) FROM settlement_instructions si
                   WHERE si.obligation_id IN (SELECT obligation_id FROM trades
                                              WHERE id = ANY($1)))
               FROM trades t WHERE t.id = ANY($1)""",
            trade_ids,
        )
    )[0]
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


async def settled_counts(pressure: Pressure, trade_ids: list[str]) -> tuple[int, int, int]:
    """(instructions settled in full, settlement journal entries, distinct instructions
    with one) for the trades' instructions."""
    row = (
        await pressure.fetch(
            """WITH si AS (SELECT id, status, quantity, settled_quantity
                           FROM settlement_instructions
                           WHERE obligation_id IN (SELECT obligation_id FROM trades
                                                   WHERE id = ANY($1)))
               SELECT (SELECT count(*) FROM si
                       WHERE status = 'settled' AND settled_quantity = quantity),
                      count(e.id), count(DISTINCT e.source_id)
               FROM journal_entries e JOIN si ON si.id = e.source_id
               WHERE e.source_type = 'settlement'""",
            trade_ids,
        )
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


async def ledger_is_clean(pressure: Pressure) -> None:
    async with pressure.client(2, "compliance") as api:
        check = (await api.get(f"{API}/ledger/check")).json()
    assert check["ok"] is True, check["problems"]
    assert check["first_bad_entry_id"] is None


async def test_racing_posts_with_one_key_over_three_processes_book_one_trade(
    pressure: Pressure,
) -> None:
    async with asyncio.timeout(60):
        outcome = await race(pressure.servers, pressure.db, requests=RACERS)

    assert sorted(outcome.per_server.values()) == [66, 67, 67]
    assert outcome.statuses == {201: RACERS}, outcome.bodies[:3]
    assert len(outcome.trade_ids) == 1
    assert outcome.identical_bodies
    assert outcome.replayed == RACERS - 1, f"{REPLAYED_HEADER}: true on {outcome.replayed}"
    assert (outcome.trades_booked, outcome.audit_records, outcome.idempotency_rows) == (1, 1, 1)
    assert outcome.reused_statuses == [422] * SERVERS
    assert outcome.trades_total_after_reuse == outcome.trades_total_before_reuse


async def post_on(pressure: Pressure, index: int, path: str, day: date) -> dict[str, Any]:
    async with pressure.client(index) as api:
        answer = await api.post(
            f"{API}{path}", params={"wait": "true"}, json={"settlement_date": str(day)}
        )
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


async def test_two_run_processes_with_small_chunks_share_the_work(pressure: Pressure) -> None:
    """Two clearing runs, then two settlement runs, each in a process of its own working in
    chunks of five, at once: they take turns on the work (``FOR UPDATE SKIP LOCKED``)."""
    day = pressure.days[-3]
    trade_ids = await book(pressure, "SHARED", data.add_weekdays(day, -2))
    async with asyncio.timeout(60):
        cleared = await asyncio.gather(*(interrupted(pressure, "clearing", day) for _ in "ab"))
        runs = [await get_run(pressure, "/clearing-runs", run_id) for run_id in cleared]
        assert [run["status"] for run in runs] == ["completed", "completed"], runs
        assert sum(run["processed"] for run in runs) == TRADES
        assert sum(run["obligations"] for run in runs) == TRADES
        assert await cleared_counts(pressure, trade_ids) == (TRADES, TRADES, TRADES, TRADES)

        settled = await asyncio.gather(*(interrupted(pressure, "settlement", day) for _ in "ab"))
        runs = [await get_run(pressure, "/settlement-runs", run_id) for run_id in settled]
    assert [run["status"] for run in runs] == ["completed", "completed"], runs
    assert sum(run["settled"] for run in runs) == TRADES
    assert await settled_counts(pressure, trade_ids) == (TRADES, TRADES, TRADES)
    await ledger_is_clean(pressure)


async def test_two_clearing_and_two_settlement_runs_at_once_do_each_item_once(
    pressure: Pressure,
) -> None:
    day = pressure.days[-2]
    trade_ids = await book(pressure, "TWICE", data.add_weekdays(day, -2))
    due = await pressure.value(
        "SELECT array_agg(DISTINCT settlement_date) FROM trades WHERE id = ANY($1)", trade_ids
    )
    assert due == [day]

    async with asyncio.timeout(60):
        clearing = await asyncio.gather(
            post_on(pressure, 0, "/clearing-runs", day), post_on(pressure, 1, "/clearing-runs", day)
        )
    # Both answered; whatever one run took, the other did not: the runs' work adds up to the
    # trades (a run that started after the other had taken everything reports nothing to do).
    real = [run for run in clearing if run.get("id")]
    assert all(run["status"] == "completed" for run in real), clearing
    assert sum(run["obligations"] for run in real) == TRADES
    assert sum(run["instructions"] for run in real) == TRADES
    # Gross counterparties: one obligation per trade, each trade in exactly one, instructed once.
    assert await cleared_counts(pressure, trade_ids) == (TRADES, TRADES, TRADES, TRADES)

    async with asyncio.timeout(60):
        settling = await asyncio.gather(
            post_on(pressure, 1, "/settlement-runs", day),
            post_on(pressure, 2, "/settlement-runs", day),
        )
    assert [run["status"] for run in settling] == ["completed", "completed"], settling
    assert sum(run["settled"] for run in settling) == TRADES
    assert sum(run["failed"] + run["partially_settled"] for run in settling) == 0
    # Every instruction settled in full, by exactly one journal entry.
    assert await settled_counts(pressure, trade_ids) == (TRADES, TRADES, TRADES)
    await ledger_is_clean(pressure)


async def test_racing_amendments_with_one_version_have_one_winner(pressure: Pressure) -> None:
    body = await trade_body(pressure.servers[0], pressure.db, "PRESS-AMEND")
    async with pressure.client(0, "trader") as api:
        created = await api.post(f"{API}/trades", json=body)
    assert created.status_code == 201, created.text
    trade = created.json()
    path = f"{API}/trades/{trade['id']}"
    clients = [pressure.client(n, "trader") for n in range(SERVERS)]
    go = asyncio.Event()

    async def amend(n: int) -> tuple[int, str]:
        await go.wait()
        answer = await clients[n % SERVERS].patch(
            path, json={"quantity": str(200 + n)}, headers={"If-Match": '"1"'}
        )
        return answer.status_code, str(200 + n)

    try:
        tasks = [asyncio.create_task(amend(n)) for n in range(AMENDERS)]
        await asyncio.sleep(0)
        go.set()
        async with asyncio.timeout(60):
            answers = await asyncio.gather(*tasks)
        final = (await clients[0].get(path)).json()
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 1, 412: AMENDERS - 1}, statuses
    winner = next(quantity for status, quantity in answers if status == 200)
    assert (final["version"], final["quantity"]) == (2, winner)
    audited = await pressure.value(
        "SELECT count(*) FROM audit_records WHERE entity_type = 'trade' AND entity_id = $1",
        trade["id"],
    )
    assert audited == 2  # captured, amended once


async def interrupted(
    pressure: Pressure, kind: str, day: date, run_id: str | None = None, *, stall: bool = False
) -> str:
    """Run ``kind`` for ``day`` in a process of its own, in chunks of CHUNK: a new run (or
    ``run_id`` taken up again); with ``stall`` it is killed (SIGKILL) once it stalls in chunk
    STALL_AT. Returns the run id."""
    settings = {"SETTLEMENT_TEST_RUN_CHUNK": str(CHUNK)}
    if stall:
        settings["SETTLEMENT_TEST_STALL_AT_CHUNK"] = str(STALL_AT)
    command = [sys.executable, "-m", "tests.e2e.interrupted_run", kind, str(day)]
    process = await asyncio.create_subprocess_exec(
        *command,
        *([run_id] if run_id else []),
        cwd=PROJECT_ROOT,
        env=app_environment(pressure.db.url, settings=settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while line := (await process.stdout.readline()).decode():
                lines.append(line.strip())
                if line.startswith("run "):
                    run_id = line.split()[1]
                if line.strip() == "stalled":
                    process.send_signal(signal.SIGKILL)
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    expected = -signal.SIGKILL if "stalled" in lines else 0
    assert process.returncode == expected, "\n".join(lines[-30:])
    assert run_id is not None
    return run_id


async def resume_status(pressure: Pressure, path: str, run_id: str) -> int:
    async with pressure.client(2) as api:
        return (await api.post(f"{API}{path}/{run_id}/resume")).status_code


async def resume_stalled(pressure: Pressure, path: str, run_id: str) -> dict[str, Any]:
    """Once the killed worker's lease ran out, resume the run through the API (on another
    server process than the one that started nothing: the run's own process is dead)."""
    await asyncio.sleep(LEASE + 0.5)
    async with pressure.client(1) as api:
        answer = await api.post(f"{API}{path}/{run_id}/resume", params={"wait": "true"})
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


async def get_run(pressure: Pressure, path: str, run_id: str) -> dict[str, Any]:
    async with pressure.client(0) as api:
        answer = await api.get(f"{API}{path}/{run_id}")
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


async def run_actions(pressure: Pressure, run_id: str) -> list[str]:
    rows = await pressure.fetch(
        "SELECT action FROM audit_records WHERE entity_id = $1 ORDER BY occurred_at, id", run_id
    )
    return [row[0] for row in rows]


async def verified_audit_trail(pressure: Pressure) -> dict[str, Any]:
    """``GET /audit/verify`` once the servers' sealer has sealed everything committed."""
    async with pressure.client(1, "compliance") as api, asyncio.timeout(30):
        while True:
            answer = (await api.get(f"{API}/audit/verify")).json()
            if answer.get("unsealed") == 0:
                result: dict[str, Any] = answer
                return result
            await asyncio.sleep(0.2)


async def test_runs_killed_mid_chunk_resume_and_do_each_item_once(pressure: Pressure) -> None:
    day = pressure.days[-1]
    trade_ids = await book(pressure, "KILLED", data.add_weekdays(day, -2))
    committed = (STALL_AT - 1) * CHUNK

    # Clearing: killed in its third chunk; the two chunks before it stay done.
    run_id = await interrupted(pressure, "clearing", day, stall=True)
    run = await get_run(pressure, "/clearing-runs", run_id)
    assert (run["status"], run["processed"], run["total"]) == ("running", committed, TRADES)
    assert (await cleared_counts(pressure, trade_ids))[1] == committed
    # Its dead worker's lease still holds: the API cannot tell it yet from a live one.
    assert await resume_status(pressure, "/clearing-runs", run_id) == 409
    # Stalled once the lease ran out: a resume takes it over and goes on from what was committed.
    run = await resume_stalled(pressure, "/clearing-runs", run_id)
    assert (run["status"], run["processed"]) == ("completed", TRADES)
    assert (run["obligations"], run["instructions"]) == (TRADES, TRADES)
    assert await cleared_counts(pressure, trade_ids) == (TRADES, TRADES, TRADES, TRADES)
    assert await run_actions(pressure, run_id) == ["started", "taken_over", "completed"]

    # Settlement: the same, instructions settled once each.
    run_id = await interrupted(pressure, "settlement", day, stall=True)
    run = await get_run(pressure, "/settlement-runs", run_id)
    assert (run["status"], run["processed"], run["settled"]) == ("running", committed, committed)
    assert await settled_counts(pressure, trade_ids) == (committed, committed, committed)
    run = await resume_stalled(pressure, "/settlement-runs", run_id)
    assert (run["status"], run["processed"], run["settled"]) == ("completed", TRADES, TRADES)
    assert await settled_counts(pressure, trade_ids) == (TRADES, TRADES, TRADES)
    assert await run_actions(pressure, run_id) == ["started", "taken_over", "completed"]

    await ledger_is_clean(pressure)
    verified = await verified_audit_trail(pressure)
    assert (verified["ok"], verified["first_bad_seq"], verified["drift_count"]) == (
        True,
        None,
        0,
    ), verified
    assert verified["checked"] == verified["head_seq"] > 0
