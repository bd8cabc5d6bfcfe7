"""Confirmation matching throughput against PostgreSQL: over HTTP to uvicorn, and in process.

    python -m bench.confirmations [--trades 20000|100000] [--confirmations 500|5000]
                                  [--concurrency 16] [--days 20] [--servers 1]

``--trades`` captured trades loaded by asyncpg COPY (then ANALYZE): every demo instrument and
counterparty, trade dates over the ``--days`` weekdays before 2026-11-24; within one
(counterparty, ISIN, date, side) no two trades share a quantity, so a confirmation's economics
fit one trade. Each phase then sends ``--confirmations`` confirmations WITHOUT a trade reference,
shuffled: ~93 % of distinct trades (the counterparty's side, the same economics: ``matched``),
~5 % with another quantity (``unmatched``), ~2 % for a day we have no trade on (``alleged``),
after 64 unmeasured matched ones. Phases, each on its own trades: (a) POST /confirmations to
``--servers`` uvicorn processes from ``--concurrency`` clients; (b1) the same through the ASGI app
in this process, one at a time, with the SQL each confirmation sends (engine events); (b2) in
process, ``--concurrency`` at a time. Checks: every outcome is the generated one, about the
right trade; the confirmations and trades in the database add up.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bench.lib import cli
from bench.lib.data import API, TRADE_COLUMNS, add_weekdays, amounts, fetch_all, trade_row
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import CpuMeter, SqlRecorder, WaitSampler, peak_rss_mib, percentile
from bench.lib.profile import profiled
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, render_table
from bench.lib.servers import client, in_process_app, running_servers

PROG = "bench.confirmations"
SIZES = (
    cli.Size("trades", 20_000, 100_000, "captured trades to load"),
    cli.Size("confirmations", 500, 5_000, "measured confirmations per phase"),
    cli.Size("concurrency", 16, 16, "HTTP clients / in-process workers"),
    cli.Size("days", 20, 20, "weekdays the trades span"),
    cli.Size("servers", 1, 1, "uvicorn processes for (a)"),
)
WINDOW_END = date(2026, 11, 24)  # trades before it; alleged confirmations on it
WARMUP = 64
UNMATCHED, ALLEGED = 0.05, 0.02
OPPOSITE = {"buy": "sell", "sell": "buy"}
KINDS = ("matched", "unmatched", "alleged")


@dataclass(frozen=True)
class Security:
    isin: str
    currency: str
    venue: str
    bond: bool

    @property
    def lot(self) -> Decimal:
        return Decimal(1_000 if self.bond else 10)

    @property
    def tick(self) -> Decimal:
        return Decimal("0.001" if self.bond else "0.01")

    def price(self, rng: random.Random) -> Decimal:
        return Decimal(100) + self.tick * rng.randint(-200, 200)


@dataclass(frozen=True)
class Booked:
    """A loaded trade: what confirming it needs."""

    id: str
    security: Security
    lei: str
    side: str
    quantity: Decimal
    price: Decimal
    day: date

    def confirmation(self, cid: str, quantity: Decimal | None = None) -> dict[str, Any]:
        qty = self.quantity if quantity is None else quantity
        return body(cid, self.lei, self.security, self.side, qty, self.price, self.day)


@dataclass(frozen=True)
class Planned:
    kind: str  # what must come out
    body: dict[str, Any]
    trade_id: str | None  # the trade it is about (None: alleged)


def body(
    cid: str, lei: str, s: Security, our_side: str, qty: Decimal, price: Decimal, day: date
) -> dict[str, Any]:
    """The counterparty's confirmation of a trade of ours: their side, our economics."""
    return {
        "confirmation_id": cid,
        "counterparty_lei": lei,
        "isin": s.isin,
        "side": OPPOSITE[our_side],
        "quantity": str(qty),
        "price": str(price),
        "currency": s.currency,
        "trade_date": day.isoformat(),
        "settlement_date": add_weekdays(day, 1 if s.venue == "XNYS" else 2).isoformat(),
        "net_amount": str(amounts(our_side, qty, price, bond=s.bond)[3]),
    }


class Universe:
    """The trades: ``days`` weekdays before WINDOW_END for the matched ones; before those, days
    with one trade per (counterparty, ISIN, date, side) for the unmatched ones. (With several
    same-day trades none of which fits, the app leaves a confirmation alleged rather than guess;
    with only one, it compares and says what differs.)"""

    def __init__(self, securities: list[Security], leis: list[str], days: int, seed: int) -> None:
        self.securities, self.leis, self.rng = securities, leis, random.Random(seed)
        self.days = sorted({add_weekdays(WINDOW_END, -n) for n in range(1, days + 1)})
        self.taken: defaultdict[tuple[str, str, date, str], set[int]] = defaultdict(set)
        self.rows: list[tuple[Any, ...]] = []

    def trades(self, count: int, created_by: str) -> list[Booked]:
        """``count`` trades on random keys of the window."""
        rng, sides = self.rng, ("buy", "sell")
        securities, leis, days = self.securities, self.leis, self.days
        return [
            self._trade(
                rng.choice(securities),
                rng.choice(leis),
                rng.choice(days),
                rng.choice(sides),
                created_by,
            )
            for _ in range(count)
        ]

    def lonely(self, count: int, created_by: str) -> list[Booked]:
        """``count`` trades each alone on its key, on the days before the window."""
        keys = [
            (s, lei, side) for s in self.securities for lei in self.leis for side in ("buy", "sell")
        ]
        out = []
        for n in range(count):
            s, lei, side = keys[n % len(keys)]
            out.append(
                self._trade(
                    s, lei, add_weekdays(self.days[0], -1 - n // len(keys)), side, created_by
                )
            )
        return out

    def _trade(self, s: Security, lei: str, day: date, side: str, created_by: str) -> Booked:
        used = self.taken[(lei, s.isin, day, side)]
        while (step := self.rng.randint(10 if s.bond else 1, 10_000)) in used:
            pass
        used.add(step)
        qty, price = s.lot * step, s.price(self.rng)
        row = trade_row(
            external_id=f"FO-{day:%Y%m%d}-{len(self.rows):07d}",
            book="FI-RATES" if s.bond else "EQ-FLOW",
            lei=lei,
            isin=s.isin,
            side=side,
            quantity=qty,
            price=price,
            currency=s.currency,
            trade_date=day,
            venue=s.venue,
            settlement_date=add_weekdays(day, 1 if s.venue == "XNYS" else 2),
            status="captured",
            created_by=created_by,
            now=datetime.now(UTC),
            bond=s.bond,
        )
        self.rows.append(row)
        return Booked(row[0], s, lei, side, qty, price, day)

    def phase(
        self, trades: Iterator[Booked], lonely: Iterator[Booked], count: int, prefix: str
    ) -> tuple[list[Planned], list[Planned]]:
        """(warm-up, measured) confirmations of one phase, each about trades of its own."""
        unmatched, alleged = round(count * UNMATCHED), round(count * ALLEGED)
        measured = [
            Planned("matched", (t := next(trades)).confirmation(f"{prefix}-{i:07d}"), t.id)
            for i in range(count - unmatched - alleged)
        ]
        for i in range(unmatched):  # half a lot more: no trade of ours has that quantity
            t = next(lonely)
            other = t.confirmation(f"{prefix}-Q{i:06d}", t.quantity + t.security.lot / 2)
            measured.append(Planned("unmatched", other, t.id))
        for i in range(alleged):
            s = self.rng.choice(self.securities)
            qty, price = s.lot * self.rng.randint(10, 10_000), s.price(self.rng)
            side, lei = self.rng.choice(("buy", "sell")), self.rng.choice(self.leis)
            cid = f"{prefix}-A{i:06d}"
            measured.append(
                Planned("alleged", body(cid, lei, s, side, qty, price, WINDOW_END), None)
            )
        self.rng.shuffle(measured)
        warm = [
            Planned("matched", (t := next(trades)).confirmation(f"{prefix}-W{i:06d}"), t.id)
            for i in range(WARMUP)
        ]
        return warm, measured


def as_expected(p: Planned, answer: dict[str, Any]) -> bool:
    """The generated outcome, about the right trade (an unmatched one: the only one it can be)."""
    status, trade_id, candidates = answer["status"], answer["trade_id"], answer["candidates"]
    if p.kind == "alleged":
        return status == "alleged" and trade_id is None and not candidates
    return bool(status == p.kind and trade_id == p.trade_id)


@dataclass
class Phase:
    name: str
    generated: Counter[str]
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong: int = 0
    about_trade: int = 0  # unmatched outcomes that moved the trade to mismatched
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter = field(default_factory=CpuMeter)
    sql: SqlRecorder | None = None
    peak: float | None = None

    @property
    def rate(self) -> float:
        return sum(self.outcomes.values()) / self.cpu.wall if self.cpu.wall else 0.0

    def measure(self) -> Measure:
        matched = self.outcomes["matched"] / self.cpu.wall if self.cpu.wall else 0.0
        return Measure(
            self.name,
            f"{fmt_int(self.rate)}/s ({fmt_int(matched)} matched/s)",
            p50=fmt_ms(percentile(self.latencies, 50)),
            p99=fmt_ms(percentile(self.latencies, 99)),
            peak=fmt_mib(self.peak),
        )


async def drive(
    phase: Phase,
    warm: list[Planned],
    measured: list[Planned],
    clients: Sequence[httpx.AsyncClient],
    pids: Sequence[int],
    url: str,
) -> None:
    async def worker(api: httpx.AsyncClient, items: Iterator[Planned], record: bool) -> None:
        for p in items:
            started = time.perf_counter()
            response = await api.post(f"{API}/confirmations", json=p.body)
            elapsed = time.perf_counter() - started
            answer = (
                response.json()
                if response.status_code == 201
                else {"status": f"HTTP {response.status_code}", "trade_id": None, "candidates": []}
            )
            good = as_expected(p, answer)
            if not record:
                if not good:
                    raise RuntimeError(
                        f"{phase.name}: warm-up {p.body['confirmation_id']}: {response.text[:300]}"
                    )
                continue
            phase.latencies.append(elapsed)
            phase.outcomes[answer["status"]] += 1
            phase.about_trade += answer["status"] == "unmatched" and answer["trade_id"] is not None
            phase.wrong += not good

    queue = iter(warm)
    await asyncio.gather(*(worker(api, queue, False) for api in clients))
    queue, phase.cpu = iter(measured), CpuMeter(pids)
    async with WaitSampler(url) as waits:
        phase.cpu.start()
        await asyncio.gather(*(worker(api, queue, True) for api in clients))
        phase.cpu.stop()
    print(f"{phase.name}: {phase.cpu.line()}; {waits.line()}")


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    result = Result(PROG, "")
    async with in_process_app(db) as app, app.client("gateway") as api:
        instruments = await fetch_all(api, "/instruments")
        leis = [c["lei"] for c in await fetch_all(api, "/counterparties")]
    securities = [
        Security(i["isin"], i["currency"], i["mic"], i["type"] == "bond") for i in instruments
    ]
    universe = Universe(securities, leis, args.days, seed=20261124)
    started = time.perf_counter()
    booked = universe.trades(args.trades, db.key_ids["trader"])
    lonely = iter(universe.lonely(3 * round(args.confirmations * UNMATCHED), db.key_ids["trader"]))
    rows = universe.rows
    monitor = await connect(db.url)
    await copy_rows(monitor, "trades", TRADE_COLUMNS, rows)
    await monitor.execute("ANALYZE trades")
    print(
        f"load: {len(rows):,} trades generated, copied, analyzed: "
        f"{time.perf_counter() - started:.1f} s"
    )
    del rows
    trades = iter(random.Random(1).sample(booked, k=len(booked)))
    plans = {
        code: universe.phase(trades, lonely, args.confirmations, f"CP{code}")
        for code in ("H", "P", "C")
    }
    phases: list[Phase] = []
    async with running_servers(args.servers, db.url) as servers:
        clients = [
            client(servers[i % len(servers)].base_url, db.headers("gateway"), timeout=60)
            for i in range(args.concurrency)
        ]
        phase = Phase(
            f"(a) HTTP POST /confirmations, {args.concurrency} clients",
            Counter(p.kind for p in plans["H"][1]),
        )
        async with profiled(args.py_spy, "confirmations-http", servers[0].pid):
            await drive(phase, *plans["H"], clients, [s.pid for s in servers], db.url)
        await asyncio.gather(*(c.aclose() for c in clients))
        for server in servers:
            server.sample()
        phase.peak = max(s.peak_mib or 0.0 for s in servers)
        phases.append(phase)
    for code, workers in (("P", 1), ("C", args.concurrency)):
        phase = Phase(
            f"(b{1 if workers == 1 else 2}) in process (ASGI), {workers} at a time",
            Counter(p.kind for p in plans[code][1]),
        )
        async with in_process_app(db, pool_size=workers) as app:
            clients = [app.client("gateway") for _ in range(workers)]
            with SqlRecorder() as phase.sql:
                async with profiled(args.py_spy, f"confirmations-inproc-{workers}"):
                    await drive(phase, *plans[code], clients, [], db.url)
        phase.peak = peak_rss_mib()
        phases.append(phase)
    one = phases[1]
    if one.sql is not None:
        print(
            render_table(
                ["SQL per confirmation, (b1)", "statements", "ms"],
                one.sql.per(sum(one.outcomes.values())),
            )
        )
    for phase in phases:
        for kind in KINDS:
            result.checks.append(
                Check(f"{phase.name[:4]} {kind}", phase.generated[kind], phase.outcomes[kind])
            )
        result.checks.append(Check(f"{phase.name[:4]} outcomes not as generated", 0, phase.wrong))
    result.checks += await database_checks(monitor, phases)
    await monitor.close()
    result.measures = [phase.measure() for phase in phases]
    return result


async def database_checks(monitor: Any, phases: Sequence[Phase]) -> list[Check]:
    confirmations = dict(
        await monitor.fetch("SELECT status, count(*) FROM confirmations GROUP BY status")
    )
    trades = dict(await monitor.fetch("SELECT status, count(*) FROM trades GROUP BY status"))
    warm = WARMUP * len(phases)
    return [
        Check(
            "database: confirmations matched",
            sum(p.generated["matched"] for p in phases) + warm,
            confirmations.get("matched", 0),
        ),
        Check(
            "database: confirmations unmatched",
            sum(p.generated["unmatched"] for p in phases),
            confirmations.get("unmatched", 0),
        ),
        Check(
            "database: confirmations alleged",
            sum(p.generated["alleged"] for p in phases),
            confirmations.get("alleged", 0),
        ),
        Check(
            "database: trades confirmed",
            sum(p.outcomes["matched"] for p in phases) + warm,
            trades.get("confirmed", 0),
        ),
        Check(
            "database: trades mismatched",
            sum(p.about_trade for p in phases),
            trades.get("mismatched", 0),
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(PROG, __doc__ or "", SIZES, bench, argv)


if __name__ == "__main__":
    raise SystemExit(main())
