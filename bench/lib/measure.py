"""Measuring without touching the app: SQLAlchemy engine events (statements by kind, time,
transactions), PostgreSQL's own counters, pg_stat_activity samples, CPU and memory from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bench.lib.db import MONITOR_APP, connect_kwargs
from bench.lib.report import render_table

_TICKS = os.sysconf("SC_CLK_TCK")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def _status_kib(pid: int | str, name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


def rss_mib(pid: int | str = "self") -> float:
    return (_status_kib(pid, "VmRSS") or 0) / 1024


def peak_rss_mib(pid: int | str = "self") -> float | None:
    """Peak resident set size (VmHWM) since start or the last ``reset_peak_rss``."""
    kib = _status_kib(pid, "VmHWM")
    return None if kib is None else kib / 1024


def trim_heap() -> None:
    """Hand the heap's free memory back to the system (glibc's ``malloc_trim``), so that a run's
    peak RSS is the bench's live data plus the run's, not what setup freed and kept."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def reset_peak_rss() -> None:
    """Start this process's VmHWM again from its current RSS, so each bench has its own peak."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def cpu_seconds(pid: int | str = "self") -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def run_seconds(pid: int | str) -> float | None:
    """CPU a process (a PostgreSQL backend) has run for, to the nanosecond (schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _host_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


@dataclass
class CpuMeter:
    """CPU over a phase, in % of one core: this process, the given server processes, and every
    core of the host busy (200 % is a whole 2-core host)."""

    pids: Sequence[int] = ()
    wall: float = 0.0
    self_pct: float = 0.0
    servers_pct: float = 0.0
    host_pct: float = 0.0
    _start: tuple[float, float, float, tuple[int, int]] = (0.0, 0.0, 0.0, (0, 0))

    @property
    def started(self) -> float:
        """perf_counter at ``start``."""
        return self._start[0]

    def _servers(self) -> float:
        return sum(cpu_seconds(pid) or 0.0 for pid in self.pids)

    def start(self) -> None:
        self._start = (time.perf_counter(), time.process_time(), self._servers(), _host_ticks())

    def stop(self) -> None:
        wall0, self0, servers0, (busy0, total0) = self._start
        self.wall = time.perf_counter() - wall0
        busy1, total1 = _host_ticks()
        if self.wall > 0:
            self.self_pct = 100 * (time.process_time() - self0) / self.wall
            self.servers_pct = 100 * (self._servers() - servers0) / self.wall
        if total1 > total0:
            self.host_pct = 100 * (os.cpu_count() or 1) * (busy1 - busy0) / (total1 - total0)

    def line(self) -> str:
        servers = f"servers {self.servers_pct:.0f}%, " if self.pids else ""
        return f"CPU: {servers}bench process {self.self_pct:.0f}%, host {self.host_pct:.0f}%"


def arrivals(rate: float, seconds: float, rng: random.Random) -> list[float]:
    """Send times (seconds from the start, before ``seconds``) of a Poisson process of ``rate``
    a second: exponential gaps, drawn in advance so no answer can move them."""
    times, at = [], rng.expovariate(rate)
    while at < seconds:
        times.append(at)
        at += rng.expovariate(rate)
    return times


def statement_label(statement: str) -> str:
    """``VERB table`` (plus ``FOR UPDATE`` on a locking SELECT): what a statement counts as."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    table = _TABLE.search(text)
    label = f"{verb} {table.group(1) if table else ''}".strip()
    return label + " FOR UPDATE" if verb == "SELECT" and "FOR UPDATE" in text.upper() else label


@dataclass
class Transaction:
    """One database transaction of the app, from its BEGIN to the end of its COMMIT (or its
    ROLLBACK): its statements by kind, who ran it (``task``: the asyncio task's name, else its
    coroutine's), and the CPU its PostgreSQL backend spent in it."""

    wall: float = 0.0
    statements: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    commit_s: float = 0.0
    start: float = 0.0
    end: float = 0.0
    rss_mib: float = 0.0
    task: str = ""
    committed: bool = True
    backend_cpu_s: float = 0.0
    _backend: tuple[int, float] | None = None  # the backend's pid and CPU at BEGIN

    @property
    def sql_s(self) -> float:
        return sum(self.seconds.values())


def task_label() -> str:
    """Who runs the current code: the asyncio task's name when it was given one, else the
    qualified name of its coroutine (a task made by ``create_task(f())`` is ``f``'s)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return "no event loop"
    if task is None:
        return "no task"
    name = task.get_name()
    if not name.startswith("Task-"):
        return name
    return str(getattr(task.get_coro(), "__qualname__", name))


def _backend_pid(conn: Any) -> int | None:
    """The PostgreSQL backend's pid behind a SQLAlchemy connection (asyncpg), else None."""
    if "bench_pid" not in conn.info:
        raw = getattr(getattr(conn.connection, "dbapi_connection", None), "_connection", None)
        server_pid = getattr(raw, "get_server_pid", None)
        conn.info["bench_pid"] = server_pid() if server_pid is not None else None
    pid: int | None = conn.info["bench_pid"]
    return pid


class SqlRecorder:
    """Every statement any SQLAlchemy engine in this process sends, by kind, in ``total``, and
    each transaction apart in ``transactions`` (in the order they end), told apart by their
    connection, so that transactions of several tasks at once (a run and the background
    workers) are each measured from their own BEGIN: listeners on the Engine and Session
    classes, nothing of the app wrapped. With ``backend_cpu``, each transaction's PostgreSQL
    backend CPU from /proc (a local server)."""

    def __init__(self, *, backend_cpu: bool = False) -> None:
        self.total = Transaction()
        self.transactions: list[Transaction] = []
        self.backend_cpu = backend_cpu
        self._open: dict[Any, Transaction] = {}  # by connection
        self._committing: dict[str, Transaction] = {}  # by task: COMMIT sent, not answered
        self._labels: dict[str, str] = {}
        self._listeners: list[tuple[Any, str, Callable[..., None]]] = [
            (Engine, "begin", self._begin),
            (Engine, "before_cursor_execute", self._before),
            (Engine, "after_cursor_execute", self._after),
            (Engine, "commit", self._on_commit),
            (Engine, "rollback", self._on_rollback),
            (Session, "after_commit", self._after_commit),
        ]

    def __enter__(self) -> SqlRecorder:
        for target, name, function in self._listeners:
            event.listen(target, name, function)
        return self

    def __exit__(self, *_exc: object) -> None:
        for target, name, function in self._listeners:
            event.remove(target, name, function)

    def _begin(self, conn: Any) -> None:
        txn = self._open[conn] = Transaction(start=time.perf_counter(), task=task_label())
        if self.backend_cpu and (pid := _backend_pid(conn)) is not None:
            txn._backend = (pid, run_seconds(pid) or 0.0)

    def _transaction(self, conn: Any) -> Transaction:
        if conn not in self._open:  # begun before the recorder was listening
            self._begin(conn)
        return self._open[conn]

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (label := self._labels.get(statement)) is None:
            label = self._labels[statement] = statement_label(statement)
        seconds = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        for into in (self.total, self._transaction(conn)):
            into.statements[label] += 1
            into.seconds[label] += seconds

    def _close(self, conn: Any, *, committed: bool) -> Transaction:
        now, done = time.perf_counter(), self._transaction(conn)
        del self._open[conn]
        done.end, done.wall, done.committed = now, now - done.start, committed
        done.rss_mib = rss_mib()
        if done._backend is not None:
            pid, cpu = done._backend
            done.backend_cpu_s = (run_seconds(pid) or cpu) - cpu
        self.transactions.append(done)
        return done

    def _on_commit(self, conn: Any) -> None:
        self._committing[task_label()] = self._close(conn, committed=True)

    def _on_rollback(self, conn: Any) -> None:
        if conn in self._open:  # a ROLLBACK with nothing begun is no transaction
            self._close(conn, committed=False)

    def _after_commit(self, _session: Any) -> None:
        # The COMMIT round trip belongs to the transaction the same task just closed.
        if (last := self._committing.pop(task_label(), None)) is not None:
            now = time.perf_counter()
            last.commit_s, last.wall, last.end = now - last.end, now - last.start, now

    def per(self, count: int, top: int = 12) -> list[list[str]]:
        """Statements and milliseconds per unit of work (a confirmation, ...) by kind, and all."""
        total, rows = self.total, list[list[str]]()
        for label, n in [*total.statements.most_common(top), ("total", total.statements.total())]:
            seconds = total.sql_s if label == "total" else total.seconds[label]
            rows.append([label, f"{n / count:,.2f}", f"{1000 * seconds / count:,.2f}"])
        return rows


_DATABASE = ("xact_commit", "tup_inserted", "tup_updated", "tup_fetched")
_TABLES = ("seq_scan", "seq_tup_read", "idx_scan", "n_tup_ins", "n_tup_upd")


class PgCounters:
    """PostgreSQL's own counters over a phase: pg_stat_database (commits, rows), per table
    pg_stat_user_tables (scans, rows), and the top statements of pg_stat_statements when the
    server has it loaded. They see what server processes do, where engine events cannot."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection, self.statements = connection, False
        self.database: dict[str, int] = {}
        self.tables: dict[str, list[int]] = {}
        self.top: list[str] = []

    async def _snapshot(self) -> tuple[dict[str, int], dict[str, list[int]]]:
        await self.connection.execute("SELECT pg_stat_force_next_flush()")
        database = await self.connection.fetchrow(
            f"SELECT {', '.join(_DATABASE)} FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        columns = ", ".join(f"coalesce({c}, 0)" for c in _TABLES)
        tables = await self.connection.fetch(f"SELECT relname, {columns} FROM pg_stat_user_tables")
        return dict(database), {r[0]: list(r[1:]) for r in tables}

    async def start(self) -> None:
        with contextlib.suppress(asyncpg.PostgresError):  # not loaded: no such counters
            await self.connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await self.connection.execute("SELECT pg_stat_statements_reset()")
            self.statements = True
        self._before = await self._snapshot()

    async def stop(self) -> None:
        (database, tables), after = self._before, await self._snapshot()
        self.database = {name: value - database[name] for name, value in after[0].items()}
        for table, values in after[1].items():
            old = tables.get(table, [0] * len(_TABLES))
            self.tables[table] = [a - b for a, b in zip(values, old, strict=True)]
        if self.statements:
            rows = await self.connection.fetch(
                "SELECT calls, total_exec_time, query FROM pg_stat_statements "
                "ORDER BY total_exec_time DESC LIMIT 8"
            )
            self.top = [
                f"  {r[0]:>8,} calls {r[1]:>10,.0f} ms  {' '.join(r[2].split())[:90]}" for r in rows
            ]

    def line(self, per: int, unit: str) -> str:
        d, note = self.database, "" if self.statements else " (pg_stat_statements not loaded)"
        counts = (
            f"{d['xact_commit'] / per:.3f} commits, {d['tup_inserted'] / per:.1f} rows inserted"
        )
        rows = f"{d['tup_updated'] / per:.1f} updated, {d['tup_fetched'] / per:.1f} fetched"
        return "\n".join([f"PostgreSQL per {unit}: {counts}, {rows}{note}", *self.top])

    def tables_table(self, when: str) -> str:
        """Per table, busiest first: seq scans, rows seq-read, index scans, inserted, updated."""
        busy = sorted(self.tables.items(), key=lambda item: -item[1][1] - item[1][2])
        rows = [[table, *(f"{v:,}" for v in values)] for table, values in busy if any(values)]
        headers = [f"table ({when})", "seq scans", "rows seq-read", "index scans", "inserted"]
        return render_table([*headers, "updated"], rows, title="pg_stat_user_tables")


class WaitSampler:
    """What the app's PostgreSQL connections are doing: pg_stat_activity every 0.1 s; and the
    CPU their backends used meanwhile (/proc: the server is on this host), from when each was
    first seen (from 0 when it started after the sampler) to when it was last seen."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._cpu: dict[int, list[float]] = {}  # backend pid: [first, last] CPU seconds seen

    async def __aenter__(self) -> WaitSampler:
        connection = await asyncpg.connect(
            **connect_kwargs(self.url), server_settings={"application_name": MONITOR_APP}
        )
        self._task = asyncio.create_task(self._poll(connection))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self, connection: asyncpg.Connection) -> None:
        started = await connection.fetchval("SELECT now()")
        try:
            while True:
                rows = await connection.fetch(
                    "SELECT state, wait_event_type, wait_event, pid, backend_start "
                    "FROM pg_stat_activity "
                    "WHERE datname = current_database() AND backend_type = 'client backend' "
                    "AND application_name <> $1",
                    MONITOR_APP,
                )
                for row in rows:
                    self.samples[_state(row)] += 1
                    self._seen(row["pid"], fresh=row["backend_start"] >= started)
                await asyncio.sleep(0.1)
        finally:
            await connection.close()

    def _seen(self, pid: int, *, fresh: bool) -> None:
        cpu = cpu_seconds(pid)
        if cpu is not None:
            self._cpu.setdefault(pid, [0.0 if fresh else cpu, cpu])[1] = cpu

    @property
    def backend_cpu(self) -> float:
        """CPU seconds the app's backends used while sampled (what a backend used after its
        last sample, at most 0.1 s of work, is not counted)."""
        return sum(last - first for first, last in self._cpu.values())

    def line(self) -> str:
        total = sum(self.samples.values()) or 1
        shares = ", ".join(f"{s} {100 * n / total:.0f}%" for s, n in self.samples.most_common(4))
        cpu = f"; their backends' CPU {self.backend_cpu:.1f} s"
        return f"app connections: {shares or 'none seen'}{cpu}"

    def lock_share(self) -> float:
        total = sum(self.samples.values())
        locked = sum(n for state, n in self.samples.items() if state.startswith("lock"))
        return 100 * locked / total if total else 0.0


def _state(row: Any) -> str:
    state, kind, name = row["state"], row["wait_event_type"], row["wait_event"]
    if state in ("idle", "idle in transaction"):
        return str(state)
    if kind is None:
        return "running"
    return f"lock wait ({name})" if kind == "Lock" else f"{kind}:{name}"
