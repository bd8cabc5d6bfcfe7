"""Open-loop load of a mixed workload over HTTP to uvicorn: trade capture, queries (the trade
list, one trade, positions, cash balances) and confirmations of captured trades, with a clearing
run and then a settlement run started in the middle of each phase. First the mix's maximum
throughput closed-loop (concurrent clients, each sending when its last answer came); then
open-loop phases at fractions of it.

    python -m bench.load [--full] [--seconds N] [--levels PCT [PCT ...]] [--probe-seconds N]
                         [--max-rate REQ_PER_S]

The maximum is of the mix alone; the open-loop phases add the two runs (each ``?wait=true``, on
a connection of its own, one after the other), whose durations are reported with the phase.

Open loop: requests leave on a Poisson arrival schedule fixed in advance, whether or not earlier
answers have come, and each latency runs from the request's *scheduled* send time, so time spent
queueing (in the bench's connection pool as in the server) counts and a slow answer cannot hold
back the requests behind it (no coordinated omission). Latencies are of 2xx answers; anything
else (another status, a confirmation not ``matched``, a transport error, no answer by the end of
the drain) is an error of its kind, counted and named.

Checks: no error in any phase; both runs answered 200 in every phase; every trade answered 201
stored; every confirmation answered ``matched`` stored as matched.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.confirmations import THEIRS
from bench.ingest import TRADE_DATE, Payloads
from bench.lib import cli
from bench.lib.data import API, add_weekdays, fetch_all, post_ok
from bench.lib.db import BenchDatabase, connect
from bench.lib.measure import CpuMeter, arrivals
from bench.lib.profile import profiled
from bench.lib.report import (
    Check,
    Measure,
    Result,
    fmt_int,
    fmt_mib,
    fmt_ms,
    percentile,
    render_table,
)
from bench.lib.servers import client, running_servers

PROG = "bench.load"
SIZES = (
    cli.Size("seconds", 20, 60, "seconds of each open-loop phase"),
    cli.Size(
        "levels", [25, 50, 75], [25, 50, 75], "open-loop rates, as percentages of the maximum"
    ),
    cli.Size("probe_seconds", 8, 20, "seconds of the closed-loop phase measuring the maximum"),
    cli.Size("concurrency", 32, 32, "closed-loop clients measuring the maximum"),
    cli.Size("servers", 1, 1, "uvicorn processes"),
    cli.Size("max_rate", 0.0, 0.0, "the maximum in requests/s, not measured (0: measure it)"),
)
CAPTURE, CONFIRM = "POST /trades", "POST /confirmations"
MIX = (  # request kind, share in % of requests
    (CAPTURE, 30),
    (CONFIRM, 20),
    ("GET /trades/{id}", 15),
    ("GET /trades", 15),
    ("GET /positions", 10),
    ("GET /cash-balances", 10),
)
RUN_DATE = add_weekdays(TRADE_DATE, 2)  # the T+2 settlement date of every trade off XNYS
DRAIN = 30.0  # seconds after the last scheduled send for the answers still due
OPEN_CONNECTIONS = 64  # per role: enough that the pool rarely holds a request back
SEED = 20261205
UNANSWERED = "no answer by the end of the drain"


def interleave(mix: Sequence[tuple[str, int]]) -> list[str]:
    """One cycle of ``sum(weights)`` kinds, each ``weight`` times, spread evenly (smooth weighted
    round robin): the kind of the n-th request is ``cycle[n % len(cycle)]``."""
    current = dict.fromkeys((kind for kind, _ in mix), 0)
    total, cycle = sum(weight for _, weight in mix), []
    for _ in range(total):
        for kind, weight in mix:
            current[kind] += weight
        chosen = max(current, key=lambda kind: current[kind])  # the first of equals
        current[chosen] -= total
        cycle.append(chosen)
    return cycle


@dataclass
class Tally:
    """One kind of request in one phase: 2xx latencies, and every other outcome by name."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors.total()


@dataclass(frozen=True)
class RunTiming:
    name: str
    http: int
    seconds: float
    status: str
    processed: str


@dataclass
class Phase:
    name: str
    offered: float | None  # requests/s; None: closed loop
    kinds: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k, _ in MIX})
    runs: list[RunTiming] = field(default_factory=list)
    cpu: CpuMeter = field(default_factory=CpuMeter)
    last_answer: float = 0.0  # seconds from the phase's start
    send_lag: list[float] = field(default_factory=list)  # open loop: actual less scheduled send

    def record(self, kind: str, outcome: int | str, latency: float, since_start: float) -> None:
        if isinstance(outcome, int) and 200 <= outcome < 300:
            self.kinds[kind].latencies.append(latency)
        else:
            self.kinds[kind].errors[str(outcome)] += 1
        self.last_answer = max(self.last_answer, since_start)

    @property
    def ok(self) -> int:
        return sum(len(t.latencies) for t in self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(t.errors.total() for t in self.kinds.values())

    @property
    def achieved(self) -> float:
        """2xx answers a second, over the phase until its last answer."""
        return self.ok / self.last_answer if self.last_answer else 0.0

    @property
    def latencies(self) -> list[float]:
        return [s for t in self.kinds.values() for s in t.latencies]


class Workload:
    """The mix's requests: numbered in one sequence over the bench, so each has its kind
    (``interleave(MIX)``) and each capture its own external id; captured trades wait in a queue
    (oldest first) for their confirmation."""

    def __init__(
        self, api: dict[str, list[httpx.AsyncClient]], payloads: Payloads, tag: str
    ) -> None:
        self.api, self.payloads, self.tag = api, payloads, tag
        self.cycle, self.next = interleave(MIX), 0
        self.unconfirmed: deque[dict[str, Any]] = deque()
        self.ids: list[str] = []
        self.rng = random.Random(SEED)
        self.senders: dict[str, Callable[[int], Awaitable[int | str]]] = {
            CAPTURE: self.capture,
            CONFIRM: self.confirm,
            "GET /trades/{id}": lambda n: self.get(n, "/trades/" + self.rng.choice(self.ids)),
            "GET /trades": lambda n: self.get(n, "/trades", limit="50"),
            "GET /positions": lambda n: self.get(n, "/positions", basis="trade_date"),
            "GET /cash-balances": lambda n: self.get(n, "/cash-balances"),
        }

    def take(self) -> tuple[int, str]:
        n, self.next = self.next, self.next + 1
        return n, self.cycle[n % len(self.cycle)]

    async def send(self, phase: Phase, start: float, due: float, n: int, kind: str) -> None:
        """Request ``n``; its latency from ``due`` (a ``perf_counter`` time)."""
        try:
            outcome = await self.senders[kind](n)
        except httpx.HTTPError as error:
            outcome = type(error).__name__
        now = time.perf_counter()
        phase.record(kind, outcome, now - due, now - start)

    async def capture(self, n: int) -> int:
        body = self.payloads.body(n, f"LD{self.tag}")
        headers = {"Idempotency-Key": f"ld-{self.tag}-{n}"}
        response = await self.to("trader", n).post(f"{API}/trades", json=body, headers=headers)
        if response.status_code == 201:
            self.keep(response.json())
        return response.status_code

    def keep(self, trade: dict[str, Any]) -> None:
        self.ids.append(trade["id"])
        if trade["status"] == "captured":  # Xetra's are confirmed at capture (locked in)
            self.unconfirmed.append(trade)

    async def confirm(self, n: int) -> int | str:
        if not self.unconfirmed:
            return "no captured trade left to confirm"
        trade = self.unconfirmed.popleft()
        body = {
            **{k: trade[k] for k in ("counterparty_lei", "isin", "quantity", "price", "currency")},
            **{k: trade[k] for k in ("trade_date", "settlement_date", "net_amount")},
            "confirmation_id": f"LC{self.tag}-{n:08d}",
            "trade_reference": trade["external_id"],
            "side": THEIRS[trade["side"]],
        }
        headers = {"Idempotency-Key": f"lc-{self.tag}-{n}"}
        response = await self.to("gateway", n).post(
            f"{API}/confirmations", json=body, headers=headers
        )
        status = response.json().get("status") if response.status_code == 201 else None
        if response.status_code == 201 and status != "matched":
            return f"201 {status}"
        return response.status_code

    def to(self, role: str, n: int = 0) -> httpx.AsyncClient:
        """The n-th request's client for ``role``: the servers in turn."""
        clients = self.api[role]
        return clients[n % len(clients)]

    async def get(self, n: int, path: str, **params: str) -> int:
        return (await self.to("trader", n).get(f"{API}{path}", params=params)).status_code

    async def seed(self, count: int) -> None:
        """``count`` captured trades more waiting for confirmation, booked in one batch (not
        measured), so a phase never runs out of trades to confirm."""
        prefix = f"LS{self.tag}{self.next}"
        items = [self.payloads.body(n, prefix) for n in range(count)]
        await post_ok(self.to("trader"), "/trades/batch", {"items": items}, expect=200)
        captured = await fetch_all(self.to("trader"), "/trades", {"status": "captured"})
        fresh = [t for t in captured if t["external_id"].startswith(prefix)]
        for trade in sorted(fresh, key=lambda t: str(t["external_id"])):
            self.keep(trade)

    async def runs(self, phase: Phase) -> None:
        """A clearing run and then a settlement run of RUN_DATE, each waited for."""
        for name, path in (
            ("clearing run", "/clearing-runs"),
            ("settlement run", "/settlement-runs"),
        ):
            started, body = time.perf_counter(), {"settlement_date": str(RUN_DATE)}
            try:
                response = await self.to("operations").post(
                    f"{API}{path}", params={"wait": "true"}, json=body
                )
                http, answer = response.status_code, response.json()
            except httpx.HTTPError as error:
                http, answer = 0, {"status": type(error).__name__}
            done = f"{answer.get('processed', '-')}/{answer.get('total', '-')}"
            seconds = time.perf_counter() - started
            phase.runs.append(RunTiming(name, http, seconds, str(answer.get("status")), done))


async def closed_loop(work: Workload, phase: Phase, clients: int, seconds: float) -> Phase:
    """``clients`` senders, each sending its next request when its last answer came, for
    ``seconds``; latencies from each actual send."""
    start = time.perf_counter()
    end = start + seconds

    async def sender() -> None:
        while time.perf_counter() < end:
            await work.send(phase, start, time.perf_counter(), *work.take())

    phase.cpu.start()
    await asyncio.gather(*(sender() for _ in range(clients)))
    phase.cpu.stop()
    return phase


async def open_loop(work: Workload, phase: Phase, seconds: float, rng: random.Random) -> Phase:
    """Requests at the arrival times drawn for ``phase.offered``, whatever the answers; the runs
    start at half time. Answers get DRAIN seconds after the last send, then count as errors."""
    assert phase.offered is not None
    schedule, pending = arrivals(phase.offered, seconds, rng), {}
    phase.cpu.start()
    start = time.perf_counter() + 0.05
    runs = None
    for offset in schedule:
        due = start + offset
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        if runs is None and offset >= seconds / 2:
            runs = asyncio.create_task(work.runs(phase))
        phase.send_lag.append(time.perf_counter() - due)
        n, kind = work.take()
        pending[asyncio.create_task(work.send(phase, start, due, n, kind))] = kind
    waited = [*pending, *([runs] if runs else [])]
    _, late = await asyncio.wait(waited, timeout=start + seconds + DRAIN - time.perf_counter())
    phase.cpu.stop()
    # Cancelled all at once, before any is awaited: none answers in between and counts twice.
    unanswered = [task for task in late if task.cancel()]
    await asyncio.gather(*unanswered, return_exceptions=True)
    for task in unanswered:
        if task in pending:  # a late run shows as a run without its answer
            phase.kinds[pending[task]].errors[UNANSWERED] += 1
    return phase


def phase_rows(phase: Phase) -> list[list[str]]:
    offered = fmt_int(phase.offered) if phase.offered is not None else "closed"
    head = [phase.name, offered, f"{phase.achieved:,.1f}"]
    rows = []
    for i, (kind, tally) in enumerate([*phase.kinds.items(), ("all", None)]):
        lat = phase.latencies if tally is None else tally.latencies
        count = sum(t.count for t in phase.kinds.values()) if tally is None else tally.count
        errors = phase.errors if tally is None else tally.errors.total()
        cells = [fmt_ms(percentile(lat, q)) for q in (50, 99, 99.9)]
        rows.append(
            [*(head if i == 0 else ["", "", ""]), kind, fmt_int(count), str(errors), *cells]
        )
    return rows


def report(phases: Sequence[Phase]) -> str:
    headers = ["phase", "offered/s", "achieved/s", "request", "count", "errors"]
    out = [
        render_table([*headers, "p50", "p99", "p99.9"], [r for p in phases for r in phase_rows(p)])
    ]
    errors = [
        [p.name, kind, name, fmt_int(n)]
        for p in phases
        for kind, tally in p.kinds.items()
        for name, n in tally.errors.items()
        if n
    ]
    if errors:
        out.append(render_table(["phase", "request", "error", "count"], errors, title="errors"))
    runs = [
        [p.name, r.name, r.http, r.status, r.processed, fmt_ms(r.seconds)]
        for p in phases
        for r in p.runs
    ]
    headers = ["phase", f"run of {RUN_DATE}, ?wait=true", "HTTP", "status", "processed", "took"]
    out.append(render_table(headers, runs, title="runs started at half time"))
    return "\n\n".join(out)


def measures(phases: Sequence[Phase], peak: str) -> list[Measure]:
    out = []
    for phase in phases:
        offered = (
            "closed loop" if phase.offered is None else f"{fmt_int(phase.offered)} req/s offered"
        )
        value = f"{phase.achieved:,.1f} req/s"
        out.append(Measure.timed(f"{phase.name}: {offered}", value, phase.latencies, peak=peak))
        for run in phase.runs:
            out.append(Measure(f"  {run.name} during it", fmt_ms(run.seconds), run.processed))
    return out


async def database_checks(db: BenchDatabase, tag: str, phases: Sequence[Phase]) -> list[Check]:
    monitor = await connect(db.url)
    try:
        trades = await monitor.fetchval(
            "SELECT count(*) FROM trades WHERE external_id LIKE $1", f"LD{tag}-%"
        )
        matched = await monitor.fetchval(
            "SELECT count(*) FROM confirmations WHERE confirmation_id LIKE $1 "
            "AND status = 'matched'",
            f"LC{tag}-%",
        )
    finally:
        await monitor.close()
    captured = sum(len(p.kinds[CAPTURE].latencies) for p in phases)
    confirmed = sum(len(p.kinds[CONFIRM].latencies) for p in phases)
    return [
        Check("trades answered 201, stored", captured, trades),
        Check("confirmations answered matched, stored matched", confirmed, matched),
    ]


def phase_checks(phase: Phase) -> list[Check]:
    checks = [Check(f"{phase.name}: errors", 0, phase.errors)]
    if phase.offered is not None:
        answered = [f"{r.name} {r.http}" for r in phase.runs]
        expected = ["clearing run 200", "settlement run 200"]
        checks.append(
            Check(f"{phase.name}: runs answered", ", ".join(expected), ", ".join(answered))
        )
    return checks


async def phases_of(args: argparse.Namespace, work: Workload, pids: list[int]) -> list[Phase]:
    """Warm-up, the closed-loop maximum (unless ``--max-rate`` gives it), an open-loop phase
    a level."""
    share = dict(MIX)[CONFIRM] / sum(dict(MIX).values())
    await work.seed(400)
    phases = [await closed_loop(work, Phase("warm-up", None), args.concurrency, 2.0)]
    maximum = args.max_rate
    if not maximum:
        probe = Phase(f"max, {args.concurrency} clients", None, cpu=CpuMeter(pids))
        phases.append(await closed_loop(work, probe, args.concurrency, args.probe_seconds))
        print(f"{probe.name}: {probe.achieved:,.1f} req/s; {probe.cpu.line()}", flush=True)
        maximum = probe.achieved
    rng = random.Random(SEED)
    for level in args.levels:
        rate = maximum * level / 100
        want = round(rate * args.seconds * share * 1.2) + 20
        if len(work.unconfirmed) < want:
            await work.seed(want - len(work.unconfirmed))
        phase = Phase(f"{level} % of max", rate, cpu=CpuMeter(pids))
        phases.append(await open_loop(work, phase, args.seconds, rng))
        lag = fmt_ms(percentile(phase.send_lag, 99))
        print(
            f"{phase.name}: {phase.achieved:,.1f} req/s; the bench sent p99 {lag} after "
            f"schedule; {phase.cpu.line()}",
            flush=True,
        )
    return phases


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    tag = datetime.now(UTC).strftime("%H%M%S")
    async with running_servers(args.servers, db.url) as servers:
        api = {
            role: [
                client(s.base_url, db.headers(role), connections=OPEN_CONNECTIONS, keepalive=2.0)
                for s in servers
            ]
            for role in ("trader", "gateway", "operations")
        }
        async with contextlib.AsyncExitStack() as stack:
            for c in (c for clients in api.values() for c in clients):
                await stack.enter_async_context(c)
            leis = [c["lei"] for c in await fetch_all(api["trader"][0], "/counterparties")]
            instruments = await fetch_all(api["trader"][0], "/instruments")
            work = Workload(api, Payloads(instruments, leis), tag)
            async with profiled(args.py_spy, "load", servers[0].pid):
                warm, *phases = await phases_of(args, work, [s.pid for s in servers])
        for server in servers:
            server.sample()
        peak = fmt_mib(max(s.peak_mib or 0.0 for s in servers))
    print(report(phases))
    checks = [c for p in phases for c in phase_checks(p)]
    checks += await database_checks(db, tag, [warm, *phases])
    return Result(PROG, "", measures(phases, peak), checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
