"""PostgreSQL's CPU per capture group of POST /trades: the app in process (ASGI), requests sent
in waves of k at once, so that each wave is booked as one capture group of k (the group's
drainer runs only once every request of the wave has queued); PostgreSQL backends' CPU
(/proc schedstat, to the nanosecond: the server is on this host) per capture at each k.
From k=1 and the largest k: the fixed cost of a group and the cost of each capture in it,
CPU(k) per capture = fixed / k + per capture.

    python -m bench.group_cost [--captures N] [--waves 1 16] [--server-log PATH]

``--server-log``: the PostgreSQL server's log file (``SELECT pg_current_logfile()``, or the
distribution's, e.g. /var/log/postgresql/postgresql-15-main.log); the bench database then gets
``log_statement_stats`` (its own sessions only), and each wave size's CPU is split by protocol
message (parse, bind: planning; execute; simple queries: BEGIN, COMMIT with its deferred
triggers) and statement. The split leaves out what a backend does between messages (socket
reads and writes, logging), and includes the app's background work (the audit sealer).

Checks: every answer 201; every trade booked.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg

from bench.ingest import Payloads
from bench.lib import cli
from bench.lib.data import API, fetch_all
from bench.lib.db import MONITOR_APP, BenchDatabase, connect
from bench.lib.measure import run_seconds
from bench.lib.report import Check, Measure, Result
from bench.lib.servers import in_process_app

PROG = "bench.group_cost"
SIZES = (
    cli.Size("captures", 640, 3_200, "captures per wave size"),
    cli.Size("waves", [1, 16], [1, 4, 16], "wave sizes: requests sent at once"),
    cli.Size("server_log", "", "", "the PostgreSQL server's log file: CPU split by message"),
)
WARMUP = (1, 16, 16, 16)  # waves of 8 each, so that every pooled connection has prepared
_STATS = re.compile(
    r"^\S+ (\S+) \S+ \[\d+\] \S+@(\S+) LOG:  (PARSE MESSAGE|BIND MESSAGE|EXECUTE MESSAGE|QUERY)"
    r" STATISTICS"
)
Split = dict[tuple[str, str], list[float]]  # (message kind, statement): [calls, CPU seconds]
_USAGE = re.compile(r"!\s+([\d.]+) s user, ([\d.]+) s system")


async def _backend_cpu(monitor: asyncpg.Connection) -> dict[int, float]:
    rows = await monitor.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND application_name <> $1",
        MONITOR_APP,
    )
    return {row["pid"]: run_seconds(row["pid"]) or 0.0 for row in rows}


def _message_split(log: Path, offset: int, database: str, window: tuple[str, str]) -> Split:
    """CPU seconds and calls per (message kind, statement's first words) logged by
    ``log_statement_stats`` for ``database`` within ``window`` (server times)."""
    with log.open(errors="replace") as file:
        file.seek(offset)
        lines = file.read().split("\n")
    split: Split = defaultdict(lambda: [0, 0.0])
    for n, line in enumerate(lines):
        found = _STATS.match(line)
        if not found or found[2] != database or not window[0] <= found[1] <= window[1]:
            continue
        usage = _USAGE.search(lines[n + 2])
        text, at = "", n + 1
        while at < len(lines) and "STATEMENT:" not in lines[at]:
            at += 1
        if at < len(lines):
            text = lines[at].split("STATEMENT:", 1)[1].strip()
            while not text and at + 1 < len(lines) and lines[at + 1].startswith("\t"):
                at += 1
                text = lines[at].strip()
        entry = split[(found[3].split()[0], " ".join(text.split())[:60])]
        entry[0] += 1
        entry[1] += float(usage[1]) + float(usage[2]) if usage else 0.0
    return split


def _print_split(split: Split, captures: int) -> None:
    total = sum(cpu for _, cpu in split.values())
    print(f"  by message: {1e6 * total / captures:,.0f} us a capture in all")
    for (kind, text), (calls, cpu) in sorted(split.items(), key=lambda item: -item[1][1])[:16]:
        each = 1e6 * cpu / calls
        print(
            f"  {1e6 * cpu / captures:7.0f} us a capture {calls:6.0f} x {each:5.0f} us"
            f"  {kind:7} {text}"
        )


async def _waves(
    args: argparse.Namespace, db: BenchDatabase, monitor: Any
) -> tuple[dict[int, float], int]:
    """PostgreSQL CPU per capture at each wave size; how many were answered 201."""
    log = Path(args.server_log) if args.server_log else None
    cpu: dict[int, float] = {}
    answered, tag = 0, time.strftime("%H%M%S")
    async with in_process_app(db, pool_size=20) as app, app.client("trader") as api:
        leis = [c["lei"] for c in await fetch_all(api, "/counterparties")]
        payloads, sent = Payloads(await fetch_all(api, "/instruments"), leis), 0

        async def wave(size: int) -> None:
            nonlocal sent, answered
            numbers, sent = range(sent, sent + size), sent + size
            statuses = await asyncio.gather(*(post(n) for n in numbers))
            answered += statuses.count(201)

        async def post(n: int) -> int:
            headers = {"Idempotency-Key": f"group-{tag}-{n}"}
            body = payloads.body(n, f"GRP{tag}")
            return (await api.post(f"{API}/trades", json=body, headers=headers)).status_code

        for size in WARMUP:
            for _ in range(8):
                await wave(size)
        for size in args.waves:
            offset = log.stat().st_size if log else 0
            began = await monitor.fetchval("SELECT clock_timestamp()::time::text")
            before = await _backend_cpu(monitor)
            for _ in range(args.captures // size):
                await wave(size)
            after = await _backend_cpu(monitor)
            ended = await monitor.fetchval("SELECT clock_timestamp()::time::text")
            used = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
            count = size * (args.captures // size)
            cpu[size] = used / count
            print(f"waves of {size}: {count} captures, PostgreSQL {1e3 * cpu[size]:.3f} ms each")
            if log:
                _print_split(_message_split(log, offset, db.name, (began, ended)), count)
    return cpu, answered - sent


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    monitor = await connect(db.url)
    try:
        if args.server_log:
            await monitor.execute(f'ALTER DATABASE "{db.name}" SET log_statement_stats = on')
        cpu, refused = await _waves(args, db, monitor)
        warm = sum(8 * size for size in WARMUP)
        booked = await monitor.fetchval("SELECT count(*) FROM trades WHERE external_id LIKE 'GRP%'")
    finally:
        await monitor.close()
    expected = warm + sum(size * (args.captures // size) for size in args.waves)
    measures = [
        Measure(f"PostgreSQL CPU a capture, groups of {k}", f"{1e3 * c:.3f} ms")
        for k, c in cpu.items()
    ]
    large = max(cpu)
    if 1 in cpu and large > 1:
        fixed = (cpu[1] - cpu[large]) * large / (large - 1)
        measures.append(Measure("PostgreSQL CPU fixed a group", f"{1e3 * fixed:.3f} ms"))
        measures.append(
            Measure("PostgreSQL CPU a capture in it", f"{1e3 * (cpu[1] - fixed):.3f} ms")
        )
    checks = [
        Check("POST /trades not answered 201", 0, -refused),
        Check("trades booked", expected, booked),
    ]
    return Result(PROG, "", measures, checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
