"""Confirmation matching by economics against many captured trades (loaded by COPY): over HTTP to
uvicorn (a), and through the ASGI app in process one at a time (b1, with its SQL) and concurrently
(b2). ~93 % matched, ~5 % unmatched (half a lot more than a trade alone on its day: with several
same-day trades none of which fits, the app says alleged rather than guess), ~2 % alleged.

    python -m bench.confirmations [--full] [--trades N] [--confirmations N] [--concurrency N]

Checks: every outcome as generated, about the right trade; the database adds up.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from bench.lib import cli
from bench.lib.data import API, TRADE_COLUMNS, add_weekdays, amounts, fetch_all, trade_row
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import CpuMeter, SqlRecorder, WaitSampler, peak_rss_mib
from bench.lib.profile import profiled
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, render_table
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
WARMUP, UNMATCHED, ALLEGED = 64, 0.05, 0.02
THEIRS = {"buy": "sell", "sell": "buy"}


@dataclass(frozen=True)
class Trade:
    """A trade of ours (``id`` empty: one we do not have), and its counterparty's confirmation."""

    id: str
    isin: str
    currency: str
    venue: str
    bond: bool
    lei: str
    side: str
    quantity: Decimal
    price: Decimal
    day: date

    @property
    def lot(self) -> Decimal:
        return Decimal(1_000 if self.bond else 10)

    @property
    def settles(self) -> date:
        return add_weekdays(self.day, 1 if self.venue == "XNYS" else 2)

    def confirmation(self, cid: str, more: Decimal = Decimal(0)) -> dict[str, Any]:
        qty = self.quantity + more
        net = amounts(self.side, qty, self.price, bond=self.bond)[3]
        terms = {"isin": self.isin, "currency": self.currency, "side": THEIRS[self.side]}
        dates = {"trade_date": str(self.day), "settlement_date": str(self.settles)}
        money = {"quantity": str(qty), "price": str(self.price), "net_amount": str(net)}
        return {"confirmation_id": cid, "counterparty_lei": self.lei, **terms, **dates, **money}


@dataclass(frozen=True)
class Planned:
    kind: str  # what must come out
    body: dict[str, Any]
    trade_id: str | None  # the trade it is about (None: alleged)


class Universe:
    """The matched ones' trades on random keys of the window; the unmatched ones' each alone on
    its key, on the days before the window."""

    def __init__(self, instruments: list[dict[str, Any]], leis: list[str], days: int) -> None:
        self.instruments, self.leis, self.rng = instruments, leis, random.Random(20261124)
        self.days = sorted({add_weekdays(WINDOW_END, -n) for n in range(1, days + 1)})
        self.taken: defaultdict[tuple[str, str, date, str], set[int]] = defaultdict(set)
        self.rows: list[tuple[Any, ...]] = []

    def trade(self, i: dict[str, Any], lei: str, day: date, side: str, by: str | None) -> Trade:
        """A new trade (loaded when ``by`` is given): a quantity unused on its key."""
        bond, used = i["type"] == "bond", self.taken[(lei, i["isin"], day, side)]
        while (step := self.rng.randint(10 if bond else 1, 10_000)) in used:
            pass
        used.add(step)
        tick = Decimal("0.001" if bond else "0.01")
        price = 100 + tick * self.rng.randint(-200, 200)
        qty = Decimal(1_000 if bond else 10) * step
        trade = Trade("", i["isin"], i["currency"], i["mic"], bond, lei, side, qty, price, day)
        if by is None:
            return trade
        terms = (lei, i["isin"], side, qty, price, i["currency"], day, i["mic"], trade.settles)
        book, external_id = "FI-RATES" if bond else "EQ-FLOW", f"FO-{len(self.rows):08d}"
        self.rows.append(trade_row(external_id, book, *terms, "captured", by, bond=bond))
        return replace(trade, id=self.rows[-1][0])

    def random(self, day: date | None = None, by: str | None = None) -> Trade:
        rng = self.rng
        side, lei = rng.choice(("buy", "sell")), rng.choice(self.leis)
        return self.trade(rng.choice(self.instruments), lei, day or rng.choice(self.days), side, by)

    def lonely(self, count: int, by: str) -> list[Trade]:
        keys = [(i, lei, s) for i in self.instruments for lei in self.leis for s in ("buy", "sell")]
        out = []
        for n in range(count):
            instrument, lei, side = keys[n % len(keys)]
            day = add_weekdays(self.days[0], -1 - n // len(keys))
            out.append(self.trade(instrument, lei, day, side, by))
        return out

    def phase(
        self, trades: Iterator[Trade], lonely: Iterator[Trade], count: int, tag: str
    ) -> tuple[list[Planned], list[Planned]]:
        """(warm-up, measured) confirmations of one phase, shuffled."""
        unmatched, alleged = round(count * UNMATCHED), round(count * ALLEGED)

        def matched(cid: str) -> Planned:
            return Planned("matched", (t := next(trades)).confirmation(cid), t.id)

        plans = [matched(f"{tag}-{n}") for n in range(count - unmatched - alleged)]
        for n in range(unmatched):  # half a lot more: no trade of ours has that quantity
            t = next(lonely)
            plans.append(Planned("unmatched", t.confirmation(f"{tag}-Q{n}", t.lot / 2), t.id))
        for n in range(alleged):
            plans.append(
                Planned("alleged", self.random(WINDOW_END).confirmation(f"{tag}-A{n}"), None)
            )
        self.rng.shuffle(plans)
        return [matched(f"{tag}-W{n}") for n in range(WARMUP)], plans


@dataclass
class Phase:
    name: str
    generated: Counter[str]
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong: int = 0
    about_trade: int = 0  # unmatched outcomes that moved their trade to mismatched
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter = field(default_factory=CpuMeter)
    peak: float | None = None

    def measure(self) -> Measure:
        rate, matched = (
            fmt_int(n / self.cpu.wall) for n in (self.outcomes.total(), self.outcomes["matched"])
        )
        value, peak = f"{rate}/s ({matched} matched/s)", fmt_mib(self.peak)
        return Measure.timed(self.name, value, self.latencies, peak=peak)

    def checks(self) -> list[Check]:
        code, kinds = self.name.split(" ", 1)[0], self.generated
        out = [Check(f"{code} {kind}", kinds[kind], self.outcomes[kind]) for kind in kinds]
        return [*out, Check(f"{code} outcomes not as generated (status, trade)", 0, self.wrong)]


def as_expected(p: Planned, answer: dict[str, Any]) -> bool:
    status, trade_id = answer.get("status"), answer.get("trade_id")
    if p.kind == "alleged":
        return status == "alleged" and trade_id is None and not answer["candidates"]
    return bool(status == p.kind and trade_id == p.trade_id)


Plan = tuple[list[Planned], list[Planned]]  # warm-up, measured


async def drive(
    phase: Phase, plan: Plan, clients: Sequence[httpx.AsyncClient], pids: Sequence[int], url: str
) -> None:
    async def worker(api: httpx.AsyncClient, items: Iterator[Planned], record: bool) -> None:
        for p in items:
            started = time.perf_counter()
            response = await api.post(f"{API}/confirmations", json=p.body)
            elapsed, answer = time.perf_counter() - started, response.json()
            good = response.status_code == 201 and as_expected(p, answer)
            if not record and not good:
                raise RuntimeError(f"{phase.name}: warm-up: {response.text[:300]}")
            if record:
                phase.latencies.append(elapsed)
                phase.outcomes[answer.get("status", str(response.status_code))] += 1
                phase.about_trade += answer.get("status") == "unmatched" and bool(
                    answer["trade_id"]
                )
                phase.wrong += not good

    warm, measured = iter(plan[0]), iter(plan[1])
    await asyncio.gather(*(worker(api, warm, False) for api in clients))
    phase.cpu = CpuMeter(pids)
    async with WaitSampler(url) as waits:
        phase.cpu.start()
        await asyncio.gather(*(worker(api, measured, True) for api in clients))
        phase.cpu.stop()
    print(f"{phase.name}: {phase.cpu.line()}; {waits.line()}")


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    async with in_process_app(db) as app, app.client("gateway") as api:
        leis = [c["lei"] for c in await fetch_all(api, "/counterparties")]
        universe = Universe(await fetch_all(api, "/instruments"), leis, args.days)
    if 3 * (args.confirmations + WARMUP) > args.trades:
        raise SystemExit(f"3 phases of {args.confirmations:,} need more --trades")
    by, started = db.key_ids["trader"], time.perf_counter()
    trades = iter([universe.random(by=by) for _ in range(args.trades)])
    lonely = iter(universe.lonely(3 * round(args.confirmations * UNMATCHED), by))
    monitor = await connect(db.url)
    await copy_rows(monitor, "trades", TRADE_COLUMNS, universe.rows)
    await monitor.execute("ANALYZE trades")
    print(f"load: {len(universe.rows):,} trades in {time.perf_counter() - started:.1f} s")
    plans = [universe.phase(trades, lonely, args.confirmations, f"CP{code}") for code in "HPC"]
    names = [f"(a) HTTP POST /confirmations, {args.concurrency} clients", "(b1) in process (ASGI)"]
    names.append(f"(b2) in process (ASGI), {args.concurrency} at a time")
    phases = [
        Phase(n, Counter(p.kind for p in plan[1])) for n, plan in zip(names, plans, strict=True)
    ]
    async with running_servers(args.servers, db.url) as servers:
        urls = [servers[i % len(servers)].base_url for i in range(args.concurrency)]
        clients = [client(url, db.headers("gateway")) for url in urls]
        async with profiled(args.py_spy, "confirmations-http", servers[0].pid):
            await drive(phases[0], plans[0], clients, [s.pid for s in servers], db.url)
        await asyncio.gather(*(c.aclose() for c in clients))
        for server in servers:
            server.sample()
        phases[0].peak = max(s.peak_mib or 0.0 for s in servers)
    for phase, plan, workers in zip(phases[1:], plans[1:], (1, args.concurrency), strict=True):
        async with in_process_app(db, pool_size=workers) as app:
            with SqlRecorder() as sql:
                async with profiled(args.py_spy, f"confirmations-inproc-{workers}"):
                    clients = [app.client("gateway") for _ in range(workers)]
                    await drive(phase, plan, clients, [], db.url)
        phase.peak = peak_rss_mib()
        if workers == 1:
            headers = ["SQL per confirmation, (b1)", "statements", "ms"]
            print(render_table(headers, sql.per(phase.outcomes.total())))
    count = "SELECT status, count(*) FROM {} GROUP BY status"
    confirmations = dict(await monitor.fetch(count.format("confirmations")))
    statuses = dict(await monitor.fetch(count.format("trades")))
    await monitor.close()
    generated = sum((p.generated for p in phases), Counter({"matched": WARMUP * len(phases)}))
    matched = sum(p.outcomes["matched"] for p in phases) + WARMUP * len(phases)
    checks = [c for p in phases for c in p.checks()]
    for kind, want in generated.items():
        checks.append(Check(f"database: confirmations {kind}", want, confirmations.get(kind, 0)))
    mismatched = sum(p.about_trade for p in phases)
    checks.append(Check("database: trades confirmed", matched, statuses.get("confirmed", 0)))
    checks.append(Check("database: trades mismatched", mismatched, statuses.get("mismatched", 0)))
    return Result(PROG, "", [p.measure() for p in phases], checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
