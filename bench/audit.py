"""What the audit trail costs trade capture: POST /trades from concurrent clients to one and to
several uvicorn processes, with the trail on and off (goal: on / off >= 0.8), and how far the
sealer lags behind the writers at that load.

    python -m bench.audit [--full] [--requests N] [--concurrency N] [--servers N [N ...]]

Audit off (``SETTLEMENT_AUDIT_TRAIL=false``) exists for this measure only: changes then leave
no record. The sealer's lag is read from the database while the load runs: every 20 ms, how
long the oldest record waiting for a seal has waited (commit to now), and, afterwards, each
trade record's ``sealed_at - occurred_at`` (its request's start to its seal: an upper bound).

Where the cost goes, per phase: each server's requests served and CPU (and which one holds the
sealer's lock), the CPU per request of the servers and of their PostgreSQL backends (read from
/proc: other work on the host does not count), and what the app's connections waited on
(pg_stat_activity every 0.1 s). ``--py-spy DIR`` samples every server during each phase.

Checks: every answer 201; with the trail on, one record per trade, all sealed in one gap-free
chain; with it off, none.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.ingest import WARMUP, Payloads, Phase, posts
from bench.lib import cli
from bench.lib.data import fetch_all
from bench.lib.db import MONITOR_APP, BenchDatabase, connect
from bench.lib.loadgen import Job, LoadGenerator
from bench.lib.measure import CpuMeter, PgCounters, WaitSampler, cpu_seconds
from bench.lib.profile import profiled
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, percentile
from bench.lib.servers import Server, addresses, client, running_servers

PROG = "bench.audit"
SIZES = (
    cli.Size("requests", 2_000, 10_000, "POST /trades per phase"),
    cli.Size("concurrency", 32, 32, "concurrent clients"),
    cli.Size("servers", [1, 2], [1, 2, 4], "uvicorn processes, one set of phases each"),
)
GOAL = 0.8
SAMPLE_EVERY = 0.02


@dataclass
class LagSampler:
    """How long the oldest unsealed record has waited, sampled while the load runs."""

    monitor: asyncpg.Connection
    ages: list[float] = field(default_factory=list)
    backlog: list[int] = field(default_factory=list)

    async def sample(self) -> None:
        row = await self.monitor.fetchrow(
            "SELECT count(*) AS waiting, "
            "coalesce(extract(epoch FROM clock_timestamp() - min(queued_at)), 0) AS age "
            "FROM audit_unsealed"
        )
        self.ages.append(float(row["age"]))
        self.backlog.append(int(row["waiting"]))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LagSampler]:
        async def loop() -> None:
            while True:
                await self.sample()
                await asyncio.sleep(SAMPLE_EVERY)

        task = asyncio.create_task(loop())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drained(self, within: float = 30.0) -> float:
        """Seconds until nothing waits for a seal after the load stopped."""
        started = time.perf_counter()
        while time.perf_counter() - started < within:
            if not await self.monitor.fetchval("SELECT count(*) FROM audit_unsealed"):
                return time.perf_counter() - started
            await asyncio.sleep(0.01)
        return float("nan")


_APP_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND application_name <> $1"
)
# Only the sealer takes an advisory lock (app.core.leadership): whoever holds one seals.
_SEALER_PORT = (
    "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()"
)


@dataclass
class Processes:
    """Over a phase: each server's CPU seconds and requests served, and the CPU seconds of the
    app's PostgreSQL backends (by pid in /proc; a backend that ends meanwhile is not counted)."""

    servers: Sequence[Server]
    monitor: Any
    served: list[int] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    backend_cpu: float = 0.0
    sealer: int | None = None  # index of the server holding the sealer's lock
    _backends: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.served = [0] * len(self.servers)

    async def _backend_seconds(self) -> dict[int, float]:
        pids = [row["pid"] for row in await self.monitor.fetch(_APP_BACKENDS, MONITOR_APP)]
        return {pid: cpu_seconds(pid) or 0.0 for pid in pids}

    async def start(self) -> None:
        self.served = [0] * len(self.servers)
        self.server_cpu = [-(cpu_seconds(s.pid) or 0.0) for s in self.servers]
        self._backends = await self._backend_seconds()

    async def stop(self) -> None:
        self.server_cpu = [
            c + (cpu_seconds(s.pid) or 0.0)
            for c, s in zip(self.server_cpu, self.servers, strict=True)
        ]
        after = await self._backend_seconds()
        self.backend_cpu = sum(
            seconds - self._backends.get(pid, 0.0) for pid, seconds in after.items()
        )
        port = await self.monitor.fetchval(_SEALER_PORT)
        self.sealer = None if port is None else _server_with_port(self.servers, port)

    def per_request_ms(self) -> tuple[float, float]:
        """CPU milliseconds per request served: the servers', their backends'."""
        count = max(sum(self.served), 1)
        return 1000 * sum(self.server_cpu) / count, 1000 * self.backend_cpu / count

    def line(self, wall: float) -> str:
        each = ", ".join(
            f"#{i}{' (sealer)' * (i == self.sealer)} {served:,} req, CPU {100 * cpu / wall:.0f}%"
            for i, (served, cpu) in enumerate(zip(self.served, self.server_cpu, strict=True))
        )
        servers, backends = self.per_request_ms()
        return (
            f"  servers: {each}\n  CPU per request: servers {servers:.2f} ms, "
            f"their PostgreSQL backends {backends:.2f} ms"
        )


def _server_with_port(servers: Sequence[Server], port: int) -> int | None:
    """Which server has a socket on local port ``port`` (its end of a database connection)."""
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(fields[9])
    for index, server in enumerate(servers):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{server.pid}/fd"):
                target = os.readlink(f"/proc/{server.pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return index
    return None


async def measured(
    phase: Phase,
    db: BenchDatabase,
    monitor: Any,
    processes: Processes,
    job: Job,
    profile: Path | None,
) -> Phase:
    """``job`` from the load generator (its connections warmed first), measured as
    ``bench.ingest.generated`` with each server's share, their backends' CPU, the waits, and
    py-spy on every server when asked."""
    servers = processes.servers
    generator = await LoadGenerator.start(job)
    pg = PgCounters(monitor)
    phase.cpu = CpuMeter([s.pid for s in servers])
    slug = phase.name.replace(" ", "").replace(",", "-").replace("/", "")
    async with contextlib.AsyncExitStack() as stack:
        for i, server in enumerate(servers):
            await stack.enter_async_context(profiled(profile, f"{slug}-{i}", server.pid))
        waits = await stack.enter_async_context(WaitSampler(db.url))
        await pg.start()
        await processes.start()
        phase.cpu.start()
        await generator.run()
        phase.cpu.stop()
        await processes.stop()
        await pg.stop()
        outcome = await generator.outcome()
        phase.take(outcome, 201)
        for target in outcome.targets:
            processes.served[target] += 1
        print(f"{phase.name}: {phase.count:,} in {phase.cpu.wall:.2f} s; {phase.cpu_line()}")
        print(processes.line(phase.cpu.wall))
        print(f"  {waits.line()}")
        print(f"  {pg.line(max(phase.count, 1), 'trade')}")
    return phase


@dataclass
class Run:
    servers: int
    audit: bool
    phase: Phase
    peak: str
    processes: Processes
    lag: LagSampler | None = None
    drain: float = 0.0
    seal_spread: list[float] = field(default_factory=list)
    records: int = 0
    trades: int = 0


async def capture(
    args: argparse.Namespace, db: BenchDatabase, monitor: Any, count: int, audit: bool
) -> Run:
    tag = f"{'A' if audit else 'N'}{count}{datetime.now(UTC).strftime('%H%M%S')}"
    settings = {"SETTLEMENT_AUDIT_TRAIL": "true" if audit else "false"}
    async with running_servers(count, db.url, settings=settings) as servers:
        async with client(servers[0].base_url, db.headers()) as api:
            leis = [c["lei"] for c in await fetch_all(api, "/counterparties")]
            payloads = Payloads(await fetch_all(api, "/instruments"), leis)
        processes = Processes(servers, monitor)
        headers = db.headers()
        warm = posts(headers, payloads, tag, range(-WARMUP, 0), key=tag)
        requests = posts(headers, payloads, tag, range(args.requests), key=tag)
        work = Job(addresses(servers), requests, args.concurrency, warm)
        name = f"POST /trades, {count} server{'s' * (count > 1)}, audit {'on' if audit else 'off'}"
        lag = LagSampler(await connect(db.url)) if audit else None
        async with lag.running() if lag else contextlib.nullcontext():
            phase = await measured(Phase(name, "req/s"), db, monitor, processes, work, args.py_spy)
        drain = await lag.drained() if lag else 0.0
        peak = _peak(servers)
    run = Run(count, audit, phase, peak, processes, lag, drain)
    await _count(run, monitor, tag)
    if lag:
        await lag.monitor.close()
    return run


def _peak(servers: list[Server]) -> str:
    for server in servers:
        server.sample()
    return fmt_mib(max(s.peak_mib or 0.0 for s in servers))


async def _count(run: Run, monitor: Any, tag: str) -> None:
    run.trades = await monitor.fetchval(
        "SELECT count(*) FROM trades WHERE external_id LIKE $1", f"{tag}-%"
    )
    rows = await monitor.fetch(
        "SELECT extract(epoch FROM s.sealed_at - r.occurred_at) AS spread "
        "FROM trades t JOIN audit_records r ON r.entity_type = 'trade' AND r.entity_id = t.id "
        "LEFT JOIN audit_seals s ON s.record_id = r.id "
        # Trades on a locked-in venue (Xetra) also have a "confirmed_locked_in" record.
        "WHERE t.external_id LIKE $1 AND r.action = 'captured'",
        f"{tag}-%",
    )
    run.records = len(rows)
    run.seal_spread = [float(r["spread"]) for r in rows if r["spread"] is not None]


async def chain_checks(monitor: Any) -> list[Check]:
    records = await monitor.fetchval("SELECT count(*) FROM audit_records")
    seals = await monitor.fetchrow(
        "SELECT count(*) AS n, coalesce(min(seq), 1) AS low, coalesce(max(seq), 0) AS high "
        "FROM audit_seals"
    )
    return [
        Check("audit records all sealed", records, seals["n"]),
        Check(
            "seals gap-free (max - min + 1 = count)", seals["n"], seals["high"] - seals["low"] + 1
        ),
    ]


def measures(runs: list[Run]) -> list[Measure]:
    rows: list[Measure] = []
    off = {run.servers: run for run in runs if not run.audit}
    for run in (r for r in runs if r.audit):
        base = off[run.servers].phase
        rows.append(run.phase.against(base, GOAL, run.peak))
        rows.append(_cpu_row(run, off[run.servers]))
        assert run.lag is not None
        ages = run.lag.ages
        rows.append(
            Measure(
                f"  sealer lag, {run.servers} server{'s' * (run.servers > 1)} (oldest unsealed)",
                f"max {fmt_ms(max(ages, default=0.0))}; drained {fmt_ms(run.drain)} after",
                f"backlog p99 {fmt_int(percentile(run.lag.backlog, 99))} records",
                "",
                fmt_ms(percentile(ages, 50)),
                fmt_ms(percentile(ages, 99)),
            )
        )
        spread = run.seal_spread
        rows.append(
            Measure(
                "  request start to seal, per trade record",
                f"max {fmt_ms(max(spread, default=0.0))}",
                "",
                "",
                fmt_ms(percentile(spread, 50)),
                fmt_ms(percentile(spread, 99)),
            )
        )
    return rows


def _cpu_row(on: Run, off: Run) -> Measure:
    """CPU per request, trail on against off: what the trail costs whatever else the host runs."""
    (servers, backends), (base_servers, base_backends) = (
        run.processes.per_request_ms() for run in (on, off)
    )
    total, base = servers + backends, base_servers + base_backends
    return Measure(
        "  CPU per request: servers + their PostgreSQL backends",
        f"{servers:.2f} + {backends:.2f} ms",
        f"{base_servers:.2f} + {base_backends:.2f} ms",
        f"{base / total:.4f}" if total else "",
    )


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    monitor = await connect(db.url)
    runs = []
    for count in args.servers:
        for audit in (True, False):
            runs.append(await capture(args, db, monitor, count, audit))
    checks = []
    for run in runs:
        label = f"{run.servers} server(s), audit {'on' if run.audit else 'off'}"
        checks.append(Check(f"{label}: answers not 201", 0, run.phase.errors))
        checks.append(Check(f"{label}: trades booked", args.requests + WARMUP, run.trades))
        expected = run.trades if run.audit else 0
        checks.append(Check(f"{label}: trades' captured records", expected, run.records))
    checks += await chain_checks(monitor)
    await monitor.close()
    return Result(PROG, "", measures(runs), checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
