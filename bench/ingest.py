"""Trade capture throughput against PostgreSQL, over HTTP to real uvicorn processes.

    python -m bench.ingest [--trades 50000] [--batch 5000] [--requests 3000] [--concurrency 32]
                           [--servers 1]

One run prints, as tables:

(i)   POST /trades/batch with ``--batch`` trades a request (one batch in flight per server)
      -> trades/s;
(ii)  the same number of rows written by raw asyncpg COPY into ``trades`` (one transaction per
      ``--batch`` rows) -> rows/s, and the ratio (i)/(ii) (goal >= 0.20);
(iii) single POST /trades with ``--concurrency`` clients -> requests/s, p50/p99 latency;
(iv)  GET /healthz on the same servers with the same load, and the ratio (iii)/(iv)
      (goal >= 0.35);
with the CPU the servers, this client and the host used in each phase, and the peak RSS of
the servers and the client.

Every request goes to 127.0.0.1; counts are bounded by the arguments and each phase by
``--phase-timeout``. The database (``--database``) is created afresh and dropped at the end
unless ``--keep-database``. Payloads are built before each phase starts, so the client's time
to build them is not measured; each HTTP phase starts after a short, unmeasured warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from app.core.auth import Role
from bench.common import (
    API,
    TRADE_COLUMNS,
    BenchDatabase,
    CpuMeter,
    Server,
    add_server_arguments,
    check_limits,
    connect,
    drop_database,
    fmt_int,
    fmt_mib,
    fmt_ms,
    fmt_pct,
    peak_rss_kib,
    percentile,
    prepare_database,
    render_table,
    running_servers,
    trade_payload,
    trade_record,
)

BATCH_GOAL = 0.20
SINGLE_GOAL = 0.35
WARMUP_REQUESTS = 64
WARMUP_BATCH = 100


@dataclass
class Phase:
    name: str
    unit: str
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter | None = None
    rows_before: int | None = None

    @property
    def wall(self) -> float:
        return self.cpu.wall if self.cpu else 0.0

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def row(self) -> list[str]:
        cpu = self.cpu
        return [
            self.name,
            "-" if self.rows_before is None else fmt_int(self.rows_before),
            fmt_int(self.count),
            fmt_int(self.errors),
            f"{self.wall:,.2f}",
            f"{fmt_int(self.rate)} {self.unit}",
            fmt_ms(percentile(self.latencies, 50)),
            fmt_ms(percentile(self.latencies, 99)),
            fmt_pct(cpu.servers_pct) if cpu else "-",
            fmt_pct(cpu.postgres_pct) if cpu and cpu.postgres_pct is not None else "-",
            fmt_pct(cpu.client_pct) if cpu else "-",
            fmt_pct(cpu.host_pct) if cpu else "-",
        ]


PHASE_HEADERS = [
    "phase",
    "trades rows before",
    "count",
    "errors",
    "wall s",
    "throughput",
    "p50 ms",
    "p99 ms",
    "servers CPU",
    "postgres CPU",
    "client CPU",
    "host CPU",
]


def _run_tag() -> str:
    return datetime.now(UTC).strftime("%H%M%S")


def _client(
    server: Server, headers: dict[str, str], *, timeout: float, connections: int
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.base_url,
        headers=headers,
        timeout=timeout,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


# --- (i) batches over HTTP --------------------------------------------------------------------


async def _post_batch(
    client: httpx.AsyncClient, items: list[dict[str, Any]], key: str
) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post(
        f"{API}/trades/batch", json={"items": items}, headers={"Idempotency-Key": key}
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"batch {key}: {response.status_code} {response.text[:500]}")
    body = response.json()
    if body["created"] != len(items):
        bad = next(r for r in body["results"] if r["outcome"] != "created")
        raise RuntimeError(f"batch {key}: {body['created']}/{len(items)} created; first: {bad}")
    return len(items), elapsed


async def batch_phase(
    servers: Sequence[Server],
    db: BenchDatabase,
    monitor: asyncpg.Connection,
    *,
    trades: int,
    batch: int,
    tag: str,
) -> Phase:
    payloads = [trade_payload(n, prefix=f"BAT{tag}") for n in range(trades)]
    batches = [payloads[i : i + batch] for i in range(0, trades, batch)]
    phase = Phase(f"(i) POST /trades/batch ({batch:,}/request)", "trades/s")
    clients = [
        _client(server, db.headers(Role.TRADER), timeout=600, connections=1) for server in servers
    ]
    try:
        for i, client in enumerate(clients):  # warm-up: compile queries, fill caches
            warm = [trade_payload(n, prefix=f"WBA{tag}{i}") for n in range(WARMUP_BATCH)]
            await _post_batch(client, warm, f"warm-batch-{tag}-{i}")
        queue = iter(enumerate(batches))

        async def worker(client: httpx.AsyncClient) -> None:
            for index, items in queue:
                count, elapsed = await _post_batch(client, items, f"batch-{tag}-{index}")
                phase.count += count
                phase.latencies.append(elapsed)

        phase.cpu = CpuMeter([s.pid for s in servers], monitor, db.name)
        await phase.cpu.start()
        await asyncio.gather(*(worker(client) for client in clients))
        await phase.cpu.stop()
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return phase


# --- (ii) raw COPY ----------------------------------------------------------------------------


async def copy_phase(
    db: BenchDatabase, monitor: asyncpg.Connection, *, rows: int, batch: int, tag: str
) -> Phase:
    now = datetime.now(UTC)
    created_by = db.keys[Role.TRADER].id
    records = [
        trade_record(n, prefix=f"CPY{tag}", created_by=created_by, now=now) for n in range(rows)
    ]
    chunks = [records[i : i + batch] for i in range(0, rows, batch)]
    phase = Phase(f"(ii) asyncpg COPY into trades ({batch:,}/transaction)", "rows/s")
    connection = await connect(db.url)
    try:
        warm = [
            trade_record(n, prefix=f"WCP{tag}", created_by=created_by, now=now)
            for n in range(WARMUP_BATCH)
        ]
        async with connection.transaction():
            await connection.copy_records_to_table("trades", records=warm, columns=TRADE_COLUMNS)
        phase.cpu = CpuMeter([], monitor, db.name)
        await phase.cpu.start()
        for chunk in chunks:
            started = time.perf_counter()
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "trades", records=chunk, columns=TRADE_COLUMNS
                )
            phase.latencies.append(time.perf_counter() - started)
            phase.count += len(chunk)
        await phase.cpu.stop()
    finally:
        await connection.close()
    return phase


# --- (iii)/(iv) concurrent single requests ----------------------------------------------------

Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def load_phase(
    name: str,
    servers: Sequence[Server],
    headers: dict[str, str],
    send: Send,
    meter: CpuMeter,
    *,
    requests: int,
    concurrency: int,
    expect: int,
) -> Phase:
    """``requests`` calls of ``send`` by ``concurrency`` clients (one connection each),
    spread over the servers round-robin; a short warm-up first."""
    phase = Phase(name, "req/s")
    clients = [
        _client(servers[i % len(servers)], headers, timeout=60, connections=1)
        for i in range(concurrency)
    ]
    try:
        warm = iter(range(-WARMUP_REQUESTS, 0))
        measured = iter(range(requests))

        async def worker(client: httpx.AsyncClient, numbers: Any, record: bool) -> None:
            for number in numbers:
                started = time.perf_counter()
                response = await send(client, number)
                elapsed = time.perf_counter() - started
                if not record:
                    continue
                phase.count += 1
                phase.latencies.append(elapsed)
                if response.status_code != expect:
                    phase.errors += 1
                    if phase.errors == 1:
                        print(f"{name}: {response.status_code} {response.text[:300]}")

        await asyncio.gather(*(worker(client, warm, False) for client in clients))
        phase.cpu = meter
        await meter.start()
        await asyncio.gather(*(worker(client, measured, True) for client in clients))
        await meter.stop()
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return phase


async def single_trade_phase(
    servers: Sequence[Server],
    db: BenchDatabase,
    monitor: asyncpg.Connection,
    *,
    requests: int,
    concurrency: int,
    tag: str,
) -> Phase:
    bodies = {n: trade_payload(n, prefix=f"ONE{tag}") for n in range(-WARMUP_REQUESTS, requests)}

    async def send(client: httpx.AsyncClient, number: int) -> httpx.Response:
        return await client.post(
            f"{API}/trades",
            json=bodies[number],
            headers={"Idempotency-Key": f"one-{tag}-{number}"},
        )

    return await load_phase(
        "(iii) POST /trades (one trade, Idempotency-Key)",
        servers,
        db.headers(Role.TRADER),
        send,
        CpuMeter([s.pid for s in servers], monitor, db.name),
        requests=requests,
        concurrency=concurrency,
        expect=201,
    )


async def healthz_phase(
    servers: Sequence[Server],
    db: BenchDatabase,
    monitor: asyncpg.Connection,
    *,
    requests: int,
    concurrency: int,
) -> Phase:
    async def send(client: httpx.AsyncClient, _number: int) -> httpx.Response:
        return await client.get("/healthz")

    return await load_phase(
        "(iv) GET /healthz (no-op)",
        servers,
        {},
        send,
        CpuMeter([s.pid for s in servers], monitor, db.name),
        requests=requests,
        concurrency=concurrency,
        expect=200,
    )


# --- The run ----------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _ratio_row(name: str, value: float, goal: float) -> list[str]:
    return [name, f"{value:.3f}", f">= {goal:.2f}", "yes" if value >= goal else "NO"]


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def _postgres_version(db: BenchDatabase) -> str:
    connection = await connect(db.url)
    try:
        version: str = await connection.fetchval("SHOW server_version")
        return version
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> int:
    tag = _run_tag()
    db = await prepare_database(args.database, args.pg_url)
    try:
        print(
            f"host: {os.cpu_count()} cores, load average {_load_average()}, "
            f"Python {platform.python_version()}, PostgreSQL {await _postgres_version(db)}; "
            f"database {db.name}, {args.servers} server process(es), "
            f"app log level {args.app_log_level}"
        )
        async with running_servers(
            args.servers, db.url, app_log_level=args.app_log_level
        ) as servers:
            print(f"servers: {', '.join(f'{s.base_url} (pid {s.pid})' for s in servers)}")
            sys.stdout.flush()
            timeout = args.phase_timeout
            monitor = await connect(db.url)
            try:

                async def timed(phase: Awaitable[Phase]) -> Phase:
                    rows: int = await monitor.fetchval("SELECT count(*) FROM trades")
                    async with asyncio.timeout(timeout):
                        done = await phase
                    done.rows_before = rows
                    return done

                batch = await timed(
                    batch_phase(servers, db, monitor, trades=args.trades, batch=args.batch, tag=tag)
                )
                copy = await timed(
                    copy_phase(db, monitor, rows=batch.count, batch=args.batch, tag=tag)
                )
                single = await timed(
                    single_trade_phase(
                        servers,
                        db,
                        monitor,
                        requests=args.requests,
                        concurrency=args.concurrency,
                        tag=tag,
                    )
                )
                noop = await timed(
                    healthz_phase(
                        servers, db, monitor, requests=args.requests, concurrency=args.concurrency
                    )
                )
            finally:
                await monitor.close()
            for server in servers:
                server.sample()
        phases = [batch, copy, single, noop]
        print()
        print(render_table(PHASE_HEADERS, [phase.row() for phase in phases], title="Throughput"))
        print(
            "(latency of (i) and (ii) is per batch / per COPY transaction; CPU: % of one core "
            "for processes, % of all cores for the host)"
        )
        print()
        ratios = [
            _ratio_row(
                "(i) / (ii)  batch HTTP vs raw COPY", _ratio(batch.rate, copy.rate), BATCH_GOAL
            ),
            _ratio_row(
                "(iii) / (iv)  POST /trades vs GET /healthz",
                _ratio(single.rate, noop.rate),
                SINGLE_GOAL,
            ),
        ]
        print(render_table(["ratio", "value", "goal", "met"], ratios, title="Ratios"))
        print()
        memory = [[f"server pid {s.pid} (:{s.port})", fmt_mib(s.peak_rss_kib)] for s in servers]
        memory.append([f"bench client pid {os.getpid()}", fmt_mib(peak_rss_kib())])
        print(render_table(["process", "peak RSS (VmHWM)"], memory, title="Memory"))
        print()
        print(f"load average at the end: {_load_average()}")
        failures = sum(phase.errors for phase in phases)
        return 1 if failures else 0
    finally:
        if not args.keep_database:
            await drop_database(db.name, args.pg_url)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--trades", type=int, default=50_000, help="trades to book by batch")
    parser.add_argument("--batch", type=int, default=5_000, help="trades per batch (<= 10000)")
    parser.add_argument("--requests", type=int, default=3_000, help="single requests per phase")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--servers", type=int, default=1, help="uvicorn processes")
    add_server_arguments(parser, database="settlement_bench_ingest", phase_timeout=900)
    args = parser.parse_args(argv)
    limits = {
        "--trades": (args.trades, 1, 1_000_000),
        "--batch": (args.batch, 1, 10_000),
        "--requests": (args.requests, 1, 100_000),
        "--concurrency": (args.concurrency, 1, 512),
        "--servers": (args.servers, 1, 16),
    }
    check_limits(parser, limits)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    print("$ " + shlex.join([sys.executable, "-m", "bench.ingest", *argv]))
    sys.stdout.flush()
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
