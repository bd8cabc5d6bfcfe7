"""Measuring a run in this process: SQL time by statement kind, the audit write and the COMMIT
of each transaction (from SQLAlchemy's engine and session events: nothing in the app is
wrapped), and resident memory. Shared by the benches that drive a batch run in process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import time as clock
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from bench.common import render_table
from bench.confirmations import folded_stacks, profile_tables

RSS_POLL_SECONDS = 0.5
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def rss_mib() -> float:
    """This process's resident set size now (/proc/self/statm)."""
    resident = int(Path("/proc/self/statm").read_text().split()[1])
    return resident * _PAGE_SIZE / 2**20


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (getrusage: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def statement_label(statement: str) -> str:
    """``VERB table`` (and ``FOR UPDATE`` for a locking SELECT): what a statement is counted as."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    table = _TABLE.search(text)
    label = f"{verb} {table.group(1) if table else ''}".strip()
    if verb == "SELECT" and "FOR UPDATE" in text.upper():
        label += " FOR UPDATE"
    return label


@dataclass
class Segment:
    """One transaction of the run: from the end of the previous commit to the end of its own."""

    wall: float = 0.0
    sql_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    sql_n: Counter[str] = field(default_factory=Counter)
    at_commit_s: float = 0.0  # Session before_commit -> the connection's COMMIT (audit write)
    commit_s: float = 0.0  # the COMMIT round trip (deferred triggers, WAL flush)
    rss: float = 0.0  # MiB, right after the commit
    end: float = 0.0  # perf_counter at the end of the commit

    @property
    def sql_total(self) -> float:
        return sum(self.sql_s.values())

    def add(self, other: Segment) -> None:
        self.wall += other.wall
        for label, seconds in other.sql_s.items():
            self.sql_s[label] += seconds
        self.sql_n.update(other.sql_n)
        self.at_commit_s += other.at_commit_s
        self.commit_s += other.commit_s
        self.rss = max(self.rss, other.rss)
        self.end = max(self.end, other.end)


class Recorder:
    """SQL time by statement kind, the audit write and COMMIT time, and RSS after each commit,
    one ``Segment`` per transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.segments: list[Segment] = []
        self.current = Segment()
        self._labels: dict[str, str] = {}
        self._mark = self._sql = self._before_commit = self._commit = 0.0

    def _listeners(self) -> list[tuple[Any, str, Any, dict[str, Any]]]:
        sync = self.engine.sync_engine
        return [
            (sync, "before_cursor_execute", self._on_before_execute, {}),
            (sync, "after_cursor_execute", self._on_after_execute, {}),
            (sync, "commit", self._on_commit, {}),
            (Session, "before_commit", self._on_before_commit, {"insert": True}),
            (Session, "after_commit", self._on_after_commit, {}),
        ]

    def start(self) -> None:
        self._mark = clock.perf_counter()
        for target, name, function, options in self._listeners():
            event.listen(target, name, function, **options)

    def stop(self) -> None:
        for target, name, function, _ in self._listeners():
            event.remove(target, name, function)

    def _on_before_execute(self, *_args: Any) -> None:
        self._sql = clock.perf_counter()

    def _on_after_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        label = self._labels.get(statement)
        if label is None:
            label = self._labels[statement] = statement_label(statement)
        self.current.sql_s[label] += clock.perf_counter() - self._sql
        self.current.sql_n[label] += 1

    def _on_before_commit(self, _session: Any) -> None:
        self._before_commit = clock.perf_counter()

    def _on_commit(self, _conn: Any) -> None:
        self._commit = clock.perf_counter()
        self.current.at_commit_s = self._commit - self._before_commit

    def _on_after_commit(self, _session: Any) -> None:
        now = clock.perf_counter()
        self.current.commit_s = now - self._commit
        self.current.wall = now - self._mark
        self.current.rss = rss_mib()
        self.current.end = now
        self.segments.append(self.current)
        self.current = Segment()
        self._mark = now


class RssSampler:
    """RSS every RSS_POLL_SECONDS (whenever the event loop gets a turn)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (perf_counter, MiB)
        self._task: asyncio.Task[None] | None = None

    async def _poll(self) -> None:
        while True:
            self.samples.append((clock.perf_counter(), rss_mib()))
            await asyncio.sleep(RSS_POLL_SECONDS)

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.samples.append((clock.perf_counter(), rss_mib()))

    def max_between(self, start: float, end: float) -> float | None:
        values = [mib for at, mib in self.samples if start <= at <= end]
        return max(values) if values else None


# A stage of a run, for py-spy samples: (label, substrings of its folded stack, any of which
# puts a sample there; the first stage that matches takes it).
Stages = Sequence[tuple[str, Sequence[str]]]


def stage_table(path: Path, stages: Stages) -> list[list[str]]:
    """Share of py-spy's folded samples in ``path`` per stage."""
    counts: Counter[str] = Counter()
    total = 0
    for stack, samples in folded_stacks(path):
        total += samples
        frames = stack + ";"
        for name, needles in stages:
            if any(needle in frames for needle in needles):
                counts[name] += samples
                break
        else:
            counts["other"] += samples
    return [[name, f"{100 * n / total:.1f}%"] for name, n in counts.most_common()] if total else []


def print_profile(path: Path, stages: Stages, *, during: str) -> None:
    """Where the Python time of ``during`` went: by stage, by area, by function."""
    if not path.exists():
        print(f"(no py-spy output at {path})")
        return
    total, areas, functions = profile_tables(path, top=25)
    print(f"py-spy during {during}: {total:,} samples holding the GIL at 100 Hz ({path})")
    print(
        render_table(
            ["what the sample was doing (frames on its stack)", "share"],
            stage_table(path, stages),
        )
    )
    print(render_table(["where the running frame is", "share"], areas))
    print(render_table(["function (own time)", "share"], functions))
