"""A batch run (clearing, settlement) asked for through the API in this process with
``?wait=true``, measured from the outside: each transaction's SQL by kind and its COMMIT (engine
events), CPU, what the app's connections waited on, memory after each commit, optional py-spy."""

from __future__ import annotations

import gc
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lib.data import API
from bench.lib.measure import (
    CpuMeter,
    SqlRecorder,
    Transaction,
    WaitSampler,
    peak_rss_mib,
    reset_peak_rss,
    rss_mib,
)
from bench.lib.profile import profiled
from bench.lib.report import render_table
from bench.lib.servers import InProcessApp


@dataclass
class MeasuredRun:
    answer: dict[str, Any]
    status: int
    wall: float
    transactions: list[Transaction]
    cpu: CpuMeter
    waits: WaitSampler
    rss_before: float
    peak: float | None
    statements: Counter[str] = field(default_factory=Counter)


async def measured_run(
    app: InProcessApp, path: str, body: dict[str, Any], py_spy: Path | None, name: str
) -> MeasuredRun:
    """POST ``path?wait=true`` as operations and wait for the run to finish."""
    gc.collect()
    reset_peak_rss()
    before = rss_mib()
    cpu = CpuMeter()
    async with app.client("operations") as api, WaitSampler(app.db.url) as waits:
        with SqlRecorder() as sql:
            async with profiled(py_spy, name):
                cpu.start()
                response = await api.post(f"{API}{path}", params={"wait": "true"}, json=body)
                cpu.stop()
    answer = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    print(f"{name}: HTTP {response.status_code} in {cpu.wall:.1f} s; {cpu.line()}; {waits.line()}")
    return MeasuredRun(
        answer,
        response.status_code,
        cpu.wall,
        sql.transactions,
        cpu,
        waits,
        before,
        peak_rss_mib(),
        sql.total.statements,
    )


def breakdown(transactions: Sequence[Transaction], title: str) -> str:
    """Where a kind of transaction's time went, per transaction: SQL by kind, COMMIT, the rest."""
    n = len(transactions) or 1
    wall = sum(t.wall for t in transactions) or 1.0
    seconds: defaultdict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    for t in transactions:
        counts.update(t.statements)
        for label, value in t.seconds.items():
            seconds[label] += value
    rows = []
    for label, value in sorted(seconds.items(), key=lambda item: -item[1])[:12]:
        rows.append(
            [
                f"SQL {label}",
                f"{counts[label] / n:,.1f}",
                f"{1000 * value / n:,.1f}",
                f"{100 * value / wall:.0f}%",
            ]
        )
    sql = sum(t.sql_s for t in transactions)
    commit = sum(t.commit_s for t in transactions)
    for label, value in (
        ("COMMIT", commit),
        ("Python, event loop (the rest)", wall - sql - commit),
        ("total", wall),
    ):
        rows.append([label, "", f"{1000 * value / n:,.1f}", f"{100 * value / wall:.0f}%"])
    return render_table(["where the time went", "stmts/tx", "ms/tx", "share"], rows, title=title)


def chunk_line(chunks: Sequence[Transaction]) -> str:
    walls = [t.wall for t in chunks]
    if not walls:
        return "no chunk seen"
    walls_sorted = sorted(walls)
    return (
        f"{len(walls):,} chunks: median {1000 * walls_sorted[len(walls) // 2]:,.0f} ms, "
        f"p90 {1000 * walls_sorted[int(0.9 * (len(walls) - 1))]:,.0f} ms; RSS after the first "
        f"{chunks[0].rss_mib:,.1f} MiB, after the last {chunks[-1].rss_mib:,.1f} MiB"
    )


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"
