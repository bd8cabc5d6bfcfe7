"""Journal posting throughput and as-of position queries, in process, against PostgreSQL.

    python -m bench.ledger [--postings 1000000] [--days 250] [--concurrency 8] [--seconds 10]
                           [--entries 1 100] [--queries 200] [--quick] [--sqlite]

Everything goes through the real service code in this process:
``app.positions.journal.service.post`` for every write, each transaction one session committed
through ``UnitOfWork`` as the app does, and ``app.positions.balances.service.positions`` /
``cash_balances`` for the reads. One run prints, as tables:

(1) the load: a journal of at least ``--postings`` postings over ``--days`` business days
    ending yesterday (UTC): trade-date bookings (``trade_lines``, cost and realised P&L from
    ``trade_effect`` as the trade service prices them) and their settlements two business
    days later (``settlement_lines``), four postings each, posted day by day with ``now`` =
    that day 18:00 UTC, one transaction per day and writer (at most ``--load-batch``
    entries), by ``--load-writers`` writers on disjoint books, counterparties and ISINs
    -> entries/s, postings/s;
(2) as-of reads on that journal, one session per query as a request has: positions on the
    trade-date basis (one book; one ISIN; the first page unfiltered), on the settlement-date
    basis (one safekeeping account), cash balances (one cash account; one currency), a page
    of 100, each at a random accounting date of the load, ``--queries`` of each (fewer when
    they take over ``--read-seconds``) -> p50/p99 latency;
(3) posting throughput with ``--concurrency`` writers (asyncio tasks, a session each, ``now``
    = the current time): entries of two postings and of 6-8 postings over 3 assets, either
    all touching one hot (ledger account, asset) -- ``cash:CK0001`` USD -- or spread over the
    balances the load created, ``--entries`` entries per transaction -> entries/s,
    postings/s, p50/p99 per transaction, with what PostgreSQL's connections were doing and
    the statements each transaction sent;
(4) checks: every asset sums to zero over the journal, every running balance equals the sum
    of its postings (SQL on PostgreSQL; ``app.positions.ledger_check.service.check_ledger`` on
    SQLite or with ``--check``);
(5) this process's peak RSS (``getrusage``) after each stage.

The database (``--database``) is created afresh (migrated, demo reference data) and dropped at
the end unless ``--keep-database``; ``--sqlite`` runs the same on a temporary SQLite file.
No reference rows are needed: ledger accounts are created on first use by the journal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import platform
import random
import shlex
import sys
import tempfile
import time as clock
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stdnum import isin as isin_code
from stdnum.iso7064 import mod_97_10

from app.core.auth import Actor, Role
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.money import round_money
from app.core.pagination import PageRequest
from app.positions.balances import service
from app.positions.balances.models import LedgerBalance, LedgerBalanceDay
from app.positions.bookings.lines import (
    Direction,
    SettlementMovement,
    TradeEconomics,
    settlement_lines,
    trade_lines,
)
from app.positions.bookings.service import SETTLEMENT_SOURCE, TRADE_SOURCE
from app.positions.costing import Holding, trade_effect
from app.positions.journal import service as journal
from app.positions.journal.entries import ZERO, EntryKind, Line, NewEntry
from app.positions.journal.models import JournalEntry, Posting
from app.positions.ledger_accounts import codes as accounts
from app.positions.ledger_accounts.models import LedgerAccount
from app.positions.ledger_check.service import check_ledger
from bench.common import (
    DEFAULT_PG_URL,
    BenchDatabase,
    CpuMeter,
    check_limits,
    connect_kwargs,
    drop_database,
    fmt_int,
    fmt_ms,
    fmt_pct,
    migrate_async,
    percentile,
    prepare_database,
    render_table,
    seed,
)
from bench.confirmations import (
    MONITOR_APP,
    Profiler,
    StatementCounter,
    WaitSampler,
    profile_tables,
)
from bench.run_metrics import load_average, peak_rss_mib

PROG = "bench.ledger"
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK")
_COUNTRY = {
    "USD": "US",
    "EUR": "DE",
    "GBP": "GB",
    "JPY": "JP",
    "CHF": "CH",
    "CAD": "CA",
    "AUD": "AU",
    "SEK": "SE",
    "NOK": "NO",
    "DKK": "DK",
}
BOOKS, SAFEKEEPING, CASH_ACCOUNTS, COUNTERPARTIES, ISINS = 40, 100, 100, 1_000, 5_000
SETTLEMENT_LAG = 2  # business days from trade date to settlement
LOAD_TIME = time(18, 0, tzinfo=UTC)  # ``now`` of each load day
HOT = (accounts.cash("CK0001"), "USD")
HOT_FUNDING = Decimal("1000000000.00")
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure
MAX_ATTEMPTS = 5
WARMUP_TRANSACTIONS = 2  # per writer, before each measured phase
POOL_MIN = 4_096  # pre-built entries per phase; transactions take consecutive runs of them
MULTI_LAYOUTS: tuple[tuple[int, ...], ...] = ((2, 2, 2), (2, 3, 2), (2, 4, 2))  # 6-8 postings
PAGE = PageRequest(limit=100)

DEFAULTS: dict[str, Any] = {
    "postings": 1_000_000,
    "days": 250,
    "seconds": 10.0,
    "queries": 200,
    "entries": [1, 100],
}
QUICK: dict[str, Any] = {
    "postings": 20_000,
    "days": 20,
    "seconds": 2.0,
    "queries": 20,
    "entries": [1, 20],
}

# --- The universe of books, accounts, counterparties and securities ---------------------------


@dataclass(frozen=True)
class Security:
    index: int
    isin: str
    currency: str


def _isin(n: int, currency: str) -> str:
    base = f"{_COUNTRY[currency]}{n:09d}"
    return base + isin_code.calc_check_digit(base)


def _lei(n: int) -> str:
    base = f"5493BENCH{n:09d}"  # 18 characters: the LOU prefix, then the entity part
    return base + mod_97_10.calc_check_digits(base)


SECURITIES: tuple[Security, ...] = tuple(
    Security(i, _isin(i + 1, CURRENCIES[i % len(CURRENCIES)]), CURRENCIES[i % len(CURRENCIES)])
    for i in range(ISINS)
)
BOOK_CODES = tuple(f"BK{i + 1:04d}" for i in range(BOOKS))
SAFEKEEPING_CODES = tuple(f"SK{i + 1:04d}" for i in range(SAFEKEEPING))
CASH_CODES = tuple(f"CK{i + 1:04d}" for i in range(CASH_ACCOUNTS))
LEIS = tuple(_lei(i + 1) for i in range(COUNTERPARTIES))


@dataclass(frozen=True)
class Partition:
    """What one load writer trades: every w-th book, counterparty and ISIN, so no two writers
    ever touch the same balance (no lock waits, no back-dated daily rows between them)."""

    books: tuple[str, ...]
    safekeeping: tuple[str, ...]
    cash: tuple[str, ...]
    counterparties: tuple[str, ...]
    securities: tuple[Security, ...]

    @staticmethod
    def of(writer: int, writers: int) -> Partition:
        return Partition(
            BOOK_CODES[writer::writers],
            SAFEKEEPING_CODES[writer::writers],
            CASH_CODES[writer::writers],
            LEIS[writer::writers],
            SECURITIES[writer::writers],
        )


def business_days(last: date, count: int) -> list[date]:
    """``count`` weekdays ending on or before ``last``, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


# --- (1) The load -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadTrade:
    economics: TradeEconomics
    safekeeping: str
    cash: str


class LoadWriter:
    """Draws one writer's trades day by day and settles each two business days later; prices
    each booking as the trade service does (``trade_effect`` on the position it holds)."""

    def __init__(self, partition: Partition, rng: random.Random, writer: int) -> None:
        self.partition, self.rng, self.writer = partition, rng, writer
        self.holdings: dict[tuple[str, str], Holding] = defaultdict(Holding)
        self.unsettled: dict[int, list[LoadTrade]] = {}
        self.count = 0

    def _trade(self, day: date) -> LoadTrade:
        part, rng = self.partition, self.rng
        self.count += 1
        book_index = rng.randrange(len(part.books))
        security = rng.choice(part.securities)
        quantity = Decimal(rng.randrange(1, 50) * 100)
        price = Decimal(rng.randrange(500, 50_000)).scaleb(-2)
        gross = round_money(quantity * price, security.currency)
        economics = TradeEconomics(
            trade_id=f"LT{self.writer}-{self.count:08d}",
            book=part.books[book_index],
            counterparty_lei=rng.choice(part.counterparties),
            isin=security.isin,
            side=rng.choice(("buy", "sell")),
            quantity=quantity,
            currency=security.currency,
            trade_date=day,
            gross_amount=gross,
            commission=Decimal(0),  # fixed accounts (commission, fees) would be one hot
            fees=Decimal(0),  # balance per currency shared by every writer: left out
            accrued_interest=None,
            net_amount=gross,
        )
        currency_index = CURRENCIES.index(security.currency)
        return LoadTrade(
            economics,
            safekeeping=part.safekeeping[security.index % len(part.safekeeping)],
            cash=part.cash[(currency_index * 7 + book_index) % len(part.cash)],
        )

    def _booking(self, trade: LoadTrade) -> NewEntry:
        economics = trade.economics
        key = (accounts.book(economics.book), economics.isin)
        effect = trade_effect(
            self.holdings[key],
            quantity=economics.signed_quantity,
            principal=economics.gross_amount,
            currency=economics.currency,
        )
        self.holdings[key] = self.holdings[key] + effect
        lines = tuple(
            replace(line, cost=effect.cost, realized_pnl=effect.realized_pnl)
            if (line.ledger_account, line.asset) == key
            else line
            for line in trade_lines(economics)
        )
        return NewEntry(
            kind=EntryKind.TRADE,
            value_date=economics.trade_date,
            description=f"{economics.side} {economics.quantity} {economics.isin}",
            lines=lines,
            source_type=TRADE_SOURCE,
            source_id=economics.trade_id,
        )

    @staticmethod
    def _settlement(trade: LoadTrade, day: date) -> NewEntry:
        economics = trade.economics
        movement = SettlementMovement(
            reference=economics.trade_id,
            counterparty=economics.counterparty_lei,
            direction=Direction.RECEIVE if economics.side == "buy" else Direction.DELIVER,
            isin=economics.isin,
            quantity=economics.quantity,
            currency=economics.currency,
            amount=economics.net_amount,
            securities_account=trade.safekeeping,
            cash_account=trade.cash,
            settlement_date=day,
        )
        return NewEntry(
            kind=EntryKind.SETTLEMENT,
            value_date=day,
            description=f"Settlement of {economics.trade_id}",
            lines=settlement_lines(movement),
            source_type=SETTLEMENT_SOURCE,
            source_id=economics.trade_id,
        )

    def day(self, index: int, day: date, trades: int) -> list[NewEntry]:
        """The day's bookings, then the settlements of the trades of ``SETTLEMENT_LAG`` business
        days before."""
        drawn = [self._trade(day) for _ in range(trades)]
        self.unsettled[index] = drawn
        entries = [self._booking(trade) for trade in drawn]
        due = self.unsettled.pop(index - SETTLEMENT_LAG, [])
        entries.extend(self._settlement(trade, day) for trade in due)
        return entries


@dataclass
class Load:
    days: list[date]
    writers: int
    trades_per_day: int
    transactions: int = 0
    entries: int = 0
    postings: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter | None = None

    @property
    def wall(self) -> float:
        return self.cpu.wall if self.cpu else 0.0


def trades_per_day(postings: int, days: int) -> int:
    """Trades a day so that bookings and settlements (4 postings each) reach ``postings``."""
    entries_per_trade = 2 * days - min(SETTLEMENT_LAG, days)
    return max(1, math.ceil(postings / (4 * entries_per_trade)))


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def post_entries(
    sessionmaker: async_sessionmaker[AsyncSession],
    entries: Sequence[NewEntry],
    *,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[float, float, int]:
    """Post ``entries`` in one transaction, as a request would: a session, ``journal.post``,
    commit. Retried on deadlock or serialization failure. Returns (seconds to the commit,
    seconds of the commit, retries)."""
    started = clock.perf_counter()
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with sessionmaker() as session, UnitOfWork(session):
                await journal.post(session, entries, actor=actor, now=now or datetime.now(UTC))
                posted = clock.perf_counter()
            return posted - started, clock.perf_counter() - posted, attempt
        except DBAPIError as error:
            if _sqlstate(error) not in RETRYABLE or attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _sqlstate(error: DBAPIError) -> str | None:
    original = error.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return str(code) if code is not None else None


async def load_journal(
    sessionmaker: async_sessionmaker[AsyncSession],
    meter: CpuMeter,
    *,
    days: list[date],
    postings: int,
    writers: int,
    batch: int,
    seed_value: int,
    actor: Actor,
) -> Load:
    per_day = trades_per_day(postings, len(days))
    load = Load(days, writers, per_day)
    shares = _split(per_day, writers)
    progress_every = max(1, len(days) // 5)

    async def writer(index: int) -> None:
        source = LoadWriter(Partition.of(index, writers), random.Random(seed_value + index), index)
        for day_index, day in enumerate(days):
            entries = source.day(day_index, day, shares[index])
            now = datetime.combine(day, LOAD_TIME)
            for start in range(0, len(entries), batch):
                chunk = entries[start : start + batch]
                posted, committed, _ = await post_entries(sessionmaker, chunk, actor=actor, now=now)
                load.latencies.append(posted + committed)
                load.transactions += 1
                load.entries += len(chunk)
                load.postings += sum(len(entry.lines) for entry in chunk)
            if index == 0 and (day_index + 1) % progress_every == 0:
                print(
                    f"  load: {day} ({day_index + 1}/{len(days)} days), {load.postings:,} postings",
                    file=sys.stderr,
                )

    await meter.start()
    await asyncio.gather(*(writer(i) for i in range(writers)))
    await meter.stop()
    load.cpu = meter
    return load


# --- (2) As-of reads --------------------------------------------------------------------------

Read = Callable[[AsyncSession, random.Random, date], Awaitable[int]]


async def _book_positions(session: AsyncSession, rng: random.Random, as_of: date) -> int:
    rows, _ = await service.positions(
        session, basis="trade_date", as_of=as_of, page=PAGE, book=rng.choice(BOOK_CODES)
    )
    return len(rows)


async def _isin_positions(session: AsyncSession, rng: random.Random, as_of: date) -> int:
    rows, _ = await service.positions(
        session, basis="trade_date", as_of=as_of, page=PAGE, isin=rng.choice(SECURITIES).isin
    )
    return len(rows)


async def _all_positions(session: AsyncSession, rng: random.Random, as_of: date) -> int:
    rows, _ = await service.positions(session, basis="trade_date", as_of=as_of, page=PAGE)
    return len(rows)


async def _account_positions(session: AsyncSession, rng: random.Random, as_of: date) -> int:
    rows, _ = await service.positions(
        session,
        basis="settlement_date",
        as_of=as_of,
        page=PAGE,
        account=rng.choice(SAFEKEEPING_CODES),
    )
    return len(rows)


async def _account_cash(session: AsyncSession, rng: random.Random, as_of: date) -> int:
    rows, _ = await service.cash_balances(
        session, as_of=as_of, page=PAGE, account=rng.choice(CASH_CODES)
    )
    return len(rows)


async def _currency_cash(session: AsyncSession, rng: random.Random, as_of: date) -> int:
    rows, _ = await service.cash_balances(
        session, as_of=as_of, page=PAGE, currency=rng.choice(CURRENCIES)
    )
    return len(rows)


READS: tuple[tuple[str, Read], ...] = (
    ("positions trade_date, one book", _book_positions),
    ("positions trade_date, one ISIN", _isin_positions),
    ("positions trade_date, no filter", _all_positions),
    ("positions settlement_date, one account", _account_positions),
    ("cash_balances, one cash account", _account_cash),
    ("cash_balances, one currency", _currency_cash),
)


@dataclass
class ReadResult:
    name: str
    latencies: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    def row(self) -> list[str]:
        return [
            self.name,
            fmt_int(len(self.latencies)),
            f"{sum(self.rows) / len(self.rows):,.1f}" if self.rows else "-",
            fmt_ms(percentile(self.latencies, 50)),
            fmt_ms(percentile(self.latencies, 99)),
            fmt_ms(max(self.latencies)) if self.latencies else "-",
        ]


async def measure_reads(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    days: Sequence[date],
    queries: int,
    budget: float,
    seed_value: int,
) -> list[ReadResult]:
    """Each read ``queries`` times (fewer if that takes over ``budget`` seconds) after 5
    unmeasured ones, one after the other, one session each (checkout, the query, the
    instruments lookup, close), at random accounting dates."""
    rng = random.Random(seed_value)
    results = []
    for name, read in READS:
        result = ReadResult(name)
        deadline = clock.perf_counter() + budget
        for n in range(5 + queries):
            if n > 5 and clock.perf_counter() > deadline:
                break
            as_of = rng.choice(days)
            started = clock.perf_counter()
            async with sessionmaker() as session:
                rows = await read(session, rng, as_of)
            if n >= 5:
                result.latencies.append(clock.perf_counter() - started)
                result.rows.append(rows)
        results.append(result)
    return results


# --- (3) Posting throughput -------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    layouts: tuple[tuple[int, ...], ...]  # postings per asset, one layout drawn per entry
    hot: bool
    entries: int  # per transaction

    @property
    def shape(self) -> str:
        sizes = sorted({sum(layout) for layout in self.layouts})
        postings = str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
        assets = len(self.layouts[0])
        return f"{postings} postings/{assets} asset{'s' if assets > 1 else ''}"

    @property
    def name(self) -> str:
        where = "one hot account" if self.hot else "spread"
        return f"{self.shape}, {where}, {self.entries}/tx"

    @property
    def code(self) -> str:
        postings = "2p" if len(self.layouts) == 1 and sum(self.layouts[0]) == 2 else "multi"
        return f"{postings}/{'hot' if self.hot else 'spread'}/{self.entries}"


class Keys:
    """The (ledger account, asset) balances the load created, to draw spread entries from."""

    def __init__(self, rows: Sequence[tuple[str, str]]) -> None:
        self.accounts: dict[str, list[str]] = defaultdict(list)
        for account, asset in rows:
            if ":" in account:  # ours, not the fixed accounts
                self.accounts[asset].append(account)
        # Assets drawn in proportion to their balances, among those with enough accounts.
        self.weighted = {
            n: [asset for asset, held in self.accounts.items() for _ in held if len(held) >= n]
            for n in range(2, 1 + max(max(layout) for layout in MULTI_LAYOUTS))
        }
        self.balances = sum(len(held) for held in self.accounts.values())


def _amounts(rng: random.Random, count: int, security: bool) -> list[Decimal]:
    """``count`` non-zero amounts summing to zero: whole units for securities, cents for cash."""
    values = [
        Decimal(rng.randrange(1, 10_000) * 100)
        if security
        else Decimal(rng.randrange(1, 10_000_000)).scaleb(-2)
        for _ in range(count - 1)
    ]
    values = [value if rng.random() < 0.5 else -value for value in values]
    if sum(values, ZERO) == 0:
        values[0] += 1
    return [*values, -sum(values, ZERO)]


def draw_entry(rng: random.Random, keys: Keys, spec: Spec, today: date) -> NewEntry:
    layout = rng.choice(spec.layouts)
    assets: list[str] = []
    lines: list[Line] = []
    for position, count in enumerate(layout):
        if position == 0 and spec.hot:
            hot_account, asset = HOT
            others = [a for a in keys.accounts[asset] if a != hot_account]
            chosen = [hot_account, *rng.sample(others, count - 1)]
        else:
            asset = rng.choice(keys.weighted[count])
            while asset in assets:
                asset = rng.choice(keys.weighted[count])
            chosen = rng.sample(keys.accounts[asset], count)
        assets.append(asset)
        amounts = _amounts(rng, count, accounts.is_security(asset))
        lines.extend(Line(a, asset, amount) for a, amount in zip(chosen, amounts, strict=True))
    return NewEntry(
        kind=EntryKind.ADJUSTMENT,
        value_date=today,
        description="Bench ledger entry",
        lines=tuple(lines),
    )


@dataclass
class Phase:
    spec: Spec
    writers: int
    transactions: int = 0
    entries: int = 0
    postings: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    commits: list[float] = field(default_factory=list)
    cpu: CpuMeter | None = None
    waits: WaitSampler | None = None
    statements: Counter[str] = field(default_factory=Counter)

    @property
    def wall(self) -> float:
        return self.cpu.wall if self.cpu else 0.0

    def rate(self, count: int) -> str:
        return fmt_int(count / self.wall) if self.wall else "-"

    def lock_share(self) -> str:
        if self.waits is None:
            return "-"
        total = sum(self.waits.samples.values())
        locked = sum(n for state, n in self.waits.samples.items() if "lock" in state)
        return fmt_pct(100 * locked / total) if total else "-"

    def row(self) -> list[str]:
        cpu = self.cpu
        return [
            self.spec.name,
            fmt_int(self.transactions),
            f"{self.wall:,.1f}",
            self.rate(self.entries),
            self.rate(self.postings),
            self.rate(self.transactions),
            fmt_ms(percentile(self.latencies, 50)),
            fmt_ms(percentile(self.latencies, 99)),
            fmt_ms(percentile(self.commits, 50)),
            fmt_int(self.retries),
            self.lock_share(),
            fmt_pct(cpu.postgres_pct) if cpu and cpu.postgres_pct is not None else "-",
            fmt_pct(cpu.client_pct) if cpu else "-",
            other_cpu(cpu),
        ]


def other_cpu(cpu: CpuMeter | None) -> str:
    """Busy CPU of the host used neither by this process nor by the database's backends
    (PostgreSQL's WAL writer and checkpointer, the kernel, anything else running), in % of one
    core: high means a noisy neighbour, and the figures are not clean."""
    if cpu is None or cpu.postgres_pct is None:
        return "-"
    used = cpu.postgres_pct + cpu.client_pct
    return fmt_pct(max(0.0, cpu.host_pct * (os.cpu_count() or 1) - used))


PHASE_HEADERS = [
    "phase (entry shape, accounts, entries/transaction)",
    "tx",
    "wall s",
    "entries/s",
    "postings/s",
    "tx/s",
    "p50 ms",
    "p99 ms",
    "commit p50",
    "retries",
    "lock waits",
    "postgres CPU",
    "bench CPU",
    "other CPU",
]


def specs(batches: Sequence[int]) -> list[Spec]:
    return [
        Spec(layouts, hot, entries)
        for layouts in (((2,),), MULTI_LAYOUTS)
        for hot in (True, False)
        for entries in batches
    ]


async def throughput_phase(
    spec: Spec,
    engine: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: Keys,
    *,
    writers: int,
    seconds: float,
    seed_value: int,
    actor: Actor,
    monitor: asyncpg.Connection | None,
    db: BenchDatabase,
) -> Phase:
    """``writers`` tasks post ``spec.entries`` entries a transaction for ``seconds`` (after
    ``WARMUP_TRANSACTIONS`` each, unmeasured); entries come from a pool built beforehand."""
    rng = random.Random(seed_value)
    today = datetime.now(UTC).date()
    size = max(POOL_MIN, 4 * spec.entries * writers)
    pool = [draw_entry(rng, keys, spec, today) for _ in range(size)]
    phase = Phase(spec, writers)

    def batches(worker: int) -> Iterator[list[NewEntry]]:
        picker = random.Random(seed_value * 1000 + worker)
        while True:
            start = picker.randrange(size)
            run = pool[start : start + spec.entries]
            yield run + pool[: spec.entries - len(run)]

    async def writer(worker: int, deadline: float | None) -> None:
        for count, entries in enumerate(batches(worker)):
            if deadline is None and count >= WARMUP_TRANSACTIONS:
                return
            if deadline is not None and clock.perf_counter() >= deadline:
                return
            posted, committed, retries = await post_entries(sessionmaker, entries, actor=actor)
            if deadline is None:
                continue
            phase.transactions += 1
            phase.entries += len(entries)
            phase.postings += sum(len(entry.lines) for entry in entries)
            phase.retries += retries
            phase.latencies.append(posted + committed)
            phase.commits.append(committed)

    await asyncio.gather(*(writer(i, None) for i in range(writers)))
    counter = StatementCounter()
    meter = CpuMeter([], monitor, db.name if monitor is not None else None)
    waits = WaitSampler(db.url, db.name) if monitor is not None else None
    if waits is not None:
        await waits.start()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    await meter.start()
    deadline = clock.perf_counter() + seconds
    try:
        await asyncio.gather(*(writer(i, deadline) for i in range(writers)))
    finally:
        await meter.stop()
        event.remove(engine.sync_engine, "before_cursor_execute", counter)
        if waits is not None:
            await waits.stop()
    phase.cpu, phase.waits, phase.statements = meter, waits, counter.counts
    return phase


# --- (4) Checks -------------------------------------------------------------------------------


async def sql_checks(monitor: asyncpg.Connection) -> list[list[str]]:
    """On PostgreSQL, in SQL: the journal sums to zero per asset, every entry does, and every
    running balance equals the sum of its postings."""
    checks = [
        (
            "assets whose postings do not sum to zero",
            "SELECT count(*) FROM (SELECT asset FROM postings GROUP BY asset "
            "HAVING sum(amount) <> 0) off",
        ),
        (
            "entries that do not sum to zero per asset",
            "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id, asset "
            "HAVING sum(amount) <> 0) off",
        ),
        (
            "running balances not equal to their postings",
            "SELECT count(*) FROM ledger_balances b FULL JOIN (SELECT ledger_account, asset, "
            "sum(amount) AS posted, sum(coalesce(cost, 0)) AS cost FROM postings "
            "GROUP BY ledger_account, asset) p USING (ledger_account, asset) "
            "WHERE b.posted IS DISTINCT FROM coalesce(p.posted, 0) "
            "OR b.cost IS DISTINCT FROM coalesce(p.cost, 0)",
        ),
        (
            "latest daily rows not equal to the running balance",
            "SELECT count(*) FROM ledger_balances b JOIN ledger_balance_days d "
            "ON d.balance_id = b.id AND d.as_of_date = b.last_date "
            "WHERE (d.posted, d.pending, d.cost) IS DISTINCT FROM (b.posted, b.pending, b.cost)",
        ),
    ]
    rows = []
    for name, sql in checks:
        started = clock.perf_counter()
        found: int = await monitor.fetchval(sql)
        rows.append(
            [name, "0", fmt_int(found), _ok(found == 0), f"{clock.perf_counter() - started:.1f}"]
        )
    return rows


async def app_check(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    started = clock.perf_counter()
    async with sessionmaker() as session:
        report = await check_ledger(session)
    detail = f"{report.entries_checked:,} entries, {report.balances_checked:,} balances"
    problems = len(report.problems)
    return [
        f"app.positions.ledger_check.service.check_ledger ({detail})",
        "0",
        fmt_int(problems),
        _ok(report.ok),
        f"{clock.perf_counter() - started:.1f}",
    ]


def _ok(good: bool) -> str:
    return "yes" if good else "NO"


# --- Reporting --------------------------------------------------------------------------------


def print_load(load: Load, batch: int) -> None:
    cpu = load.cpu
    rows = [
        [
            f"journal.post, {load.writers} writer(s), one transaction per day and writer "
            f"(<= {batch:,} entries)",
            fmt_int(load.transactions),
            fmt_int(load.entries),
            fmt_int(load.postings),
            f"{load.wall:,.1f}",
            fmt_int(load.entries / load.wall) if load.wall else "-",
            fmt_int(load.postings / load.wall) if load.wall else "-",
            fmt_ms(percentile(load.latencies, 50)),
            fmt_ms(percentile(load.latencies, 99)),
            fmt_pct(cpu.postgres_pct) if cpu and cpu.postgres_pct is not None else "-",
            fmt_pct(cpu.client_pct) if cpu else "-",
            other_cpu(cpu),
        ]
    ]
    headers = [
        "load",
        "tx",
        "entries",
        "postings",
        "wall s",
        "entries/s",
        "postings/s",
        "tx p50 ms",
        "tx p99 ms",
        "postgres CPU",
        "bench CPU",
        "other CPU",
    ]
    print(render_table(headers, rows, title="(1) Load"))
    print(
        f"{len(load.days)} business days {load.days[0]} .. {load.days[-1]}, "
        f"{load.trades_per_day:,} trades a day (bookings, and settlements "
        f"{SETTLEMENT_LAG} business days later); {BOOKS} books, {SAFEKEEPING} safekeeping and "
        f"{CASH_ACCOUNTS} cash accounts, {COUNTERPARTIES:,} counterparties, {ISINS:,} ISINs in "
        f"{len(CURRENCIES)} currencies"
    )


async def table_sizes(
    sessionmaker: async_sessionmaker[AsyncSession], monitor: asyncpg.Connection | None
) -> list[list[str]]:
    rows = []
    async with sessionmaker() as session:
        for model in (JournalEntry, Posting, LedgerAccount, LedgerBalance, LedgerBalanceDay):
            table = str(model.__tablename__)
            count = await session.scalar(select(func.count()).select_from(model))
            size = "-"
            if monitor is not None:
                size_bytes: int = await monitor.fetchval(
                    "SELECT pg_total_relation_size($1::regclass)", table
                )
                size = f"{size_bytes / 2**20:,.0f} MiB"
            rows.append([table, fmt_int(count or 0), size])
    return rows


def print_phases(phases: Sequence[Phase]) -> None:
    print(
        render_table(
            PHASE_HEADERS, [p.row() for p in phases], title="(3) Posting throughput (journal.post)"
        )
    )
    print(
        "(latency: one transaction, session checkout to commit; commit p50: the COMMIT alone, "
        "where PostgreSQL runs the deferred balance triggers and flushes the WAL; retries: "
        "deadlock or serialization failures retried; lock waits: share of the writers' "
        "connections seen waiting for a lock; CPU in % of one core; other: host CPU used by "
        "neither this process nor the database's backends)"
    )


def print_waits(phases: Sequence[Phase]) -> None:
    sampled = [p for p in phases if p.waits is not None]
    if not sampled:
        return
    states: Counter[str] = Counter()
    for phase in sampled:
        assert phase.waits is not None
        states.update(phase.waits.samples)
    shown = [
        state
        for state, _ in states.most_common()
        if any(p.waits is not None and p.waits.share(state) >= 1 for p in sampled)
    ]
    rest = [state for state in states if state not in shown]
    rows = [
        [state, *(fmt_pct(p.waits.share(state)) if p.waits else "-" for p in sampled)]
        for state in shown
    ]
    if rest:
        rows.append(
            [
                f"other waits ({len(rest)} kinds, each under 1%)",
                *(
                    fmt_pct(sum(p.waits.share(s) for s in rest)) if p.waits else "-"
                    for p in sampled
                ),
            ]
        )
    print()
    print(
        render_table(
            ["writers' PostgreSQL connections", *(p.spec.code for p in sampled)],
            rows,
            title="What the writers' connections were doing (share of pg_stat_activity samples)",
        )
    )


def print_statements(phases: Sequence[Phase]) -> None:
    labels: Counter[str] = Counter()
    for phase in phases:
        labels.update(phase.statements)
    counted = [p for p in phases if p.transactions]
    rows = [
        [label, *(f"{p.statements[label] / p.transactions:.2f}" for p in counted)]
        for label, _ in labels.most_common()
    ]
    rows.append(["total", *(f"{sum(p.statements.values()) / p.transactions:.2f}" for p in counted)])
    print(
        render_table(
            ["SQL statements per transaction", *(p.spec.code for p in counted)],
            rows,
            title="Statements journal.post sends (executemany counts once; plus BEGIN, COMMIT, "
            "and the pool's pre-ping)",
        )
    )


def print_profile(path: Path, label: str) -> None:
    if not path.exists():
        return
    total, areas, functions = profile_tables(path)
    print(f"py-spy, {label}: {total:,} samples holding the GIL at 100 Hz ({path})")
    print(render_table(["where the running frame is", "share"], areas))
    print(render_table(["function (own time)", "share"], functions))
    print()


# --- The run ----------------------------------------------------------------------------------


async def _monitor(db: BenchDatabase) -> asyncpg.Connection:
    return await asyncpg.connect(
        **connect_kwargs(db.url), server_settings={"application_name": MONITOR_APP}
    )


async def _sqlite_database(directory: Path) -> BenchDatabase:
    path = directory / "ledger.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate_async(url)
    keys = await seed(url)
    return BenchDatabase(name=str(path), url=url, server_url="", keys=keys)


@contextlib.asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[BenchDatabase]:
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="settlement-bench-ledger-") as directory:
            yield await _sqlite_database(Path(directory))
        return
    db = await prepare_database(args.database, args.pg_url)
    try:
        yield db
    finally:
        if not args.keep_database:
            await drop_database(db.name, args.pg_url)


@contextlib.asynccontextmanager
async def _profiled(directory: Path | None, name: str) -> AsyncIterator[None]:
    profiler = Profiler(os.getpid(), directory / name) if directory else None
    if profiler is not None:
        await profiler.start()
    try:
        yield
    finally:
        if profiler is not None:
            await profiler.stop()


async def run(args: argparse.Namespace) -> int:
    memory: list[list[str]] = [["start", f"{peak_rss_mib():,.1f} MiB"]]
    checks: list[list[str]] = []
    profile_dir = Path(args.py_spy) if args.py_spy else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    async with _database(args) as db:
        monitor = None if args.sqlite else await _monitor(db)
        engine = create_engine(
            db.url, pool_size=max(args.concurrency, args.load_writers) + 1, max_overflow=0
        )
        sessionmaker = create_sessionmaker(engine)
        operations = db.keys[Role.OPERATIONS]
        actor = Actor(key_id=operations.id, role=Role.OPERATIONS, name="bench ledger")
        try:
            if monitor is not None:
                version = await monitor.fetchval("SHOW server_version")
                sync = await monitor.fetchval("SHOW synchronous_commit")
                backend = f"PostgreSQL {version} (synchronous_commit {sync})"
            else:
                backend = "SQLite (WAL, BEGIN IMMEDIATE)"
            print(
                f"host: {os.cpu_count()} cores, load average {load_average()}, Python "
                f"{platform.python_version()}; {backend}; database {db.name}"
            )
            sys.stdout.flush()
            days = business_days(datetime.now(UTC).date() - timedelta(days=1), args.days)
            async with asyncio.timeout(args.phase_timeout), _profiled(profile_dir, "load.txt"):
                load = await load_journal(
                    sessionmaker,
                    CpuMeter([], monitor, db.name if monitor else None),
                    days=days,
                    postings=args.postings,
                    writers=args.load_writers,
                    batch=args.load_batch,
                    seed_value=args.seed,
                    actor=actor,
                )
            gc.collect()
            memory.append(["after the load", f"{peak_rss_mib():,.1f} MiB"])
            if monitor is not None:
                await monitor.execute("ANALYZE")
            print()
            print_load(load, args.load_batch)
            print()
            print(
                render_table(
                    ["table", "rows", "size"],
                    await table_sizes(sessionmaker, monitor),
                    title="Database after the load",
                )
            )
            sys.stdout.flush()

            async with asyncio.timeout(args.phase_timeout):
                reads = await measure_reads(
                    sessionmaker,
                    days=days,
                    queries=args.queries,
                    budget=args.read_seconds,
                    seed_value=args.seed + 7,
                )
            memory.append(["after the as-of reads", f"{peak_rss_mib():,.1f} MiB"])
            print()
            print(
                render_table(
                    [
                        "read (page of 100, random as_of)",
                        "queries",
                        "rows",
                        "p50 ms",
                        "p99 ms",
                        "max ms",
                    ],
                    [r.row() for r in reads],
                    title=f"(2) As-of reads on {load.postings:,} postings over {len(days)} "
                    "accounting dates (one session per query, one at a time)",
                )
            )
            sys.stdout.flush()

            await post_entries(
                sessionmaker,
                [
                    NewEntry(
                        EntryKind.ADJUSTMENT,
                        datetime.now(UTC).date(),
                        "Bench: fund the hot cash account",
                        (
                            Line(HOT[0], HOT[1], HOT_FUNDING),
                            Line(accounts.OPENING_EQUITY.code, HOT[1], -HOT_FUNDING),
                        ),
                    )
                ],
                actor=actor,
            )
            async with sessionmaker() as session:
                balance_keys = (
                    await session.execute(select(LedgerBalance.ledger_account, LedgerBalance.asset))
                ).all()
            keys = Keys([(account, asset) for account, asset in balance_keys])
            del balance_keys
            phases: list[Phase] = []
            async with _profiled(profile_dir, "throughput.txt"):
                for n, spec in enumerate(specs(args.entries)):
                    async with asyncio.timeout(args.phase_timeout):
                        phases.append(
                            await throughput_phase(
                                spec,
                                engine,
                                sessionmaker,
                                keys,
                                writers=args.concurrency,
                                seconds=args.seconds,
                                seed_value=args.seed + 100 + n,
                                actor=actor,
                                monitor=monitor,
                                db=db,
                            )
                        )
                    print(f"  {spec.name}: {phases[-1].transactions:,} tx", file=sys.stderr)
            memory.append(["after the throughput phases", f"{peak_rss_mib():,.1f} MiB"])
            print()
            print_phases(phases)
            print(
                f"{args.concurrency} writers; spread entries draw their (account, asset) pairs "
                f"from the {keys.balances:,} balances the load created ({len(keys.accounts):,} "
                f"assets); hot entries all move {HOT[0]} {HOT[1]}"
            )
            print_waits(phases)
            print()
            print_statements(phases)

            if monitor is not None:
                checks.extend(await sql_checks(monitor))
            if args.check or args.sqlite:
                checks.append(await app_check(sessionmaker))
            print()
            print(
                render_table(["check", "expected", "found", "ok", "s"], checks, title="(4) Checks")
            )
        finally:
            await engine.dispose()
            if monitor is not None:
                await monitor.close()
    print()
    memory.append(["after the checks (end)", f"{peak_rss_mib():,.1f} MiB"])
    print(
        render_table(
            ["stage", "peak RSS so far"],
            memory,
            title=f"(5) Memory of this process (pid {os.getpid()}, getrusage ru_maxrss)",
        )
    )
    if profile_dir is not None:
        print()
        print_profile(profile_dir / "load.txt", "the load")
        print_profile(profile_dir / "throughput.txt", "the throughput phases")
    print(f"load average at the end: {load_average()}")
    failed = [row[0] for row in checks if row[3] != "yes"]
    if failed:
        print("\nFAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postings", type=int, help=f"postings to load at least ({DEFAULTS['postings']:,})"
    )
    parser.add_argument("--days", type=int, help=f"business days they span ({DEFAULTS['days']})")
    parser.add_argument("--load-writers", type=int, default=2, help="writers of the load")
    parser.add_argument(
        "--load-batch", type=int, default=5_000, help="most entries a load transaction posts"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="writers of each phase (3)")
    parser.add_argument(
        "--entries",
        type=int,
        nargs="+",
        help=f"entries per transaction, a phase each ({' '.join(map(str, DEFAULTS['entries']))})",
    )
    parser.add_argument(
        "--seconds", type=float, help=f"measured seconds per phase (3) ({DEFAULTS['seconds']})"
    )
    parser.add_argument("--queries", type=int, help=f"queries per read ({DEFAULTS['queries']})")
    parser.add_argument(
        "--read-seconds", type=float, default=30.0, help="stop a read's queries after this"
    )
    parser.add_argument("--seed", type=int, default=20261125, help="random seed of the data")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: "
        + ", ".join(f"--{name} {value}" for name, value in QUICK.items())
        + " (unless given)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="also run check_ledger over the whole journal (always with --sqlite)",
    )
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    parser.add_argument("--py-spy", metavar="DIR", help="profile the load and phases (3) into DIR")
    parser.add_argument("--database", default="settlement_bench_ledger", help="database name")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--phase-timeout", type=float, default=900, help="seconds per stage")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    limits = {
        "--postings": (args.postings, 1_000, 20_000_000),
        "--days": (args.days, SETTLEMENT_LAG + 1, 5_000),
        "--load-writers": (args.load_writers, 1, 16),
        "--load-batch": (args.load_batch, 1, 20_000),
        "--concurrency": (args.concurrency, 1, 64),
        "--queries": (args.queries, 1, 100_000),
        **{f"--entries ({n})": (n, 1, 5_000) for n in args.entries},
    }
    check_limits(parser, limits)
    if not 0 < args.seconds <= 3_600:
        parser.error("--seconds must be between 0 and 3600")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    print("$ " + shlex.join([sys.executable, "-m", PROG, *argv]))
    sys.stdout.flush()
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
