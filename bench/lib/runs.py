"""A batch run (clearing, settlement) asked for through the API in this process with
``?wait=true``, measured from the outside: each transaction's SQL by kind and its COMMIT (engine
events), CPU, what the app's connections waited on, memory after each commit, optional py-spy."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lib import measure
from bench.lib.data import API
from bench.lib.measure import CpuMeter, SqlRecorder, Transaction, WaitSampler
from bench.lib.profile import profiled
from bench.lib.report import percentile, render_table
from bench.lib.servers import InProcessApp


@dataclass
class MeasuredRun:
    answer: dict[str, Any]  # the run as the API answered it
    wall: float
    transactions: list[Transaction]
    peak: float | None  # this process's peak RSS during the run, MiB
    start: float = 0.0  # its RSS when the run started, MiB (the bench's own data included)


async def measured_run(
    app: InProcessApp, path: str, body: dict[str, Any], py_spy: Path | None, name: str
) -> MeasuredRun:
    """POST ``path?wait=true`` as operations, and wait for the run to finish."""
    gc.collect()
    measure.trim_heap()
    start = measure.rss_mib()
    measure.reset_peak_rss()
    cpu = CpuMeter()
    async with app.client("operations") as api, WaitSampler(app.db.url) as waits:
        with SqlRecorder() as sql:
            async with profiled(py_spy, name.replace(" ", "-")):
                cpu.start()
                response = await api.post(f"{API}{path}", params={"wait": "true"}, json=body)
                cpu.stop()
    print(f"{name}: HTTP {response.status_code} in {cpu.wall:.1f} s; {cpu.line()}; {waits.line()}")
    answer = response.json() if response.status_code == 200 else {}
    return MeasuredRun(answer, cpu.wall, sql.transactions, measure.peak_rss_mib(), start)


def breakdown(transactions: Sequence[Transaction], title: str) -> str:
    """Where the time of a kind of transaction went, per transaction: SQL by kind, COMMIT, the
    rest (Python and the event loop); then how long they took and this process's memory."""
    n, wall = len(transactions) or 1, sum(t.wall for t in transactions) or 1.0
    total = Transaction()
    for t in transactions:
        total.statements.update(t.statements)
        for label, seconds in t.seconds.items():
            total.seconds[label] += seconds
    commit = sum(t.commit_s for t in transactions)
    slowest = sorted(total.seconds.items(), key=lambda item: -item[1])[:12]
    parts = [(f"SQL {label}", f"{total.statements[label] / n:,.1f}", s) for label, s in slowest]
    parts += [
        ("COMMIT", "", commit),
        ("Python, event loop (the rest)", "", wall - total.sql_s - commit),
    ]
    rows = [
        [name, count, f"{1000 * s / n:,.1f}", f"{100 * s / wall:.0f}%"] for name, count, s in parts
    ]
    walls = [t.wall for t in transactions]
    memory = f"{transactions[0].rss_mib:,.0f} -> {transactions[-1].rss_mib:,.0f}" if walls else "-"
    title += f": {len(walls)}, median {1000 * percentile(walls, 50):,.0f} ms, RSS {memory} MiB"
    return render_table(["where the time went", "stmts/tx", "ms/tx", "share"], rows, title=title)
