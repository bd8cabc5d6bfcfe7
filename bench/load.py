"""Open-loop load of a mixed workload over HTTP to uvicorn: trade capture, queries (the trade
list, one trade, positions, cash balances) and confirmations of captured trades, with a clearing
run and then a settlement run started in the middle of each phase. First the mix's maximum
throughput closed-loop (concurrent clients, each sending when its last answer came); then
open-loop phases at fractions of it.

    python -m bench.load [--full] [--seconds N] [--levels PCT [PCT ...]] [--probe-seconds N]
                         [--max-rate REQ_PER_S]

The maximum is of the mix alone; the open-loop phases add the two runs (each ``?wait=true``, on
a connection of its own, one after the other), whose durations are reported with the phase.

The mix is sent by the load generator (``bench/lib/loadgen.py``, a process of its own, its CPU
per request printed), each phase's requests built beforehand: a confirmation is of a trade
captured before the phase (in an earlier phase, or booked in a batch beforehand, unmeasured),
a GET /trades/{id} of a trade captured before it. The runs are sent by the bench meanwhile.

Open loop: requests leave on a Poisson arrival schedule fixed in advance, whether or not earlier
answers have come, and each latency runs from the request's *scheduled* send time, so time spent
queueing (for a connection as in the server) counts and a slow answer cannot hold back the
requests behind it (no coordinated omission). Latencies are of 2xx answers; anything
else (another status, a confirmation not ``matched``, a transport error, no answer by the end of
the drain) is an error of its kind, counted and named.

Checks: no error in any phase; both runs answered 200 in every phase; every trade answered 201
stored; every confirmation answered ``matched`` stored as matched.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.confirmations import THEIRS
from bench.ingest import TRADE_DATE, Payloads
from bench.lib import cli
from bench.lib.data import API, add_weekdays, fetch_all, post_ok
from bench.lib.db import BenchDatabase, connect
from bench.lib.http1 import request_bytes
from bench.lib.loadgen import LOST, NOT_SENT, Job, LoadGenerator, Outcome
from bench.lib.loadgen import UNANSWERED as NOT_ANSWERED
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
from bench.lib.servers import Server, addresses, client, running_servers

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
OPEN_CONNECTIONS = 32  # warm ones a server; the load generator opens more if all are busy
WARM_PLANNED = 1_000  # requests built for the 2 s closed-loop warm-up
PROBE_RATE = 300  # requests/s built for the closed-loop maximum at least
SEED_BATCH = 1_000  # trades a batch when booking trades to confirm
SEED = 20261205
UNANSWERED = "no answer by the end of the drain"
FAILURES = {LOST: "connection lost", NOT_ANSWERED: UNANSWERED}
Keys = dict[str, dict[str, str]]  # role: its Authorization header


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
    planned: int = 0  # closed loop: requests built (it sends what it can in its seconds)
    batch: Batch | None = None
    generator_ms: float = 0.0  # the load generator's CPU per request sent
    opened: int = 0  # open loop: connections the load generator opened during the phase

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

    @property
    def count(self) -> int:
        return sum(t.count for t in self.kinds.values())

    def cpu_line(self) -> str:
        return f"{self.cpu.line()}; load generator {self.generator_ms:.3f} ms CPU a request"


class Workload:
    """The mix's requests, built as bytes before each phase for the load generator: numbered in
    one sequence over the bench, so each has its kind (``interleave(MIX)``) and each capture its
    own external id; captured trades (booked in a batch beforehand, or answered 201 in an
    earlier phase) wait in a queue, oldest first, for their confirmation."""

    def __init__(
        self, api: dict[str, httpx.AsyncClient], payloads: Payloads, tag: str, keys: Keys
    ) -> None:
        self.api, self.payloads, self.tag, self.keys = api, payloads, tag, keys
        self.cycle, self.next = interleave(MIX), 0
        self.unconfirmed: deque[dict[str, Any]] = deque()
        self.ids: list[str] = []
        self.rng = random.Random(SEED)
        self.seeded = 0  # batches booked by ``seed``

    def take(self) -> tuple[int, str]:
        n, self.next = self.next, self.next + 1
        return n, self.cycle[n % len(self.cycle)]

    def confirmations_in(self, count: int) -> int:
        """How many of the next ``count`` requests are confirmations."""
        kinds = (self.cycle[(self.next + i) % len(self.cycle)] for i in range(count))
        return sum(kind == CONFIRM for kind in kinds)

    def build(self, count: int) -> Batch:
        """The next ``count`` requests; each confirmation takes the oldest unconfirmed trade."""
        batch = Batch()
        for index in range(count):
            n, kind = self.take()
            batch.kinds.append(kind)
            batch.requests.append(self.request(n, kind, index, batch))
        return batch

    def request(self, n: int, kind: str, index: int, batch: Batch) -> bytes:
        trader = self.keys["trader"]
        if kind == CAPTURE:
            headers = {**trader, "Idempotency-Key": f"ld-{self.tag}-{n}"}
            body = self.payloads.body(n, f"LD{self.tag}")
            return request_bytes("POST", f"{API}/trades", headers, json_body=body)
        if kind == CONFIRM:
            trade = batch.confirming[index] = self.unconfirmed.popleft()
            headers = {**self.keys["gateway"], "Idempotency-Key": f"lc-{self.tag}-{n}"}
            body = confirmation(trade, f"LC{self.tag}-{n:08d}")
            return request_bytes("POST", f"{API}/confirmations", headers, json_body=body)
        path, params = {
            "GET /trades/{id}": (f"/trades/{self.rng.choice(self.ids)}", {}),
            "GET /trades": ("/trades", {"limit": "50"}),
            "GET /positions": ("/positions", {"basis": "trade_date"}),
            "GET /cash-balances": ("/cash-balances", {}),
        }[kind]
        return request_bytes("GET", f"{API}{path}", trader, params=params)

    def settle(self, phase: Phase, batch: Batch, outcome: Outcome) -> None:
        """Each answer into ``phase``; trades captured join the queue, and the trades of
        confirmations never sent go back to its front."""
        unsent = []
        for index, kind in enumerate(batch.kinds):
            status, body = outcome.statuses[index], outcome.bodies[index]
            if status == NOT_SENT:
                if index in batch.confirming:
                    unsent.append(batch.confirming[index])
                continue
            answer: int | str = FAILURES.get(status, status)
            if kind == CAPTURE and status == 201:
                self.keep(json.loads(body))
            elif kind == CONFIRM and status == 201:
                matched = json.loads(body).get("status")
                answer = 201 if matched == "matched" else f"201 {matched}"
            phase.record(kind, answer, outcome.latencies[index], outcome.ended[index])
        self.unconfirmed.extendleft(reversed(unsent))

    def keep(self, trade: dict[str, Any]) -> None:
        self.ids.append(trade["id"])
        if trade["status"] == "captured":  # Xetra's are confirmed at capture (locked in)
            self.unconfirmed.append(trade)

    async def seed(self, count: int) -> None:
        """``count`` captured trades more waiting for confirmation, booked in batches (not
        measured), so a phase never runs out of trades to confirm; a batch books as many again
        as are still missing, Xetra's trades being confirmed at capture."""
        wanted = len(self.unconfirmed) + count
        while (missing := wanted - len(self.unconfirmed)) > 0:
            self.seeded += 1
            prefix = f"LS{self.tag}-{self.seeded}"
            for start in range(0, missing, SEED_BATCH):
                numbers = range(start, min(missing, start + SEED_BATCH))
                items = [self.payloads.body(n, prefix) for n in numbers]
                await post_ok(self.api["trader"], "/trades/batch", {"items": items}, expect=200)
            captured = await fetch_all(self.api["trader"], "/trades", {"status": "captured"})
            fresh = [t for t in captured if t["external_id"].startswith(prefix + "-")]
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
                response = await self.api["operations"].post(
                    f"{API}{path}", params={"wait": "true"}, json=body
                )
                http, answer = response.status_code, response.json()
            except httpx.HTTPError as error:
                http, answer = 0, {"status": type(error).__name__}
            done = f"{answer.get('processed', '-')}/{answer.get('total', '-')}"
            seconds = time.perf_counter() - started
            phase.runs.append(RunTiming(name, http, seconds, str(answer.get("status")), done))


@dataclass
class Batch:
    """A phase's requests: each one's kind and bytes, and the trade each confirmation is of."""

    kinds: list[str] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    confirming: dict[int, dict[str, Any]] = field(default_factory=dict)


def confirmation(trade: dict[str, Any], confirmation_id: str) -> dict[str, Any]:
    """The counterparty's confirmation of ``trade``, on every term the same."""
    return {
        **{k: trade[k] for k in ("counterparty_lei", "isin", "quantity", "price", "currency")},
        **{k: trade[k] for k in ("trade_date", "settlement_date", "net_amount")},
        "confirmation_id": confirmation_id,
        "trade_reference": trade["external_id"],
        "side": THEIRS[trade["side"]],
    }


async def generate(
    work: Workload, phase: Phase, servers: Sequence[Server], job: Job, runs_at: float | None
) -> Phase:
    """``job`` from the load generator, the servers' CPU taken around it; the runs start
    ``runs_at`` seconds in (None: no runs) and get until DRAIN after the load's end."""
    batch = phase.batch
    assert batch is not None
    generator = await LoadGenerator.start(job)
    phase.cpu = CpuMeter([s.pid for s in servers])
    phase.cpu.start()

    async def half_time(at: float) -> None:
        await asyncio.sleep(at)
        await work.runs(phase)

    runs = asyncio.create_task(half_time(runs_at)) if runs_at is not None else None
    await generator.run()
    if runs is not None:
        await asyncio.wait([runs], timeout=DRAIN)
        runs.cancel()  # a late run shows as a run without its answer
        with contextlib.suppress(asyncio.CancelledError):
            await runs
    phase.cpu.stop()
    outcome = await generator.outcome()
    work.settle(phase, batch, outcome)
    phase.send_lag, phase.opened = outcome.send_lag, outcome.opened
    phase.generator_ms = outcome.cpu_ms
    return phase


async def closed_loop(
    work: Workload, phase: Phase, servers: Sequence[Server], clients: int, seconds: float
) -> Phase:
    """``clients`` connections, each sending its next request when its last answer came, for
    ``seconds`` (or until the ``phase.planned`` requests built are all sent); latencies from
    each actual send."""
    if (short := work.confirmations_in(phase.planned) - len(work.unconfirmed)) > 0:
        await work.seed(short)
    phase.batch = work.build(phase.planned)
    keep = [kind in (CAPTURE, CONFIRM) for kind in phase.batch.kinds]
    job = Job(addresses(servers), phase.batch.requests, clients, warm(clients), keep_bodies=keep)
    job.seconds = seconds
    return await generate(work, phase, servers, job, None)


async def open_loop(
    work: Workload, phase: Phase, servers: Sequence[Server], seconds: float, rng: random.Random
) -> Phase:
    """Requests at the arrival times drawn for ``phase.offered``, whatever the answers; the runs
    start at half time. Answers get DRAIN seconds after the last send, then count as errors."""
    assert phase.offered is not None
    schedule = arrivals(phase.offered, seconds, rng)
    if (short := work.confirmations_in(len(schedule)) - len(work.unconfirmed)) > 0:
        await work.seed(short + 20)
    phase.batch = work.build(len(schedule))
    keep = [kind in (CAPTURE, CONFIRM) for kind in phase.batch.kinds]
    connections = OPEN_CONNECTIONS * len(servers)
    job = Job(addresses(servers), phase.batch.requests, connections, warm(connections))
    job.schedule, job.keep_bodies, job.drain = schedule, keep, DRAIN
    return await generate(work, phase, servers, job, seconds / 2)


def warm(connections: int) -> list[bytes]:
    """A GET /healthz a connection: warm, and nothing booked."""
    return [request_bytes("GET", "/healthz")] * connections


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


def closed(name: str, planned: int) -> Phase:
    phase = Phase(name, None)
    phase.planned = planned
    return phase


async def phases_of(
    args: argparse.Namespace, work: Workload, servers: Sequence[Server]
) -> list[Phase]:
    """Warm-up, the closed-loop maximum (unless ``--max-rate`` gives it), an open-loop phase
    a level."""
    await work.seed(WARM_PLANNED // 5)
    warm = await closed_loop(work, closed("warm-up", WARM_PLANNED), servers, args.concurrency, 2.0)
    phases, maximum = [warm], args.max_rate
    if not maximum:
        # Requests built for twice the warm-up's rate: a closed loop sends what it can.
        planned = round(max(2 * warm.achieved, PROBE_RATE) * args.probe_seconds)
        probe = closed(f"max, {args.concurrency} clients", planned)
        await closed_loop(work, probe, servers, args.concurrency, args.probe_seconds)
        phases.append(probe)
        print(f"{probe.name}: {probe.achieved:,.1f} req/s; {probe.cpu_line()}", flush=True)
        if probe.count == planned:
            print(f"  (its {planned:,} requests all sent before {args.probe_seconds} s)")
        maximum = probe.achieved
    rng = random.Random(SEED)
    for level in args.levels:
        phase = Phase(f"{level} % of max", maximum * level / 100)
        phases.append(await open_loop(work, phase, servers, args.seconds, rng))
        lag = fmt_ms(percentile(phase.send_lag, 99))
        print(
            f"{phase.name}: {phase.achieved:,.1f} req/s; the load generator sent p99 {lag} "
            f"after schedule, {phase.opened} connections opened meanwhile; {phase.cpu_line()}",
            flush=True,
        )
    return phases


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    tag = datetime.now(UTC).strftime("%H%M%S")
    async with running_servers(args.servers, db.url) as servers:
        roles = ("trader", "gateway", "operations")
        api = {role: client(servers[0].base_url, db.headers(role)) for role in roles}
        keys = {role: db.headers(role) for role in roles}
        async with contextlib.AsyncExitStack() as stack:
            for c in api.values():
                await stack.enter_async_context(c)
            leis = [c["lei"] for c in await fetch_all(api["trader"], "/counterparties")]
            instruments = await fetch_all(api["trader"], "/instruments")
            work = Workload(api, Payloads(instruments, leis), tag, keys)
            async with profiled(args.py_spy, "load", servers[0].pid):
                warm, *phases = await phases_of(args, work, servers)
        for server in servers:
            server.sample()
        peak = fmt_mib(max(s.peak_mib or 0.0 for s in servers))
    print(report(phases))
    checks = [c for p in phases for c in phase_checks(p)]
    checks += await database_checks(db, tag, [warm, *phases])
    return Result(PROG, "", measures(phases, peak), checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
