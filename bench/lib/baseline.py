"""The baseline of a batch run: a hand-written set-based SQL script (``bench/sql/*.sql``) doing
the run's writes, timed step by step in one transaction on a clone of the bench database made
just before the app's run (``CREATE DATABASE ... TEMPLATE``: the same rows and statistics), so
neither disturbs the other. What the script wrote is read from PostgreSQL's own per-transaction
counters (``pg_stat_xact_user_tables``) before its commit, to set beside what the run wrote."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lib.db import BenchDatabase, clone_database, connect, drop_database
from bench.lib.measure import PgCounters, cpu_seconds
from bench.lib.report import render_table

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
_STEP = re.compile(r"^-- step: (.+)$", re.MULTILINE)
_INCLUDE = re.compile(r"^-- include: (\w+)$", re.MULTILINE)
WRITES_SQL = """SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables
    WHERE schemaname NOT LIKE 'pg_temp%' AND n_tup_ins + n_tup_upd > 0"""
Writes = dict[str, tuple[int, int]]  # table: rows inserted, rows updated


@dataclass
class BaselineRun:
    seconds: float = float("inf")
    steps: list[tuple[str, float]] = field(default_factory=list)
    writes: Writes = field(default_factory=dict)
    rows: list[Any] = field(default_factory=list)  # what ``result`` read before the commit
    backend_cpu: float = 0.0  # CPU seconds of the script's PostgreSQL backend (/proc)


def steps(name: str) -> list[tuple[str, str]]:
    """The script ``name``.sql with its includes inlined, as (step, SQL) in order."""
    text = (SQL_DIR / f"{name}.sql").read_text()
    text = _INCLUDE.sub(lambda m: (SQL_DIR / f"{m.group(1)}.sql").read_text(), text)
    parts = _STEP.split(text)[1:]
    return [(parts[i].strip(), parts[i + 1]) for i in range(0, len(parts), 2)]


async def run_script(
    db: BenchDatabase,
    name: str,
    settings: Mapping[str, str],
    runs: int,
    result: str | None = None,
) -> BaselineRun:
    """The script, ``runs`` times, each on a fresh clone of ``db`` (nothing may be connected to
    it): the fastest run, with the rows ``result`` (a query, untimed) read before its commit."""
    best, script, clone = BaselineRun(), steps(name), f"{db.name}_sql"
    for _ in range(runs):
        connection = await connect(await clone_database(db, clone))
        try:
            run = await _timed(connection, name, script, settings, result)
        finally:
            await connection.close()
            await drop_database(clone, db.server_url)
        best = min(best, run, key=lambda r: r.seconds)
    return best


async def _timed(
    connection: Any,
    name: str,
    script: Sequence[tuple[str, str]],
    settings: Mapping[str, str],
    result: str | None,
) -> BaselineRun:
    timed: list[tuple[str, float]] = []
    backend = connection.get_server_pid()
    cpu0 = cpu_seconds(backend) or 0.0
    transaction = connection.transaction()
    await transaction.start()
    for key, value in settings.items():
        await connection.execute("SELECT set_config($1, $2, true)", key, value)
    for step, sql in script:
        began = time.perf_counter()
        try:
            await connection.execute(sql)
        except Exception as error:
            raise RuntimeError(f"{name}.sql, step {step!r}: {error}") from error
        timed.append((step, time.perf_counter() - began))
    written = {r[0]: (r[1], r[2]) for r in await connection.fetch(WRITES_SQL)}
    rows = list(await connection.fetch(result)) if result else []
    began = time.perf_counter()
    await transaction.commit()
    timed.append(("COMMIT", time.perf_counter() - began))
    cpu = (cpu_seconds(backend) or cpu0) - cpu0
    return BaselineRun(sum(s for _, s in timed), timed, written, rows, cpu)


def steps_table(run: BaselineRun, title: str) -> str:
    rows = [[step, f"{1000 * s:,.1f}", f"{100 * s / run.seconds:.0f}%"] for step, s in run.steps]
    return render_table(["step", "ms", "share"], rows, title=title)


def run_writes(counters: PgCounters) -> Writes:
    """Rows inserted and updated per table, from the counters taken around the app's run."""
    return {t: (v[3], v[4]) for t, v in counters.tables.items() if v[3] or v[4]}


def writes_table(run: Writes, baseline: Writes) -> str:
    """What the run and the script wrote, per table (the run's own counters include what the
    sealer and the app's other background work wrote meanwhile)."""
    tables = sorted(run.keys() | baseline.keys())
    rows = [
        [t, *(f"{n:,}" for n in run.get(t, (0, 0))), *(f"{n:,}" for n in baseline.get(t, (0, 0)))]
        for t in tables
    ]
    headers = ["table", "run inserted", "run updated", "SQL inserted", "SQL updated"]
    return render_table(headers, rows, title="rows written: the run, the set-based SQL baseline")


def inserted(writes: Writes, tables: Sequence[str]) -> tuple[int, ...]:
    return tuple(writes.get(t, (0, 0))[0] for t in tables)
