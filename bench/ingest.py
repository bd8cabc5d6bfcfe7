"""Trade capture over HTTP to uvicorn: POST /trades/batch against asyncpg COPY of the same rows
(goal >= 0.20), from one batch client to one server process, from ``--batch-clients`` clients
at once to that process, and from one client to each of ``--batch-servers`` processes at once (a
batch's Python can overlap another's database work: one client leaves the server idle while its
batch commits), POST /trades from concurrent clients against GET /healthz (goal >= 0.35), and
the same POST /trades load with an Idempotency-Key each against without one (goal >= 0.85).
Then POST /trades open loop, at --open-level % of the closed-loop rate (iii): Poisson arrivals
drawn in advance, each latency from its scheduled send (goal: p99 <= 50 ms at 50 %).

    python -m bench.ingest [--full] [--trades N] [--batch N] [--requests N] [--concurrency N]
                           [--open-seconds S] [--open-level PCT | --open-rate REQ_PER_S]

Phases (iii)-(vi) are driven by the load generator (``bench/lib/loadgen.py``), a process of its
own with warm keep-alive connections and every request built beforehand, so its CPU (printed per
request next to the servers') is not taken from the servers' share of the host and does not cap
the rate as an in-process Python client would; (i) keeps an httpx client (1,000 trades a request).

The servers' CPU of every phase is that of every server process started (two by default), the
one taking the requests or not: the audit sealer and the other background workers run in the
process that wins their leadership, so counting one process's CPU would count them or not by
chance.

Checks: every answer as expected; each trade booked through the API is stored and audited once.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bench.lib import cli
from bench.lib.data import API, TRADE_COLUMNS, add_weekdays, fetch_all, trade_row
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.http1 import request_bytes
from bench.lib.loadgen import Job, LoadGenerator, Outcome
from bench.lib.measure import CpuMeter, PgCounters, arrivals
from bench.lib.profile import profiled
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, fmt_ratio, percentile
from bench.lib.servers import Server, addresses, client, running_servers

PROG = "bench.ingest"
SIZES = (
    cli.Size("trades", 10_000, 50_000, "trades booked by batch"),
    cli.Size("batch", 1_000, 5_000, "trades per batch (<= 10,000)"),
    cli.Size("requests", 3_000, 10_000, "single requests per phase ((iv): 20 times as many)"),
    cli.Size("concurrency", 32, 32, "concurrent clients"),
    cli.Size("servers", 1, 1, "uvicorn processes"),
    cli.Size("batch_clients", 2, 2, "batch clients at once to one server, the second phase"),
    cli.Size("batch_servers", 2, 2, "uvicorn processes of the third batch phase, a client each"),
    cli.Size("open_seconds", 15, 30, "seconds of the open-loop POST /trades phase"),
    cli.Size("open_level", 50, 50, "its rate, as a percentage of the closed-loop rate (iii)"),
    cli.Size("open_rate", 0.0, 0.0, "its rate in requests/s instead (0: --open-level)"),
)
TRADE_DATE = date(2026, 11, 24)  # a Tuesday: a trading day at every demo venue
WARMUP = 64
# GET /healthz answers some 20 times as fast as POST /trades: (iv) sends this many times
# --requests, so that it lasts about as long as (iii) and (v) rather than a few CPU ticks.
HEALTHZ_FACTOR = 20
SEED = 20261124
Send = Callable[[httpx.AsyncClient, Any], Awaitable[tuple[bool, int]]]  # (ok, trades done)


@dataclass
class Phase:
    name: str
    unit: str
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter = field(default_factory=CpuMeter)
    generator_ms: float | None = None  # the load generator's CPU per request, when it drove

    @property
    def rate(self) -> float:
        return self.count / self.cpu.wall if self.cpu.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        """The servers' CPU per request (or trade), in ms."""
        return 10 * self.cpu.servers_pct * self.cpu.wall / self.count if self.count else 0.0

    def take(self, outcome: Outcome, expected: int) -> None:
        """The load generator's answers: every one not ``expected`` an error."""
        self.count, self.latencies = len(outcome.statuses), outcome.latencies
        self.errors, self.generator_ms = self.count - outcome.count(expected), outcome.cpu_ms

    def cpu_line(self) -> str:
        line = f"{self.cpu.line()}, {self.cpu_ms:.2f} ms server CPU each"
        if self.generator_ms is not None:
            line += f", {self.generator_ms:.3f} ms load generator CPU each"
        return line

    def against(self, baseline: Phase, goal: float, peak: str) -> Measure:
        p50, p99 = (fmt_ms(percentile(self.latencies, q)) for q in (50, 99))
        ratio = fmt_ratio(self.rate / baseline.rate, goal) if baseline.rate else ""
        value, base = (f"{fmt_int(p.rate)} {p.unit}" for p in (self, baseline))
        return Measure(self.name, value, base, ratio, p50, p99, peak)


class Payloads:
    """The n-th trade: every demo instrument and counterparty in turn."""

    def __init__(self, instruments: list[dict[str, Any]], leis: list[str]) -> None:
        self.instruments, self.leis = instruments, leis

    def terms(self, n: int) -> tuple[dict[str, Any], bool]:
        instrument = self.instruments[n % len(self.instruments)]
        bond = instrument["type"] == "bond"
        quantity = 100_000 * (1 + n % 5) if bond else 100 * (1 + n % 9)
        terms = {
            "book": "FI-RATES" if bond else "EQ-FLOW",
            "counterparty_lei": self.leis[n % len(self.leis)],
            "isin": instrument["isin"],
            "side": "buy" if n % 2 == 0 else "sell",
            "quantity": Decimal(quantity),
            "price": Decimal("78.50") if bond else Decimal(f"{50 + n % 150}.25"),
            "currency": instrument["currency"],
            "venue": instrument["mic"],
        }
        return terms, bond

    def body(self, n: int, prefix: str) -> dict[str, Any]:
        terms, bond = self.terms(n)
        charges = ("0", "0") if bond else ("1.50", "0.02")
        return {
            **{k: str(v) for k, v in terms.items()},
            **{"external_id": f"{prefix}-{n:08d}", "trade_date": str(TRADE_DATE)},
            **{"trade_time": f"{TRADE_DATE}T14:31:05Z", "commission": charges[0]},
            "fees": charges[1],
        }

    def row(self, n: int, prefix: str, created_by: str) -> tuple[Any, ...]:
        t, bond = self.terms(n)
        settles = add_weekdays(TRADE_DATE, 1 if t["venue"] == "XNYS" else 2)
        terms = (t["book"], t["counterparty_lei"], t["isin"], t["side"], t["quantity"], t["price"])
        accrued = Decimal("1234.56") if bond else None
        args = (t["currency"], TRADE_DATE, t["venue"], settles, "captured", created_by)
        return trade_row(f"{prefix}-{n:08d}", *terms, *args, bond=bond, accrued=accrued)


async def drive(
    phase: Phase, clients: Sequence[httpx.AsyncClient], items: Iterable[Any], send: Send
) -> Phase:
    """Every client takes the next item until none is left."""
    queue = iter(items)

    async def worker(api: httpx.AsyncClient) -> None:
        for item in queue:
            started = time.perf_counter()
            ok, done = await send(api, item)
            phase.latencies.append(time.perf_counter() - started)
            phase.count, phase.errors = phase.count + done, phase.errors + (not ok)

    await asyncio.gather(*(worker(api) for api in clients))
    return phase


async def generated(
    phase: Phase, monitor: Any, servers: Sequence[Server], job: Job, expected: int
) -> Phase:
    """``job`` run by the load generator (its connections warm first), with the servers' CPU
    and PostgreSQL's counters taken around the load; every answer not ``expected`` an error."""
    generator = await LoadGenerator.start(job)
    phase.cpu, pg = CpuMeter([s.pid for s in servers]), PgCounters(monitor)
    await pg.start()
    phase.cpu.start()
    await generator.run()
    phase.cpu.stop()
    await pg.stop()
    outcome = await generator.outcome()
    phase.take(outcome, expected)
    p50, p99 = (fmt_ms(percentile(phase.latencies, q)) for q in (50, 99))
    print(f"{phase.name}: {phase.count:,} in {phase.cpu.wall:.2f} s, p50 {p50}, p99 {p99}")
    print(f"  {phase.cpu_line()}")
    if job.schedule is not None:
        late = fmt_ms(percentile(outcome.send_lag, 99))
        print(f"  sent p99 {late} after schedule; {outcome.opened} connections opened meanwhile")
    print(f"  {pg.line(max(phase.count, 1), 'request')}")
    return phase


async def measured(
    phase: Phase, monitor: Any, servers: Sequence[Server], *work: Any, warm: Iterable[Any] = ()
) -> Phase:
    """A warm-up, then ``drive`` with CPU and PostgreSQL's counters taken around it."""
    clients, items, send = work
    await drive(Phase("warm-up", ""), clients, warm, send)
    phase.cpu, pg = CpuMeter([s.pid for s in servers]), PgCounters(monitor)
    await pg.start()
    phase.cpu.start()
    await drive(phase, clients, items, send)
    phase.cpu.stop()
    await pg.stop()
    print(f"{phase.name}: {phase.count:,} in {phase.cpu.wall:.2f} s; {phase.cpu_line()}")
    print(f"  {pg.line(max(phase.count, 1), 'trade' if 'trades' in phase.name else 'request')}")
    return phase


async def post_batch(api: httpx.AsyncClient, item: tuple[str, list[Any]]) -> tuple[bool, int]:
    key, items = item
    headers = {"Idempotency-Key": key}
    response = await api.post(f"{API}/trades/batch", json={"items": items}, headers=headers)
    created = response.json().get("created", 0) if response.status_code == 200 else 0
    return created == len(items), created


async def batch_phase(
    args: argparse.Namespace,
    db: BenchDatabase,
    monitor: Any,
    servers: Sequence[Server],
    payloads: Payloads,
    prefix: str,
    clients_each: int = 1,
    *,
    metered: Sequence[Server],
) -> Phase:
    """``args.trades`` trades in batches, ``clients_each`` batch clients per server, each
    sending its next batch when its last is answered; the CPU of every ``metered`` process."""
    batchers = [client(s.base_url, db.headers()) for s in servers for _ in range(clients_each)]
    warm = [
        (f"w{prefix}{i}", [payloads.body(n, f"WB{prefix}{i}") for n in range(100)])
        for i in range(len(batchers))
    ]
    bodies = [payloads.body(n, prefix) for n in range(args.trades)]
    batches = [
        (f"{prefix}-{i}", bodies[i : i + args.batch]) for i in range(0, len(bodies), args.batch)
    ]
    if len(servers) > 1:
        where = f"{len(servers)} servers, a client each"
    else:
        where = "1 server" if clients_each == 1 else f"1 server, {clients_each} clients at once"
    phase = Phase(f"(i) POST /trades/batch, {args.batch:,} a request, {where}", "trades/s")
    try:
        profile = f"ingest-batch-{len(servers)}x{clients_each}"
        async with profiled(args.py_spy, profile, servers[0].pid):
            work = (batchers, batches, post_batch)
            return await measured(phase, monitor, metered, *work, warm=warm)
    finally:
        await asyncio.gather(*(c.aclose() for c in batchers))


async def open_phase(
    args: argparse.Namespace,
    monitor: Any,
    servers: Sequence[Server],
    headers: dict[str, str],
    work: tuple[Phase, Payloads, str],
    *,
    metered: Sequence[Server],
) -> Phase:
    """(vi): POST /trades with an Idempotency-Key each, open loop at ``--open-level`` % of the
    closed-loop rate of (iii), for ``--open-seconds``: Poisson arrivals drawn in advance (seeded),
    each latency from its scheduled send, so a queue in the server shows in full; ``work``:
    (iii), the payloads, the tag."""
    closed, payloads, tag = work
    rate = args.open_rate or closed.rate * args.open_level / 100
    share = f"{args.open_rate:g}/s" if args.open_rate else f"{args.open_level} % of (iii)"
    name = f"(vi) POST /trades open loop, {share} (goal p99 <= 50 ms)"
    phase = Phase(name, "req/s")
    if rate <= 0:
        return phase
    schedule = arrivals(rate, args.open_seconds, random.Random(SEED))
    requests = [
        request_bytes(
            "POST",
            f"{API}/trades",
            {**headers, "Idempotency-Key": f"open-{tag}-{n}"},
            json_body=payloads.body(n, f"OPN{tag}"),
        )
        for n in range(len(schedule))
    ]
    # Warmed by GET /healthz (no trade); more are opened if ever all of them are busy.
    warm = [request_bytes("GET", "/healthz")] * args.concurrency
    job = Job(addresses(servers), requests, args.concurrency, warm, schedule=schedule)
    return await generated(phase, monitor, metered, job, 201)


def posts(
    headers: dict[str, str], payloads: Payloads, prefix: str, numbers: range, key: str = ""
) -> list[bytes]:
    """POST /trades of the numbered trades, each with Idempotency-Key ``key-n`` unless ``key``
    is empty."""
    return [
        request_bytes(
            "POST",
            f"{API}/trades",
            {**headers, "Idempotency-Key": f"{key}-{n}"} if key else headers,
            json_body=payloads.body(n, prefix),
        )
        for n in numbers
    ]


async def single_phases(
    args: argparse.Namespace,
    monitor: Any,
    servers: Sequence[Server],
    db: BenchDatabase,
    work: tuple[Payloads, str],
    *,
    metered: Sequence[Server],
) -> tuple[Phase, Phase, Phase]:
    """(iii) POST /trades with an Idempotency-Key each, (iv) GET /healthz, (v) POST /trades
    without a key: ``--requests`` each (GET /healthz HEALTHZ_FACTOR times as many), closed loop
    on ``--concurrency`` connections (the servers in turn), after WARMUP requests on them."""
    payloads, tag = work
    headers, numbers, warm = db.headers(), range(args.requests), range(-WARMUP, 0)
    loads = {
        "(iii)": (posts(headers, payloads, f"ONE{tag}", warm, f"one-{tag}"), 201),
        "(iv)": ([request_bytes("GET", "/healthz")] * WARMUP, 200),
        "(v)": (posts(headers, payloads, f"NOK{tag}", warm), 201),
    }
    requests = {
        "(iii)": posts(headers, payloads, f"ONE{tag}", numbers, f"one-{tag}"),
        "(iv)": [request_bytes("GET", "/healthz")] * (HEALTHZ_FACTOR * args.requests),
        "(v)": posts(headers, payloads, f"NOK{tag}", numbers),
    }
    names = {
        "(iii)": f"(iii) POST /trades, {args.concurrency} clients",
        "(iv)": "(iv) GET /healthz (no-op), same load",
        "(v)": "(v) POST /trades without Idempotency-Key, same load",
    }
    phases = []
    for label, (warm_requests, expected) in loads.items():
        job = Job(addresses(servers), requests[label], args.concurrency, warm_requests)
        slug = "ingest-single" if label == "(iii)" else ""
        async with profiled(args.py_spy if slug else None, slug, servers[0].pid):
            phase = Phase(names[label], "req/s")
            phases.append(await generated(phase, monitor, metered, job, expected))
    single, noop, no_key = phases
    return single, noop, no_key


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    tag, monitor = datetime.now(UTC).strftime("%H%M%S"), await connect(db.url)
    async with running_servers(max(args.servers, args.batch_servers), db.url) as started:
        servers = started[: args.servers]
        async with client(servers[0].base_url, db.headers()) as api:
            leis = [c["lei"] for c in await fetch_all(api, "/counterparties")]
            payloads = Payloads(await fetch_all(api, "/instruments"), leis)
        # One server process first (the figure of earlier sessions), then several at once.
        # Every process's CPU in every phase: the audit sealer and the other background workers
        # run in whichever process leads, not necessarily the one taking the requests.
        batch = await batch_phase(
            args, db, monitor, started[:1], payloads, f"BAT{tag}", metered=started
        )
        # The same server with batches from several clients at once: one batch's Python
        # overlaps the database work of another's (one client leaves the server idle meanwhile).
        crowded = await batch_phase(
            args,
            db,
            monitor,
            started[:1],
            payloads,
            f"BAC{tag}",
            args.batch_clients,
            metered=started,
        )
        several = await batch_phase(
            args, db, monitor, started[: args.batch_servers], payloads, f"BAS{tag}", metered=started
        )
        rows = [payloads.row(n, f"CPY{tag}", db.key_ids["trader"]) for n in range(batch.count)]
        copy = Phase(f"(ii) asyncpg COPY into trades, {args.batch:,} a transaction", "rows/s")
        copy.cpu.start()
        for start in range(0, len(rows), args.batch):
            began = time.perf_counter()
            await copy_rows(monitor, "trades", TRADE_COLUMNS, rows[start : start + args.batch])
            copy.latencies.append(time.perf_counter() - began)
        copy.cpu.stop()
        copy.count = len(rows)
        work = (payloads, tag)
        single, noop, no_key = await single_phases(
            args, monitor, servers, db, work, metered=started
        )
        async with profiled(args.py_spy, "ingest-open", servers[0].pid):
            opened = await open_phase(
                args, monitor, servers, db.headers(), (single, payloads, tag), metered=started
            )
        for server in started:
            server.sample()
    patterns = [
        f"BAT{tag}-%",
        f"BAS{tag}-%",
        f"BAC{tag}-%",
        f"ONE{tag}-%",
        f"WB%{tag}%",
        f"NOK{tag}-%",
        f"OPN{tag}-%",
    ]
    booked = await monitor.fetchval(
        "SELECT count(*) FROM trades WHERE external_id LIKE ANY($1)", patterns
    )
    # One "captured" record per trade; trades on a locked-in venue (Xetra) have a second one,
    # "confirmed_locked_in", which this count leaves out.
    audited = await monitor.fetchval(
        "SELECT count(*) FROM audit_records WHERE entity_type = 'trade' AND action = 'captured'"
    )
    await monitor.close()
    via_api = (
        3 * args.trades
        + 2 * (args.requests + WARMUP)
        + 100 * (1 + args.batch_clients + args.batch_servers)
        + opened.count
    )
    peak = fmt_mib(max(s.peak_mib or 0.0 for s in started))
    checks = [
        Check(
            "(i) batches refused or partly booked",
            0,
            batch.errors + crowded.errors + several.errors,
        ),
        Check("(i) trades booked by batch, 1 server", args.trades, batch.count),
        Check("(i) trades booked by batch, 1 server, several clients", args.trades, crowded.count),
        Check("(i) trades booked by batch, several servers", args.trades, several.count),
        Check("(iii) POST /trades not answered 201", 0, single.errors),
        Check("(iv) GET /healthz not answered 200", 0, noop.errors),
        Check("(v) POST /trades without Idempotency-Key not answered 201", 0, no_key.errors),
        Check("(vi) POST /trades open loop not answered 201", 0, opened.errors),
        Check("trades booked through the API, in trades", via_api, booked),
        Check(
            "captured records of trades (one per trade booked through the API)", via_api, audited
        ),
    ]
    idempotency = single.against(no_key, 0.85, peak)
    measures = [
        batch.against(copy, 0.20, peak),
        crowded.against(copy, 0.20, peak),
        several.against(copy, 0.20, peak),
        single.against(noop, 0.35, peak),
        replace(idempotency, name="(iii) ÷ (v): idempotency on ÷ off", p50="", p99=""),
        Measure.timed(
            opened.name,
            f"{fmt_int(opened.rate)} req/s",
            opened.latencies,
            baseline=f"{fmt_int(single.rate)} req/s closed loop",
            peak=peak,
        ),
    ]
    return Result(PROG, "", measures, checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
