"""Measuring without touching the app: SQLAlchemy engine events (statements by kind, time,
transactions), PostgreSQL's own counters, pg_stat_activity samples, CPU and memory from /proc,
and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bench.lib.db import MONITOR_APP, connect_kwargs

_TICKS = os.sysconf("SC_CLK_TCK")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


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


def statement_label(statement: str) -> str:
    """``VERB table`` (plus ``FOR UPDATE`` on a locking SELECT): what a statement counts as."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    table = _TABLE.search(text)
    label = f"{verb} {table.group(1) if table else ''}".strip()
    return label + " FOR UPDATE" if verb == "SELECT" and "FOR UPDATE" in text.upper() else label


@dataclass
class Transaction:
    """From the end of the previous COMMIT (or the start) to the end of this one."""

    wall: float = 0.0
    statements: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    commit_s: float = 0.0
    end: float = 0.0
    rss_mib: float = 0.0

    @property
    def sql_s(self) -> float:
        return sum(self.seconds.values())


class SqlRecorder:
    """Every statement any SQLAlchemy engine in this process sends, by kind (listeners on the
    Engine and Session classes: nothing of the app is wrapped); ``transactions`` is one entry per
    COMMIT, meaningful when one session works at a time."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.commits = 0
        self.transactions: list[Transaction] = []
        self.current = Transaction()
        self._labels: dict[str, str] = {}
        self._mark = self._commit = 0.0

    def _listeners(self) -> list[tuple[Any, str, Any]]:
        return [
            (Engine, "before_cursor_execute", self._before),
            (Engine, "after_cursor_execute", self._after),
            (Engine, "commit", self._on_commit),
            (Session, "after_commit", self._after_commit),
        ]

    def __enter__(self) -> SqlRecorder:
        self._mark = time.perf_counter()
        for target, name, function in self._listeners():
            event.listen(target, name, function)
        return self

    def __exit__(self, *_exc: object) -> None:
        for target, name, function in self._listeners():
            event.remove(target, name, function)

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        label = self._labels.get(statement)
        if label is None:
            label = self._labels[statement] = statement_label(statement)
        seconds = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        self.statements[label] += 1
        self.seconds[label] += seconds
        self.current.statements[label] += 1
        self.current.seconds[label] += seconds

    def _on_commit(self, _conn: Any) -> None:
        self.commits += 1
        self._commit = time.perf_counter()
        self._close(self._commit)

    def _after_commit(self, _session: Any) -> None:
        if self.transactions:  # the COMMIT round trip belongs to the transaction just closed
            now = time.perf_counter()
            last = self.transactions[-1]
            last.commit_s, last.wall, last.end = now - self._commit, last.wall + now - last.end, now
            self._mark = now

    def _close(self, now: float) -> None:
        self.current.wall, self.current.end = now - self._mark, now
        self.current.rss_mib = rss_mib()
        self.transactions.append(self.current)
        self.current, self._mark = Transaction(), now

    def per(self, count: int, top: int = 12) -> list[list[str]]:
        """Statements per unit of work (a confirmation, a transaction...) by kind, then total."""
        rows = [
            [label, f"{n / count:,.2f}", f"{1000 * self.seconds[label] / count:,.2f}"]
            for label, n in self.statements.most_common(top)
        ]
        total = sum(self.statements.values())
        rows.append(
            ["total", f"{total / count:,.2f}", f"{1000 * sum(self.seconds.values()) / count:,.2f}"]
        )
        return rows


_DB_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_fetched")


class PgCounters:
    """PostgreSQL's counters for the database, over a phase: pg_stat_database always, and the
    top statements from pg_stat_statements when the server has the extension loaded (it sees
    what server processes send, where engine events cannot)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.statements_available = False
        self.delta: dict[str, int] = {}
        self.top: list[tuple[str, int, float]] = []  # (query, calls, total ms)
        self._before: dict[str, int] = {}

    async def _database(self) -> dict[str, int]:
        await self.connection.execute("SELECT pg_stat_force_next_flush()")
        row = await self.connection.fetchrow(
            f"SELECT {', '.join(_DB_COUNTERS)} FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return {name: int(row[name]) for name in _DB_COUNTERS}

    async def start(self) -> None:
        with contextlib.suppress(asyncpg.PostgresError):
            await self.connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await self.connection.execute("SELECT pg_stat_statements_reset()")
            self.statements_available = True
        self._before = await self._database()

    async def stop(self) -> None:
        after = await self._database()
        self.delta = {name: after[name] - self._before[name] for name in _DB_COUNTERS}
        if self.statements_available:
            rows = await self.connection.fetch(
                "SELECT query, calls, total_exec_time FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY total_exec_time DESC LIMIT 10"
            )
            self.top = [(r["query"], int(r["calls"]), float(r["total_exec_time"])) for r in rows]

    def line(self, per: int, unit: str) -> str:
        d = self.delta
        return (
            f"PostgreSQL per {unit}: {d['xact_commit'] / per:.3f} commits, "
            f"{d['tup_inserted'] / per:.1f} rows inserted, {d['tup_updated'] / per:.1f} updated, "
            f"{d['tup_fetched'] / per:.1f} fetched"
            + ("" if self.statements_available else " (pg_stat_statements not loaded)")
        )


_TABLE_STATS = ("seq_scan", "seq_tup_read", "idx_scan", "n_tup_ins", "n_tup_upd")


async def table_stats(
    connection: asyncpg.Connection, before: list[list[str]] | None = None
) -> list[list[str]]:
    """pg_stat_user_tables per table (sequential and index scans, rows inserted and updated);
    given the rows from before a phase, what changed during it, busiest first."""
    await connection.execute("SELECT pg_stat_force_next_flush()")
    rows = await connection.fetch(
        f"SELECT relname, {', '.join(f'coalesce({c}, 0)' for c in _TABLE_STATS)} "
        "FROM pg_stat_user_tables"
    )
    now = {r[0]: [int(v) for v in r[1:]] for r in rows}
    if before is None:
        return [[table, *map(str, values)] for table, values in now.items()]
    then = {row[0]: [int(v) for v in row[1:]] for row in before}
    delta = {
        t: [a - b for a, b in zip(v, then.get(t, [0] * 5), strict=True)] for t, v in now.items()
    }
    busy = sorted(
        (item for item in delta.items() if any(item[1])), key=lambda i: -i[1][1] - i[1][2]
    )
    return [[table, *(f"{v:,}" for v in values)] for table, values in busy]


class WaitSampler:
    """What the app's PostgreSQL connections are doing: pg_stat_activity every 0.1 s."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

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
        try:
            while True:
                rows = await connection.fetch(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND backend_type = 'client backend' "
                    "AND application_name <> $1",
                    MONITOR_APP,
                )
                for row in rows:
                    self.samples[_state(row)] += 1
                await asyncio.sleep(0.1)
        finally:
            await connection.close()

    def line(self) -> str:
        total = sum(self.samples.values()) or 1
        shares = ", ".join(f"{s} {100 * n / total:.0f}%" for s, n in self.samples.most_common(4))
        return f"app connections: {shares or 'none seen'}"

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
