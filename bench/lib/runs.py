"""A batch run (clearing, settlement) asked for through the API in this process with
``?wait=true``, measured from the outside: each transaction's SQL by kind, its COMMIT and its
PostgreSQL backend's CPU (engine events, /proc), the run's own transactions told apart from the
background workers' by the asyncio task that ran them, CPU, what the app's connections waited
on, memory after each commit, optional py-spy."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lib import measure
from bench.lib.data import API
from bench.lib.measure import CpuMeter, SqlRecorder, Transaction, WaitSampler
from bench.lib.profile import profiled
from bench.lib.report import percentile, render_table
from bench.lib.servers import InProcessApp

# The app's background tasks (app/workers.py, the run framework's lease heartbeat), by a
# fragment of their task's name or coroutine's qualified name; every other task's transactions
# are the request's: the run's own.
BACKGROUND = (
    ("audit-sealer", "audit sealer"),
    ("Sealer.", "audit sealer"),
    ("webhook-relay", "webhook relay"),
    ("Relay.", "webhook relay"),
    ("balance-stripe-folder", "balance stripe folder"),
    ("StripeFolder.", "balance stripe folder"),
    ("_heartbeat", "the run's lease heartbeat"),
)


def owner(t: Transaction) -> str | None:
    """Which background worker ran the transaction, None when the run did."""
    return next((label for fragment, label in BACKGROUND if fragment in t.task), None)


@dataclass
class MeasuredRun:
    answer: dict[str, Any]  # the run as the API answered it
    wall: float
    transactions: list[Transaction]  # the run's own, in the order they began
    peak: float | None  # this process's peak RSS during the run, MiB
    cpu: float = 0.0  # this process's CPU seconds during the run
    backend_cpu: float = 0.0  # the app's PostgreSQL backends' CPU seconds during the run
    started: float = 0.0  # perf_counter when the request went out
    background: list[Transaction] = field(default_factory=list)
    rss_start: float = 0.0  # its RSS when the run started, MiB (the bench's own data included)


async def measured_run(
    app: InProcessApp, path: str, body: dict[str, Any], py_spy: Path | None, name: str
) -> MeasuredRun:
    """POST ``path?wait=true`` as operations, and wait for the run to finish."""
    gc.collect()
    measure.trim_heap()
    rss_start = measure.rss_mib()
    measure.reset_peak_rss()
    cpu = CpuMeter()
    async with app.client("operations") as api, WaitSampler(app.db.url) as waits:
        with SqlRecorder(backend_cpu=True) as sql:
            async with profiled(py_spy, name.replace(" ", "-")):
                cpu.start()
                response = await api.post(f"{API}{path}", params={"wait": "true"}, json=body)
                cpu.stop()
    print(f"{name}: HTTP {response.status_code} in {cpu.wall:.1f} s; {cpu.line()}; {waits.line()}")
    answer = response.json() if response.status_code == 200 else {}
    ordered = sorted(sql.transactions, key=lambda t: t.start)
    own = [t for t in ordered if owner(t) is None]
    background = [t for t in ordered if owner(t) is not None]
    peak, process_cpu = measure.peak_rss_mib(), cpu.self_pct * cpu.wall / 100
    return MeasuredRun(
        answer,
        cpu.wall,
        own,
        peak,
        process_cpu,
        waits.backend_cpu,
        cpu.started,
        background,
        rss_start,
    )


@dataclass
class Phase:
    """Consecutive transactions of the run of one kind, and the time between them."""

    kind: str
    first: float
    last: float = 0.0
    count: int = 0
    inside: float = 0.0  # in the phase's transactions, BEGIN to the end of COMMIT
    between: float = 0.0  # before each of them, since the run's previous transaction ended
    sql: float = 0.0
    commit: float = 0.0
    backend_cpu: float = 0.0

    def add(self, t: Transaction, since: float) -> None:
        start = max(t.start, since)  # a transaction overlapping the previous counts once
        self.count, self.last = self.count + 1, max(self.last, t.end)
        self.between += max(t.start - since, 0.0)
        self.inside += max(t.end - start, 0.0)
        self.sql, self.commit = self.sql + t.sql_s, self.commit + t.commit_s
        self.backend_cpu += t.backend_cpu_s


def phases(run: MeasuredRun, kind_of: Callable[[Transaction], str]) -> tuple[list[Phase], float]:
    """The run's own transactions grouped into phases; and the time after the last one (the
    answer). The phases' ``inside`` and ``between`` and that tail add up to the run's wall."""
    out: list[Phase] = []
    since = run.started
    for t in run.transactions:
        kind = kind_of(t)
        if not out or out[-1].kind != kind:
            out.append(Phase(kind, first=t.start))
        out[-1].add(t, since)
        since = max(since, t.end)
    return out, max(run.started + run.wall - since, 0.0)


def timeline(run: MeasuredRun, kind_of: Callable[[Transaction], str]) -> str:
    """Where the run's wall went, phase by phase in the order they ran: in the transactions
    (SQL, COMMIT, the Python in between) and between them (the framework, pool, and whatever
    else the event loop ran meanwhile: the background workers), and the backend's CPU."""
    found, tail = phases(run, kind_of)
    wall, rows = run.wall or 1.0, []
    for p in found:
        python = p.inside - p.sql - p.commit
        cells = (p.inside + p.between, p.sql, p.commit, python, p.between, p.backend_cpu)
        span = (f"{p.first - run.started:,.1f}", f"{p.last - run.started:,.1f}", f"{p.count:,}")
        share = f"{100 * (p.inside + p.between) / wall:.0f}%"
        rows.append([p.kind, *span, *(f"{s:,.2f}" for s in cells), share])
    rows.append(["answer (after the last)", "", "", "", f"{tail:,.2f}", *[""] * 6])
    headers = ["phase of the run", "from s", "to s", "tx", "wall s", "SQL s", "COMMIT s"]
    headers += ["Python in tx s", "between tx s", "PG CPU s", "share"]
    title = f"the run's own transactions, {run.wall:,.2f} s of wall in all"
    return render_table(headers, rows, title=title)


def background(run: MeasuredRun) -> str:
    """The background workers' transactions during the run (their walls overlap the run's:
    they share its event loop and PostgreSQL's cores, so they slow it rather than add to it)."""
    by: dict[str, list[Transaction]] = {}
    for t in run.background:
        by.setdefault(owner(t) or "", []).append(t)
    rows = []
    for label, items in sorted(by.items(), key=lambda item: -sum(t.wall for t in item[1])):
        statements: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        for t in items:
            statements.update(t.statements)
            seconds.update(t.seconds)
        top = ", ".join(f"{k} {statements[k]:,} ({s:,.1f} s)" for k, s in seconds.most_common(2))
        sums = (sum(t.wall for t in items), sum(t.sql_s for t in items))
        cpu = sum(t.backend_cpu_s for t in items)
        rows.append([label, f"{len(items):,}", *(f"{s:,.2f}" for s in sums), f"{cpu:,.2f}", top])
    headers = ["background worker", "tx", "open s", "SQL s", "PG CPU s", "slowest statements"]
    return render_table(headers, rows, title="background transactions during the run (overlap)")


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
