"""Journal posting throughput (``app.positions.journal.post`` in process: no route posts arbitrary
entries) and as-of reads (GET /positions, /cash-balances on the ASGI app): a load of trade
bookings and settlements, reads at random days of it (the effective view, and as known at noon
that day), then entries of 2 or 6-8 postings on one
hot balance or spread, 1 or many a transaction, from concurrent writers.

    python -m bench.ledger [--full] [--postings N] [--days N] [--seconds S] [--entries 1 20]

Checks: zero-sum per asset and per entry, balances and daily rows = postings, GET /ledger/check.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bench.lib import cli
from bench.lib.data import API, add_weekdays, make_isin, make_lei, money
from bench.lib.db import BenchDatabase, connect
from bench.lib.measure import CpuMeter, SqlRecorder, WaitSampler, peak_rss_mib
from bench.lib.profile import profiled
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, render_table
from bench.lib.servers import in_process_app

PROG = "bench.ledger"
SIZES = (
    cli.Size("postings", 20_000, 1_000_000, "postings to load at least"),
    cli.Size("days", 20, 250, "weekdays the load spans"),
    cli.Size("load_writers", 2, 2, "writers of the load"),
    cli.Size("concurrency", 8, 8, "writers of each throughput phase"),
    cli.Size("seconds", 2.0, 10.0, "measured seconds per throughput phase"),
    cli.Size("entries", [1, 20], [1, 100], "entries per transaction, a phase each"),
    cli.Size("queries", 20, 200, "queries per kind of read"),
)
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK")
SECURITIES = tuple((make_isin(c[:2], i, "LG"), c) for i, c in enumerate(CURRENCIES * 500))
INDEX = {isin: i for i, (isin, _) in enumerate(SECURITIES)}
BOOKS = tuple(f"BK{i:04d}" for i in range(1, 41))
SAFEKEEPING = tuple(f"SK{i:04d}" for i in range(1, 101))
CASH = tuple(f"CK{i:04d}" for i in range(1, 101))
LEIS = tuple(make_lei(i) for i in range(1, 1_001))
MULTI = ((2, 2, 2), (2, 3, 2), (2, 4, 2))  # postings per asset: 6-8 postings over 3 assets
RETRYABLE = {"40P01", "40001"}  # deadlock, serialization failure
BALANCES_SQL = "SELECT ledger_account, asset FROM ledger_balances WHERE ledger_account LIKE '%:%'"
Lines = list[tuple[str, str, Decimal]]  # (ledger account, asset, amount)


class Journal:
    """``app.positions.journal.service.post`` as a request calls it: a session, the post, the
    commit. The one place a bench calls into the app below its HTTP API (see the README,
    Performance)."""

    def __init__(self, url: str, pool: int, key_id: str) -> None:
        from app.core.auth import Actor, Role
        from app.core.db import UnitOfWork, create_engine, create_sessionmaker
        from app.positions.journal import entries
        from app.positions.journal import service as journal

        self.url, self.engine = url, create_engine(url, pool_size=pool, max_overflow=0)
        self.sessions, self.unit_of_work = create_sessionmaker(self.engine), UnitOfWork
        self.actor = Actor(key_id=key_id, role=Role.OPERATIONS, name="bench ledger")
        self.entries, self.journal = entries, journal

    def entry(self, kind: str, value_date: date, lines: Lines) -> Any:
        made = tuple(self.entries.Line(*line) for line in lines)
        return self.entries.NewEntry(self.entries.EntryKind(kind), value_date, "bench", made)

    async def post(self, entries: Sequence[Any], now: datetime | None = None) -> float:
        """Seconds to the end of the commit; retried on deadlock or serialization failure."""
        started = time.perf_counter()
        for attempt in range(5):
            try:
                at = now or datetime.now(UTC)
                async with self.sessions() as session, self.unit_of_work(session):
                    await self.journal.post(session, entries, actor=self.actor, now=at)
                return time.perf_counter() - started
            except Exception as error:
                code = getattr(getattr(error, "orig", None), "sqlstate", None)
                if str(code) not in RETRYABLE or attempt == 4:
                    raise
        raise AssertionError("unreachable")


def exchange(sec: str, cash: str, party: str, isin: str, ccy: str, qty: Any, amount: Any) -> Lines:
    """``qty`` of ``isin`` into ``sec`` from ``party``, ``amount`` of ``ccy`` out of ``cash`` to
    it. A booking is one with the book on both sides (a buy: a negative ``qty``, a credit)."""
    return [(sec, isin, qty), (party, isin, -qty), (cash, ccy, -amount), (party, ccy, amount)]


@dataclass
class Phase:
    name: str
    entries: int = 0
    postings: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter = field(default_factory=CpuMeter)

    def measure(self) -> Measure:
        entries, postings = (fmt_int(n / self.cpu.wall) for n in (self.entries, self.postings))
        value = f"{entries} entries/s ({postings} postings/s)"
        return Measure.timed(self.name, value, self.latencies)

    def add(self, entries: Sequence[Any], seconds: float) -> None:
        self.latencies.append(seconds)
        self.entries += len(entries)
        self.postings += sum(len(entry.lines) for entry in entries)


async def load(journal: Journal, args: argparse.Namespace) -> tuple[Phase, list[date]]:
    """Each writer's trades of a day booked, and those of two business days before settled, in
    one transaction at 18:00 that day; writers on disjoint accounts, counterparties, ISINs."""
    days = [add_weekdays(datetime.now(UTC).date(), -n) for n in range(args.days, 0, -1)]
    per_day = max(1, math.ceil(args.postings / (4 * (2 * args.days - min(2, args.days)))))
    phase = Phase(f"(1) load: {args.load_writers} writers, a day a transaction")

    async def writer(w: int) -> None:
        rng, n, unsettled = random.Random(w), args.load_writers, dict[int, list[Any]]()
        books, sks, cks, leis, isins = (
            universe[w::n] for universe in (BOOKS, SAFEKEEPING, CASH, LEIS, SECURITIES)
        )
        for i, day in enumerate(days):
            trades = unsettled[i] = []
            for _ in range(per_day // n + (w < per_day % n)):
                (isin, ccy), sign = rng.choice(isins), rng.choice((1, -1))
                qty = Decimal(rng.randrange(1, 50) * 100)
                amount = money(qty * Decimal(rng.randrange(500, 50_000)).scaleb(-2))
                book, party = f"book:{rng.choice(books)}", f"counterparty:{rng.choice(leis)}"
                trades.append((book, party, isin, ccy, sign * qty, sign * amount))
            booked = [exchange(b, b, p, i_, c, -q, -a) for b, p, i_, c, q, a in trades]
            entries = [journal.entry("trade", day, lines) for lines in booked]
            for book, party, isin, ccy, qty, amount in unsettled.pop(i - 2, []):
                sk = f"securities:{sks[INDEX[isin] % len(sks)]}"
                ck = f"cash:{cks[(CURRENCIES.index(ccy) * 7 + int(book[-4:])) % len(cks)]}"
                lines = exchange(sk, ck, party, isin, ccy, qty, amount)
                entries.append(journal.entry("settlement", day, lines))
            evening = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
            phase.add(entries, await journal.post(entries, evening))

    phase.cpu.start()
    await asyncio.gather(*(writer(w) for w in range(args.load_writers)))
    phase.cpu.stop()
    return phase, days


READS = (
    ("positions, trade_date, one book", "/positions?basis=trade_date&book={book}"),
    ("positions, trade_date, one ISIN", "/positions?basis=trade_date&isin={isin}"),
    ("positions, trade_date, unfiltered", "/positions?basis=trade_date"),
    ("positions, settlement_date, one account", "/positions?basis=settlement_date&account={sk}"),
    ("cash balances, one cash account", "/cash-balances?account={ck}"),
    ("cash balances, one currency", "/cash-balances?currency={ccy}"),
)


async def reads(app: Any, days: list[date], queries: int, *, known: bool) -> list[Measure]:
    """Each read ``queries`` times after 5 unmeasured, as of random days of the load, a page of
    100, one after the other; with ``known``, as the book stood at noon of that day (the day's
    bookings, at 18:00, taken back, and everything booked after)."""
    rng, out = random.Random(3), []
    async with app.client("compliance") as api:
        for name, query in READS:
            latencies, rows = [], 0
            for n in range(5 + queries):
                (isin, ccy), book, ck = rng.choice(SECURITIES), rng.choice(BOOKS), rng.choice(CASH)
                path = query.format(
                    book=book, isin=isin, sk=rng.choice(SAFEKEEPING), ck=ck, ccy=ccy
                )
                day = rng.choice(days)
                moment = f"&known_at={day}T12:00:00Z" if known else ""
                started = time.perf_counter()
                response = await api.get(f"{API}{path}&as_of={day}{moment}&limit=100")
                response.raise_for_status()
                if n >= 5:
                    latencies.append(time.perf_counter() - started)
                    rows += len(response.json()["items"])
            rows_per = f"{rows / queries:,.1f} rows"
            label = f"(3) read {name}, known_at" if known else f"(2) read {name}"
            out.append(Measure.timed(label, rows_per, latencies))
    return out


def amounts(rng: random.Random, count: int, security: bool) -> list[Decimal]:
    """``count`` non-zero amounts summing to zero: whole units for securities, cents for cash."""
    units, scale = (10_000, Decimal(100)) if security else (10_000_000, Decimal("0.01"))
    values = [rng.randrange(1, units) * scale for _ in range(count - 1)]
    values = [value * rng.choice((1, -1)) for value in values]
    if sum(values) == 0:
        values[0] += 1
    return [*values, -sum(values, Decimal(0))]


async def throughput(
    journal: Journal,
    keys: dict[str, list[str]],
    hot: str,
    layouts: tuple[tuple[int, ...], ...],
    per_tx: int,
    args: argparse.Namespace,
) -> Phase:
    """``args.concurrency`` writers post ``per_tx`` entries a transaction for ``args.seconds``
    (two unmeasured transactions each first), from a pool of entries drawn beforehand; the
    first asset of each entry touches the ``hot`` USD balance when one is given."""
    rng, today = random.Random(per_tx), datetime.now(UTC).date()
    weighted = {
        n: [a for a, held in keys.items() for _ in held if len(held) >= n] for n in (2, 3, 4)
    }

    def draw() -> Any:
        lines: Lines = []
        for position, count in enumerate(rng.choice(layouts)):
            if position == 0 and hot:
                asset, others = "USD", [a for a in keys["USD"] if a != hot]
                chosen = [hot, *rng.sample(others, count - 1)]
            else:
                while (asset := rng.choice(weighted[count])) in {line[1] for line in lines}:
                    pass
                chosen = rng.sample(keys[asset], count)
            lines += zip(
                chosen, [asset] * count, amounts(rng, count, len(asset) == 12), strict=True
            )
        return journal.entry("adjustment", today, lines)

    pool = [draw() for _ in range(max(4_096, 4 * per_tx * args.concurrency))]
    shape = "2 postings" if layouts == ((2,),) else "6-8 postings/3 assets"
    where = "one hot balance" if hot else "spread"
    phase = Phase(f"(4) {shape}, {where}, {per_tx}/tx, {args.concurrency} writers")

    async def writer(w: int, seconds: float | None) -> None:
        picker, deadline = random.Random(w), time.perf_counter() + (seconds or 0)
        for count in range(10**9):
            if (seconds is None and count == 2) or (seconds and time.perf_counter() >= deadline):
                return
            start = picker.randrange(len(pool) - per_tx)
            elapsed = await journal.post(entries := pool[start : start + per_tx])
            if seconds:
                phase.add(entries, elapsed)

    await asyncio.gather(*(writer(w, None) for w in range(args.concurrency)))
    async with WaitSampler(journal.url) as waits:
        with SqlRecorder() as sql:
            phase.cpu.start()
            await asyncio.gather(*(writer(w, args.seconds) for w in range(args.concurrency)))
            phase.cpu.stop()
    transactions = max(len(phase.latencies), 1)
    statements = f"{sql.total.statements.total() / transactions:.1f} statements/tx"
    print(f"{phase.name}: {statements}, lock waits {waits.lock_share():.0f}%; {phase.cpu.line()}")
    if layouts == ((2,),) and hot and per_tx == 1:
        print(render_table([f"SQL of {phase.name}", "per tx", "ms"], sql.per(transactions)))
    return phase


CHECK_SQL = {
    "assets whose postings do not sum to zero": """SELECT count(*) FROM (SELECT asset
        FROM postings GROUP BY asset HAVING sum(amount) <> 0) off""",
    "entries that do not sum to zero per asset": """SELECT count(*) FROM (SELECT entry_id
        FROM postings GROUP BY entry_id, asset HAVING sum(amount) <> 0) off""",
    "running balances not equal to their postings": """SELECT count(*) FROM (
            SELECT ledger_account, asset, sum(posted) AS posted, sum(cost) AS cost
            FROM ledger_balances GROUP BY ledger_account, asset) b
        FULL JOIN (SELECT ledger_account, asset, sum(amount) AS posted,
                          sum(coalesce(cost, 0)) AS cost
                   FROM postings GROUP BY ledger_account, asset) p USING (ledger_account, asset)
        WHERE b.posted IS DISTINCT FROM coalesce(p.posted, 0)
           OR b.cost IS DISTINCT FROM coalesce(p.cost, 0)""",
    "latest daily rows not equal to the running balance (per stripe)": """SELECT count(*)
        FROM ledger_balances b
        JOIN ledger_balance_days d ON d.balance_id = b.id AND d.as_of_date = b.last_date
        WHERE (d.posted, d.pending, d.cost) IS DISTINCT FROM (b.posted, b.pending, b.cost)""",
}


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    monitor = await connect(db.url)
    pool = max(args.concurrency, args.load_writers) + 1
    journal = Journal(db.url, pool, db.key_ids["operations"])
    try:
        async with profiled(args.py_spy, "ledger-load"):
            loaded, days = await load(journal, args)
        print(f"{loaded.name}: {loaded.entries:,} entries, {loaded.postings:,} postings")
        await monitor.execute("ANALYZE")
        async with in_process_app(db) as app:
            measures = [replace(loaded.measure(), peak=fmt_mib(peak_rss_mib()))]
            measures += await reads(app, days, args.queries, known=False)
            measures += await reads(app, days, args.queries, known=True)
            keys: defaultdict[str, list[str]] = defaultdict(list)
            for account, asset in await monitor.fetch(BALANCES_SQL):
                keys[asset].append(account)
            hot = min(a for a in keys["USD"] if a.startswith("cash:"))
            phases = itertools.product((((2,),), MULTI), (hot, ""), args.entries)
            for layouts, where, per_tx in phases:
                async with profiled(args.py_spy, f"ledger-{len(layouts)}-{bool(where)}-{per_tx}"):
                    phase = await throughput(journal, keys, where, layouts, per_tx, args)
                measures.append(phase.measure())
            checks = [
                Check(name, 0, await monitor.fetchval(sql)) for name, sql in CHECK_SQL.items()
            ]
            async with app.client("compliance") as api:
                check = (await api.get(f"{API}/ledger/check")).json()
            checked = f"GET /ledger/check ({check.get('postings_checked', 0):,} postings)"
            checks.append(Check(checked, True, check.get("ok")))
    finally:
        await journal.engine.dispose()
        await monitor.close()
    return Result(PROG, "", measures, checks)


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
