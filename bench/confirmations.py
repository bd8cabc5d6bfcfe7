"""Confirmation matching throughput against PostgreSQL: over HTTP, and in process.

    python -m bench.confirmations [--trades 100000] [--confirmations 5000] [--concurrency 16]
                                  [--mode http|inproc|both]

1. A fresh database (bench.common: migrated, demo reference data, one API key per role).
2. ``--trades`` captured trades loaded by asyncpg COPY, then ANALYZE: every demo instrument
   (bonds priced in percent of nominal, accrued interest left null) and counterparty, trade
   dates over the last ``--days`` trading days (at every demo venue) before 2026-11-24, real
   settlement dates from the demo calendars and cycles, net = gross + charges for buys and
   gross - charges for sells. Within one (counterparty, ISIN, trade date, side) no two trades
   share a quantity, so a confirmation's economics fit exactly one of them.
3. Per measured phase, ``--confirmations`` confirmations WITHOUT a trade reference, shuffled:
   ~93 % for distinct trades (the counterparty's side, same quantity, price, dates and net
   amount: expected ``matched``), ~5 % with a quantity difference (``unmatched``) and ~2 % on
   the next trading day, when we have no trade (``alleged``). Each phase has its own trades.
4. Phases: (a) POST /api/v1/confirmations as the gateway key, ``--concurrency`` clients (one
   connection each) against ``--servers`` real uvicorn processes (default one; an
   Idempotency-Key only with ``--idempotency-key``); (b) ``receive_confirmation`` called in
   this process (on uvloop, as uvicorn runs, unless ``--loop asyncio``), one session and
   transaction per confirmation, by one worker (b1) and by ``--concurrency`` workers (b2): no
   HTTP, no auth, no JSON. Each phase starts after a short, unmeasured warm-up of matched
   confirmations.

Printed as tables: throughput (confirmations/s and matched/s), p50/p99 latency, CPU of the
app (server process, or this process in (b)), of PostgreSQL's backends, of this client, of the
host and of anything else (a busy neighbour is flagged: rerun then); every outcome checked
against what was generated (per confirmation and as totals, then against the database): the
run fails when one differs; what the app's PostgreSQL connections were doing (sampled from
pg_stat_activity); SQL statements per confirmation (b); peak RSS. ``--py-spy DIR`` also
samples the app with py-spy in each phase and prints its hotspots (py-spy takes CPU from the
measured processes: take throughput from a run without it).

With the defaults, 100,000 trades over 20 days give ~71 trades per (counterparty, ISIN, date),
~36 of them on the side a confirmation's economics query returns; ``--days 1000`` gives ~2.

Everything talks to 127.0.0.1. The database (``--database``) is dropped at the end unless
``--keep-database``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import os
import platform
import random
import re
import shlex
import shutil
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from app.core.auth import Actor, Role
from app.core.calendars import BusinessCalendar
from app.core.config import PROJECT_ROOT
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.ids import new_id
from app.core.money import round_money
from app.reference import demo_data
from app.reference.cycles import cycle_days_on
from app.trades.capture.pricing import gross_amount
from app.trades.confirmations.schemas import ConfirmationIn
from app.trades.confirmations.service import receive_confirmation
from bench.common import (
    API,
    COUNTERPARTY_LEIS,
    TRADE_COLUMNS,
    BenchDatabase,
    CpuMeter,
    Server,
    add_server_arguments,
    check_limits,
    connect_kwargs,
    drop_database,
    fmt_int,
    fmt_mib,
    fmt_ms,
    fmt_pct,
    peak_rss_kib,
    percentile,
    prepare_database,
    render_table,
    running_servers,
)

PROG = "bench.confirmations"
WINDOW_END = date(2026, 11, 24)  # trades are dated before it; alleged confirmations on it
UNMATCHED_SHARE = 0.05
ALLEGED_SHARE = 0.02
WARMUP = 64
COPY_CHUNK = 20_000
MONITOR_APP = "bench-monitor"  # application_name of this benchmark's own monitor connections
WAIT_POLL_SECONDS = 0.1
NOISE_PCT = 30.0  # "other CPU" above this (in % of one core) flags a phase as disturbed
# Quantities are LOT x k, k drawn without repetition per (counterparty, ISIN, date, side).
EQUITY_LOT, EQUITY_STEPS = Decimal(10), (1, 10_000)  # 10 to 100,000 shares
BOND_LOT, BOND_STEPS = Decimal(1_000), (10, 10_000)  # 10,000 to 10,000,000 nominal
MAX_PER_SIDE = 2_500  # trades per (counterparty, ISIN, date, side) the draw can place
COMMISSION_RATE = Decimal("0.0003")  # 3 bp, at least 1.00
MIN_COMMISSION = Decimal("1.00")
SELL_FEE_RATE = Decimal("0.0000278")  # a transaction-tax-like fee on sells
_SESSION_OPEN_UTC = {"XNYS": timedelta(hours=14, minutes=30)}  # the EU venues: 08:00 UTC
_EU_OPEN_UTC = timedelta(hours=8)
_OPPOSITE = {"buy": "sell", "sell": "buy"}
KINDS = ("matched", "unmatched", "alleged")


# --- Reference data: securities and calendars -------------------------------------------------


@dataclass(frozen=True)
class Security:
    isin: str
    currency: str
    venue: str
    book: str
    bond: bool
    price: Decimal  # the demo closing price (percent of nominal for bonds)
    tick: Decimal

    @property
    def lot(self) -> Decimal:
        return BOND_LOT if self.bond else EQUITY_LOT

    @property
    def steps(self) -> tuple[int, int]:
        return BOND_STEPS if self.bond else EQUITY_STEPS


def _securities() -> tuple[Security, ...]:
    prices = {p["isin"]: Decimal(p["price"]) for p in demo_data.PRICES}
    out = []
    for instrument in demo_data.INSTRUMENTS:
        bond = instrument["type"] == "bond"
        out.append(
            Security(
                isin=instrument["isin"],
                currency=instrument["currency"],
                venue=instrument["mic"],
                book="FI-RATES" if bond else "EQ-FLOW",
                bond=bond,
                price=prices.get(instrument["isin"], Decimal(100)),
                tick=Decimal("0.001") if bond else Decimal("0.01"),
            )
        )
    return tuple(out)


SECURITIES = _securities()


class Calendars:
    """The demo markets' trading and settlement calendars and cycles (no closed days as data)."""

    def __init__(self) -> None:
        self.markets = {m["mic"]: m for m in demo_data.MARKETS}
        self._trading = {mic: BusinessCalendar([m["calendar"]]) for mic, m in self.markets.items()}
        self._settlement = {
            mic: BusinessCalendar(m["settlement_calendars"]) for mic, m in self.markets.items()
        }
        self._dates: dict[tuple[str, date], date] = {}

    def trading_days(self, before: date, count: int) -> list[date]:
        """The ``count`` latest days before ``before`` that every demo venue trades on."""
        days: list[date] = []
        day = before
        while len(days) < count:
            day -= timedelta(days=1)
            if all(c.is_business_day(day) for c in self._trading.values()):
                days.append(day)
        return sorted(days)

    def is_trading_day_everywhere(self, day: date) -> bool:
        return all(c.is_business_day(day) for c in self._trading.values())

    def settlement_date(self, venue: str, trade_date: date) -> date:
        key = (venue, trade_date)
        if key not in self._dates:
            days = cycle_days_on(self.markets[venue]["settlement_cycle_days"], trade_date)
            if days is None:
                raise ValueError(f"no settlement cycle at {venue} on {trade_date}")
            self._dates[key] = self._settlement[venue].add_business_days(trade_date, days)
        return self._dates[key]


@dataclass(frozen=True)
class Amounts:
    commission: Decimal
    fees: Decimal
    gross: Decimal
    net: Decimal


def amounts(security: Security, side: str, quantity: Decimal, price: Decimal) -> Amounts:
    """Gross rounded once (percent of nominal for bonds); buy: + charges, sell: - charges."""
    currency = security.currency
    gross = round_money(
        gross_amount(quantity=quantity, price=price, percent_of_nominal=security.bond), currency
    )
    zero = round_money(Decimal(0), currency)
    if security.bond:
        commission, fees = zero, zero
    else:
        commission = max(round_money(gross * COMMISSION_RATE, currency), MIN_COMMISSION)
        fees = round_money(gross * SELL_FEE_RATE, currency) if side == "sell" else zero
    charges = commission + fees
    net = gross + charges if side == "buy" else gross - charges
    return Amounts(commission, fees, gross, net)


# --- Trades -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Booked:
    """What a confirmation of a loaded trade needs."""

    id: str
    lei: str
    security: Security
    side: str
    quantity: Decimal
    price: Decimal
    trade_date: date
    settlement_date: date
    net: Decimal


def _price(security: Security, rng: random.Random) -> Decimal:
    return max(security.price + security.tick * rng.randint(-200, 200), security.tick)


def generate_trades(
    count: int,
    days: Sequence[date],
    calendars: Calendars,
    rng: random.Random,
    *,
    created_by: str,
    now: datetime,
) -> tuple[list[tuple[Any, ...]], list[Booked]]:
    """``count`` rows in TRADE_COLUMNS order, and what confirming each one needs."""
    taken: dict[tuple[str, str, date, str], set[int]] = defaultdict(set)
    rows: list[tuple[Any, ...]] = []
    booked: list[Booked] = []
    for n in range(count):
        security = rng.choice(SECURITIES)
        lei = rng.choice(COUNTERPARTY_LEIS)
        day = rng.choice(days)
        side = rng.choice(("buy", "sell"))
        used = taken[(lei, security.isin, day, side)]
        while (step := rng.randint(*security.steps)) in used:
            pass
        used.add(step)
        quantity = security.lot * step
        price = _price(security, rng)
        money = amounts(security, side, quantity, price)
        settlement = calendars.settlement_date(security.venue, day)
        opens = _SESSION_OPEN_UTC.get(security.venue, _EU_OPEN_UTC)
        trade_time = datetime(day.year, day.month, day.day, tzinfo=UTC) + opens
        trade_time += timedelta(seconds=rng.randrange(6 * 3600))
        trade_id = new_id("trd")
        rows.append(
            (
                trade_id,
                f"FO-{day:%Y%m%d}-{n:07d}",
                security.book,
                lei,
                security.isin,
                side,
                quantity,
                price,
                security.currency,
                day,
                trade_time,
                security.venue,
                settlement,
                money.commission,
                money.fees,
                None,  # accrued interest: left null for bonds
                money.gross,
                money.net,
                "captured",
                1,
                now,
                now,
                created_by,
                None,
            )
        )
        booked.append(
            Booked(trade_id, lei, security, side, quantity, price, day, settlement, money.net)
        )
    return rows, booked


@dataclass
class Load:
    rows: int = 0
    generate_s: float = 0.0
    copy_s: float = 0.0
    analyze_s: float = 0.0
    per_key: list[int] = field(default_factory=list)
    per_key_side: list[int] = field(default_factory=list)


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        **connect_kwargs(url), server_settings={"application_name": MONITOR_APP}
    )


async def load_trades(
    db: BenchDatabase, booked_out: list[Booked], *, trades: int, days: Sequence[date], seed: int
) -> Load:
    load = Load()
    started = time.perf_counter()
    rows, booked = generate_trades(
        trades,
        days,
        Calendars(),
        random.Random(seed),
        created_by=db.keys[Role.TRADER].id,
        now=datetime.now(UTC),
    )
    load.generate_s = time.perf_counter() - started
    connection = await _connect(db.url)
    try:
        started = time.perf_counter()
        for i in range(0, len(rows), COPY_CHUNK):
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "trades", records=rows[i : i + COPY_CHUNK], columns=TRADE_COLUMNS
                )
        load.copy_s = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("ANALYZE trades")
        load.analyze_s = time.perf_counter() - started
        load.rows = await connection.fetchval("SELECT count(*) FROM trades")
        key_counts = await connection.fetch(
            "SELECT count(*) AS n FROM trades GROUP BY counterparty_lei, isin, trade_date"
        )
        side_counts = await connection.fetch(
            "SELECT count(*) AS n FROM trades GROUP BY counterparty_lei, isin, trade_date, side"
        )
    finally:
        await connection.close()
    load.per_key = [r["n"] for r in key_counts]
    load.per_key_side = [r["n"] for r in side_counts]
    booked_out.extend(booked)
    return load


# --- Confirmations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    kind: str  # what must come out: matched, unmatched or alleged
    body: dict[str, Any]
    trade_id: str | None  # the trade it is about (None: alleged)
    model: ConfirmationIn


def _body(
    confirmation_id: str,
    lei: str,
    security: Security,
    their_side: str,
    quantity: Decimal,
    price: Decimal,
    trade_date: date,
    settlement_date: date,
    net: Decimal,
) -> dict[str, Any]:
    return {
        "confirmation_id": confirmation_id,
        "counterparty_lei": lei,
        "isin": security.isin,
        "side": their_side,
        "quantity": str(quantity),
        "price": str(price),
        "currency": security.currency,
        "trade_date": trade_date.isoformat(),
        "settlement_date": settlement_date.isoformat(),
        "net_amount": str(net),
    }


def _planned(kind: str, body: dict[str, Any], trade_id: str | None) -> Planned:
    return Planned(kind, body, trade_id, ConfirmationIn.model_validate(body))


def confirm(trade: Booked, confirmation_id: str) -> Planned:
    """The counterparty's confirmation of our trade: their side, the same economics."""
    body = _body(
        confirmation_id,
        trade.lei,
        trade.security,
        _OPPOSITE[trade.side],
        trade.quantity,
        trade.price,
        trade.trade_date,
        trade.settlement_date,
        trade.net,
    )
    return _planned("matched", body, trade.id)


def confirm_other_quantity(trade: Booked, confirmation_id: str) -> Planned:
    """Half a lot more than we booked (so no trade of ours has that quantity), and the net
    amount the counterparty computes from it."""
    quantity = trade.quantity + trade.security.lot / 2
    net = amounts(trade.security, trade.side, quantity, trade.price).net
    body = _body(
        confirmation_id,
        trade.lei,
        trade.security,
        _OPPOSITE[trade.side],
        quantity,
        trade.price,
        trade.trade_date,
        trade.settlement_date,
        net,
    )
    return _planned("unmatched", body, trade.id)


def confirm_no_trade(
    rng: random.Random, calendars: Calendars, day: date, confirmation_id: str
) -> Planned:
    """A confirmation for a day we have no trades on yet: it stays alleged."""
    security = rng.choice(SECURITIES)
    side = rng.choice(("buy", "sell"))
    quantity = security.lot * rng.randint(*security.steps)
    price = _price(security, rng)
    body = _body(
        confirmation_id,
        rng.choice(COUNTERPARTY_LEIS),
        security,
        _OPPOSITE[side],
        quantity,
        price,
        day,
        calendars.settlement_date(security.venue, day),
        amounts(security, side, quantity, price).net,
    )
    return _planned("alleged", body, None)


def split(count: int) -> dict[str, int]:
    unmatched = round(count * UNMATCHED_SHARE)
    alleged = round(count * ALLEGED_SHARE)
    return {"matched": count - unmatched - alleged, "unmatched": unmatched, "alleged": alleged}


@dataclass(frozen=True)
class Plan:
    warmup: list[Planned]
    measured: list[Planned]

    @property
    def generated(self) -> Counter[str]:
        return Counter(p.kind for p in self.measured)


def plan_phase(
    trades: Iterator[Booked], rng: random.Random, *, count: int, warmup: int, prefix: str
) -> Plan:
    calendars = Calendars()
    alleged_day = WINDOW_END
    assert calendars.is_trading_day_everywhere(alleged_day)
    shares = split(count)
    measured = [confirm(next(trades), f"{prefix}-{i:07d}") for i in range(shares["matched"])]
    measured += [
        confirm_other_quantity(next(trades), f"{prefix}-Q{i:06d}")
        for i in range(shares["unmatched"])
    ]
    measured += [
        confirm_no_trade(rng, calendars, alleged_day, f"{prefix}-A{i:06d}")
        for i in range(shares["alleged"])
    ]
    rng.shuffle(measured)
    warm = [confirm(next(trades), f"{prefix}-W{i:06d}") for i in range(warmup)]
    return Plan(warm, measured)


def check(planned: Planned, status: str, trade_id: str | None, candidates: Sequence[str]) -> bool:
    """Whether the outcome is the one generated, about the right trade."""
    if planned.kind == "matched":
        return status == "matched" and trade_id == planned.trade_id
    if planned.kind == "unmatched":
        # Compared with our trade when it is the only one of the day, else listed as a candidate.
        return status == "unmatched" and (
            trade_id == planned.trade_id or (trade_id is None and planned.trade_id in candidates)
        )
    return status == "alleged" and trade_id is None and not candidates


# --- Measurements -----------------------------------------------------------------------------


class WaitSampler:
    """What the app's PostgreSQL connections are doing, from pg_stat_activity every 0.1 s."""

    def __init__(self, url: str, database: str) -> None:
        self.url, self.database = url, database
        self.samples: Counter[str] = Counter()
        self.polls = 0
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._connection = await _connect(self.url)
        self._task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        assert self._connection is not None
        while True:
            rows = await self._connection.fetch(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = $1 AND backend_type = 'client backend' "
                "AND application_name <> $2",
                self.database,
                MONITOR_APP,
            )
            self.polls += 1
            for row in rows:
                self.samples[_backend_state(row)] += 1
            await asyncio.sleep(WAIT_POLL_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()

    def share(self, state: str) -> float:
        total = sum(self.samples.values())
        return 100 * self.samples[state] / total if total else 0.0

    @property
    def mean_connections(self) -> float:
        return sum(self.samples.values()) / self.polls if self.polls else 0.0


def _backend_state(row: asyncpg.Record) -> str:
    state, kind, name = row["state"], row["wait_event_type"], row["wait_event"]
    if state == "idle":
        return "idle (between transactions)"
    if state == "idle in transaction":
        return "idle in transaction (app's turn)"
    if kind is None:
        return "running"
    if kind == "Lock":
        return f"waiting for a row lock (Lock:{name})"
    return f"waiting {kind}:{name}"


class StatementCounter:
    """SQL statements the in-process phases send, by kind and table."""

    _TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._labels: dict[str, str] = {}  # compiled statements are few: label each once

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        label = self._labels.get(statement)
        if label is None:
            label = self._labels[statement] = self._label(statement)
        self.counts[label] += 1

    def _label(self, statement: str) -> str:
        text = " ".join(statement.split())
        verb = text.split(" ", 1)[0].upper()
        table = self._TABLE.search(text)
        label = f"{verb} {table.group(1) if table else ''}".strip()
        if verb == "SELECT" and "FOR UPDATE" in text.upper():
            label += " FOR UPDATE"
        return label


class Profiler:
    """py-spy sampling one process until stop() (SIGINT makes it write its raw output)."""

    def __init__(self, pid: int, path: Path) -> None:
        self.pid, self.path = pid, path
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "record",
            "--pid",
            str(self.pid),
            "--format",
            "raw",
            "--nolineno",
            "--gil",
            "--rate",
            "100",
            "--output",
            str(self.path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(0.5)  # attached before the measured work starts
        if self._process.returncode is not None:
            assert self._process.stderr is not None
            error = (await self._process.stderr.read()).decode(errors="replace")
            raise RuntimeError(f"py-spy failed: {error[-500:]}")

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self._process.communicate(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()


@dataclass
class Phase:
    name: str
    mode: str  # http or inproc
    workers: int
    generated: Counter[str]
    count: int = 0
    errors: int = 0
    wrong: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    about_trade: int = 0  # unmatched outcomes that moved the trade to mismatched
    latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter | None = None
    waits: WaitSampler | None = None
    statements: Counter[str] | None = None
    profile: Path | None = None
    first_problem: str | None = None

    @property
    def wall(self) -> float:
        return self.cpu.wall if self.cpu else 0.0

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    @property
    def matched_rate(self) -> float:
        return self.outcomes["matched"] / self.wall if self.wall else 0.0

    def note(self, problem: str) -> None:
        if self.first_problem is None:
            self.first_problem = problem
            print(f"{self.name}: {problem}", file=sys.stderr)

    def row(self) -> list[str]:
        cpu = self.cpu
        http = self.mode == "http"
        app_cpu = (cpu.servers_pct if http else cpu.client_pct) if cpu else None
        return [
            self.name,
            fmt_int(self.count),
            fmt_int(self.errors + self.wrong),
            f"{self.wall:,.2f}",
            fmt_int(self.rate),
            fmt_int(self.matched_rate),
            fmt_ms(percentile(self.latencies, 50)),
            fmt_ms(percentile(self.latencies, 99)),
            "-" if app_cpu is None else fmt_pct(app_cpu),
            fmt_pct(cpu.postgres_pct) if cpu and cpu.postgres_pct is not None else "-",
            fmt_pct(cpu.client_pct) if cpu and http else "-",
            fmt_pct(cpu.host_pct) if cpu else "-",
            "-" if cpu is None else fmt_pct(self.other_cpu(cpu)),
        ]

    @staticmethod
    def other_cpu(cpu: CpuMeter) -> float:
        """Busy CPU of the host not used by the app, PostgreSQL's backends or this client
        (PostgreSQL's background writers, the kernel, and anything else running): a noisy
        neighbour shows here. In % of one core."""
        measured = cpu.servers_pct + (cpu.postgres_pct or 0.0) + cpu.client_pct
        return max(0.0, cpu.host_pct * (os.cpu_count() or 1) - measured)


PHASE_HEADERS = [
    "phase",
    "confirmations",
    "errors",
    "wall s",
    "confirmations/s",
    "matched/s",
    "p50 ms",
    "p99 ms",
    "app CPU",
    "postgres CPU",
    "client CPU",
    "host CPU",
    "other CPU",
]

Outcome = tuple[str, str | None, list[str]]  # status, trade_id, candidates
Send = Callable[[Planned, int], Awaitable[Outcome]]


async def drive(
    phase: Phase,
    plan: Plan,
    send: Send,
    *,
    workers: int,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
) -> None:
    """Warm up (unmeasured, still checked), then send the measured confirmations from
    ``workers`` tasks; ``start``/``stop`` bracket the measured part."""
    warm_failures: list[str] = []

    async def worker(index: int, items: Iterator[Planned], record: bool) -> None:
        for item in items:
            started = time.perf_counter()
            try:
                status, trade_id, candidates = await send(item, index)
            except Exception as error:
                if not record:
                    warm_failures.append(f"{item.body['confirmation_id']}: {error!r}")
                    continue
                phase.count += 1
                phase.errors += 1
                phase.note(f"{item.body['confirmation_id']}: {error!r}"[:500])
                continue
            elapsed = time.perf_counter() - started
            good = check(item, status, trade_id, candidates)
            if not record:
                if not good:
                    warm_failures.append(f"{item.body['confirmation_id']}: {status}")
                continue
            phase.count += 1
            phase.latencies.append(elapsed)
            phase.outcomes[status] += 1
            if status == "unmatched" and trade_id is not None:
                phase.about_trade += 1
            if not good:
                phase.wrong += 1
                phase.note(
                    f"{item.body['confirmation_id']} expected {item.kind} of {item.trade_id}, "
                    f"got {status} trade {trade_id} candidates {candidates[:3]}"
                )

    warm = iter(plan.warmup)
    await asyncio.gather(*(worker(i, warm, False) for i in range(workers)))
    if warm_failures:
        raise RuntimeError(f"{phase.name}: warm-up failed: {warm_failures[:3]}")
    measured = iter(plan.measured)
    await start()
    await asyncio.gather(*(worker(i, measured, True) for i in range(workers)))
    await stop()


def _brackets(
    phase: Phase, meter: CpuMeter, waits: WaitSampler, profiler: Profiler | None
) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    async def start() -> None:
        if profiler is not None:
            await profiler.start()
        await waits.start()
        phase.cpu, phase.waits = meter, waits
        await meter.start()

    async def stop() -> None:
        await meter.stop()
        await waits.stop()
        if profiler is not None:
            await profiler.stop()

    return start, stop


async def http_phase(
    servers: Sequence[Server],
    db: BenchDatabase,
    monitor: asyncpg.Connection,
    plan: Plan,
    *,
    concurrency: int,
    idempotency: bool,
    profile: Path | None,
) -> Phase:
    where = f", {len(servers)} servers" if len(servers) > 1 else ""
    phase = Phase(
        f"(a) HTTP POST /confirmations, {concurrency} clients{where}",
        "http",
        concurrency,
        plan.generated,
    )
    clients = [
        httpx.AsyncClient(
            base_url=servers[i % len(servers)].base_url,
            headers=db.headers(Role.GATEWAY),
            timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        for i in range(concurrency)
    ]

    async def send(item: Planned, worker: int) -> Outcome:
        headers = {"Idempotency-Key": f"cnf-{item.body['confirmation_id']}"} if idempotency else {}
        response = await clients[worker].post(
            f"{API}/confirmations", json=item.body, headers=headers
        )
        if response.status_code != 201:
            raise RuntimeError(f"{response.status_code} {response.text[:300]}")
        out = response.json()
        return out["status"], out["trade_id"], out["candidates"]

    phase.profile = profile
    profiler = Profiler(servers[0].pid, profile) if profile else None
    meter = CpuMeter([s.pid for s in servers], monitor, db.name)
    start, stop = _brackets(phase, meter, WaitSampler(db.url, db.name), profiler)
    try:
        await drive(phase, plan, send, workers=concurrency, start=start, stop=stop)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return phase


async def inproc_phase(
    db: BenchDatabase,
    monitor: asyncpg.Connection,
    plan: Plan,
    *,
    workers: int,
    label: str,
    profile: Path | None,
) -> Phase:
    phase = Phase(
        f"{label} in process, {workers} worker{'s' if workers > 1 else ''}",
        "inproc",
        workers,
        plan.generated,
    )
    gateway = db.keys[Role.GATEWAY]
    actor = Actor(key_id=gateway.id, role=Role.GATEWAY, name="bench gateway")
    # The server's engine settings (pre-ping included), one connection per worker.
    engine = create_engine(db.url, pool_size=workers, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    counter = StatementCounter()

    async def send(item: Planned, _worker: int) -> Outcome:
        async with sessionmaker() as session:
            async with UnitOfWork(session):
                confirmation = await receive_confirmation(
                    session, data=item.model, actor=actor, now=datetime.now(UTC)
                )
            return confirmation.status, confirmation.trade_id, list(confirmation.candidates)

    phase.profile = profile
    profiler = Profiler(os.getpid(), profile) if profile else None
    meter = CpuMeter([], monitor, db.name)
    start, stop = _brackets(phase, meter, WaitSampler(db.url, db.name), profiler)

    async def counted_start() -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
        await start()

    async def counted_stop() -> None:
        await stop()
        event.remove(engine.sync_engine, "before_cursor_execute", counter)

    try:
        await drive(phase, plan, send, workers=workers, start=counted_start, stop=counted_stop)
    finally:
        await engine.dispose()
    phase.statements = counter.counts
    return phase


# --- Checks against the database --------------------------------------------------------------


async def database_check(
    monitor: asyncpg.Connection, phases: Sequence[Phase], warm: int
) -> list[list[str]]:
    """The confirmations and trades in the database against what the phases reported."""
    by_status = dict(
        await monitor.fetch("SELECT status, count(*) FROM confirmations GROUP BY status")
    )
    trades = dict(await monitor.fetch("SELECT status, count(*) FROM trades GROUP BY status"))
    matched = sum(p.outcomes["matched"] for p in phases) + warm
    expected = {
        "confirmations matched": (
            sum(p.generated["matched"] for p in phases) + warm,
            by_status.get("matched", 0),
        ),
        "confirmations unmatched": (
            sum(p.generated["unmatched"] for p in phases),
            by_status.get("unmatched", 0),
        ),
        "confirmations alleged": (
            sum(p.generated["alleged"] for p in phases),
            by_status.get("alleged", 0),
        ),
        "trades confirmed": (matched, trades.get("confirmed", 0)),
        "trades mismatched": (sum(p.about_trade for p in phases), trades.get("mismatched", 0)),
    }
    return [
        [name, fmt_int(want), fmt_int(got), "yes" if want == got else "NO"]
        for name, (want, got) in expected.items()
    ]


async def explain_economics(db: BenchDatabase, planned: Planned) -> str:
    """The plan of _find_trade's economics query for one confirmation, in one line."""
    body = planned.body
    connection = await _connect(db.url)
    try:
        lines = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM trades "
            "WHERE counterparty_lei = $1 AND isin = $2 AND trade_date = $3 AND side = $4 "
            "AND status IN ('captured', 'mismatched')",
            body["counterparty_lei"],
            body["isin"],
            date.fromisoformat(body["trade_date"]),
            _OPPOSITE[body["side"]],
        )
    finally:
        await connection.close()
    text = [" ".join(str(r[0]).split()) for r in lines]
    keep = [t for t in text if not t.startswith(("Planning", "Execution"))][:4]
    timing = [t for t in text if t.startswith("Execution")]
    return "; ".join(keep + timing)


# --- Profiles ---------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")
NO_FRAME = "no Python frame (C: uvloop, httptools, asyncpg's protocol)"
# Where the running (leaf) frame's file is, most specific first: (file prefix, area).
_AREAS: tuple[tuple[str, str], ...] = (
    ("sqlalchemy/orm/loading.py", "SQLAlchemy ORM: rows into objects"),
    ("sqlalchemy/orm/state.py", "SQLAlchemy ORM: rows into objects"),
    ("sqlalchemy/orm/instrumentation.py", "SQLAlchemy ORM: rows into objects"),
    ("sqlalchemy/orm/attributes.py", "SQLAlchemy ORM: rows into objects"),
    ("sqlalchemy/orm/identity.py", "SQLAlchemy ORM: rows into objects"),
    ("sqlalchemy/orm/context.py", "SQLAlchemy ORM: rows into objects"),
    ("sqlalchemy/orm/persistence.py", "SQLAlchemy ORM: flush (unit of work)"),
    ("sqlalchemy/orm/unitofwork.py", "SQLAlchemy ORM: flush (unit of work)"),
    ("sqlalchemy/orm/bulk_persistence.py", "SQLAlchemy ORM: flush (unit of work)"),
    ("sqlalchemy/orm/dependency.py", "SQLAlchemy ORM: flush (unit of work)"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM: session, other"),
    ("sqlalchemy/sql/", "SQLAlchemy: statements, cache keys, compile"),
    ("sqlalchemy/", "SQLAlchemy: engine, asyncpg adapter, greenlet"),
    ("asyncpg/", "asyncpg"),
    ("asyncio/", "event loop"),
    ("uvloop/", "event loop"),
    ("selectors.py", "event loop"),
    ("uvicorn/", "HTTP: uvicorn, starlette, fastapi, pydantic"),
    ("starlette/", "HTTP: uvicorn, starlette, fastapi, pydantic"),
    ("fastapi/", "HTTP: uvicorn, starlette, fastapi, pydantic"),
    ("pydantic", "HTTP: uvicorn, starlette, fastapi, pydantic"),
    ("h11/", "HTTP: uvicorn, starlette, fastapi, pydantic"),
    ("structlog/", "logging and metrics"),
    ("logging/", "logging and metrics"),
    ("prometheus_client/", "logging and metrics"),
    ("json/", "json"),
    ("app/audit/", "app: audit chain and outbox"),
    ("app/", "app: the rest"),
    ("bench/", "this benchmark"),
)


def _leaf(stack: str) -> tuple[str, str]:
    """(function, file) of the innermost frame of a py-spy raw stack."""
    text = stack.rsplit(";", 1)[-1]
    match = _FRAME.match(text)
    if not match:
        return text or NO_FRAME, ""
    return match["function"], match["file"]


def _area(file: str) -> str:
    if not file:
        return NO_FRAME
    return next((area for prefix, area in _AREAS if file.startswith(prefix)), "other")


def folded_stacks(path: Path) -> Iterator[tuple[str, int]]:
    """py-spy's raw (folded) output: each stack, frames joined by ``;``, with its samples."""
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if number.isdigit():
            yield stack, int(number)


def profile_tables(path: Path, top: int = 15) -> tuple[int, list[list[str]], list[list[str]]]:
    """From py-spy's raw output (sampled with --gil: Python holding the GIL): samples, time by
    area of the running frame, and the functions with the most time of their own.

    By the running frame only: SQLAlchemy runs its work in greenlets, whose stacks py-spy
    reports without the coroutine that called them, so inclusive times would undercount."""
    by_area: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for stack, samples in folded_stacks(path):
        total += samples
        function, file = _leaf(stack)
        by_area[_area(file)] += samples
        by_function[f"{function} ({file})" if file else function] += samples
    if not total:
        return 0, [], []

    def share(n: int) -> str:
        return f"{100 * n / total:.1f}%"

    areas = [[name, share(n)] for name, n in by_area.most_common()]
    functions = [[name, share(n)] for name, n in by_function.most_common(top)]
    return total, areas, functions


# --- The run ----------------------------------------------------------------------------------


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _app_digest() -> str:
    """A short digest of app/*.py as run, to tell which code a result belongs to."""
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _run_tag() -> str:
    return datetime.now(UTC).strftime("%H%M%S")


def _spread(values: Sequence[int]) -> str:
    if not values:
        return "-"
    return (
        f"mean {sum(values) / len(values):,.1f}, p50 {percentile(values, 50):,.0f}, "
        f"min {min(values):,}, max {max(values):,} over {len(values):,} keys"
    )


@dataclass
class Setup:
    load: Load
    days: list[date]
    plans: dict[str, Plan]  # by phase code: H (a), P (b1), C (b2)
    plan_line: str


async def prepare(args: argparse.Namespace, db: BenchDatabase, codes: Sequence[str]) -> Setup:
    """Load the trades; plan each phase's confirmations on its own trades."""
    tag = _run_tag()
    days = Calendars().trading_days(WINDOW_END, args.days)
    booked: list[Booked] = []
    load = await load_trades(db, booked, trades=args.trades, days=days, seed=args.seed)
    rng = random.Random(args.seed + 1)
    order = iter(rng.sample(booked, k=len(booked)))
    plans = {
        code: plan_phase(
            order, rng, count=args.confirmations, warmup=WARMUP, prefix=f"CP{code}{tag}"
        )
        for code in codes
    }
    del booked, order
    gc.collect()
    gc.freeze()  # the plans live to the end: keep them out of the collector's scans
    example = next(p for p in plans[codes[0]].measured if p.kind == "matched")
    return Setup(load, days, plans, await explain_economics(db, example))


async def run_phases(
    args: argparse.Namespace,
    db: BenchDatabase,
    monitor: asyncpg.Connection,
    plans: dict[str, Plan],
    profile_dir: Path | None,
) -> tuple[list[Phase], list[list[str]]]:
    """The phases, and the servers' peak RSS."""
    phases: list[Phase] = []
    memory: list[list[str]] = []
    if "H" in plans:
        async with running_servers(
            args.servers, db.url, app_log_level=args.app_log_level
        ) as servers:
            print("servers: " + ", ".join(f"{s.base_url} (pid {s.pid})" for s in servers))
            sys.stdout.flush()
            async with asyncio.timeout(args.phase_timeout):
                phases.append(
                    await http_phase(
                        servers,
                        db,
                        monitor,
                        plans["H"],
                        concurrency=args.concurrency,
                        idempotency=args.idempotency_key,
                        profile=profile_dir / "http-server.txt" if profile_dir else None,
                    )
                )
            for server in servers:
                server.sample()
                memory.append([f"uvicorn pid {server.pid}", fmt_mib(server.peak_rss_kib)])
    for code, workers, label in (("P", 1, "(b1)"), ("C", args.concurrency, "(b2)")):
        if code not in plans:
            continue
        async with asyncio.timeout(args.phase_timeout):
            phases.append(
                await inproc_phase(
                    db,
                    monitor,
                    plans[code],
                    workers=workers,
                    label=label,
                    profile=profile_dir / f"inproc-{workers}.txt" if profile_dir else None,
                )
            )
    return phases, memory


def _short(phase: Phase) -> str:
    return phase.name.split(" ", 1)[0]


def print_load(setup: Setup) -> None:
    load = setup.load
    rows = [
        ["generate rows (Python)", fmt_int(load.rows), f"{load.generate_s:.2f}", "-"],
        [
            f"asyncpg COPY into trades ({COPY_CHUNK:,}/transaction)",
            fmt_int(load.rows),
            f"{load.copy_s:.2f}",
            fmt_int(load.rows / load.copy_s if load.copy_s else 0),
        ],
        ["ANALYZE trades", "-", f"{load.analyze_s:.2f}", "-"],
    ]
    print(render_table(["step", "rows", "seconds", "rows/s"], rows, title="Load"))
    print(
        f"trade dates {setup.days[0]} .. {setup.days[-1]} ({len(setup.days)} trading days); "
        f"trades per (counterparty, ISIN, date): {_spread(load.per_key)}; per (counterparty, "
        f"ISIN, date, side), what the economics query returns: {_spread(load.per_key_side)}"
    )
    print(f"economics query for one confirmation: {setup.plan_line}")


def print_outcomes(phases: Sequence[Phase], checks: list[list[str]]) -> None:
    rows = []
    for phase in phases:
        for kind in KINDS:
            want, got = phase.generated[kind], phase.outcomes[kind]
            rows.append([phase.name, kind, fmt_int(want), fmt_int(got), _ok(want == got)])
        bad = phase.errors + phase.wrong
        rows.append([phase.name, "errors / wrong trade", "0", fmt_int(bad), _ok(not bad)])
    print(
        render_table(
            ["phase", "outcome", "generated", "observed", "ok"],
            rows,
            title="Outcomes (each confirmation checked: status, and the trade it names)",
        )
    )
    print()
    print(
        render_table(
            ["database after the run", "expected", "found", "ok"],
            checks,
            title=f"Database (including {WARMUP} warm-up matches per phase)",
        )
    )


def _ok(good: bool) -> str:
    return "yes" if good else "NO"


def print_states(phases: Sequence[Phase]) -> None:
    states = Counter[str]()
    for phase in phases:
        if phase.waits is not None:
            states.update(phase.waits.samples)
    rows = [
        [state, *(fmt_pct(p.waits.share(state)) if p.waits else "-" for p in phases)]
        for state, _ in states.most_common()
    ]
    rows.append(
        [
            "mean connections seen",
            *(f"{p.waits.mean_connections:.1f}" if p.waits else "-" for p in phases),
        ]
    )
    print(
        render_table(
            ["app's PostgreSQL connections", *(_short(p) for p in phases)],
            rows,
            title="What the app's connections were doing (share of pg_stat_activity samples)",
        )
    )


def print_statements(phases: Sequence[Phase]) -> None:
    counted = [(p, p.statements) for p in phases if p.statements is not None and p.count]
    if not counted:
        return
    labels = Counter[str]()
    for _, statements in counted:
        labels.update(statements)
    rows = [
        [label, *(f"{statements[label] / p.count:.2f}" for p, statements in counted)]
        for label, _ in labels.most_common()
    ]
    rows.append(
        ["total", *(f"{sum(statements.values()) / p.count:.2f}" for p, statements in counted)]
    )
    print()
    print(
        render_table(
            ["SQL statements per confirmation", *(_short(p) for p, _ in counted)],
            rows,
            title="Statements (b) sends (plus BEGIN, COMMIT and the pool's pre-ping)",
        )
    )


def print_profiles(phases: Sequence[Phase]) -> None:
    for phase in phases:
        if phase.profile is None or not phase.profile.exists():
            continue
        total, areas, functions = profile_tables(phase.profile)
        print()
        print(
            f"py-spy, {phase.name}: {total:,} samples holding the GIL at 100 Hz ({phase.profile})"
        )
        print(render_table(["where the running frame is", "share"], areas))
        print(render_table(["function (own time)", "share"], functions))


def report(
    setup: Setup, phases: Sequence[Phase], checks: list[list[str]], memory: list[list[str]]
) -> int:
    print()
    print_load(setup)
    print()
    print(render_table(PHASE_HEADERS, [p.row() for p in phases], title="Throughput"))
    print(
        "(latency: one confirmation, end to end for (a), one transaction for (b); app CPU: the "
        "uvicorn process(es) for (a), this process for (b); CPU in % of one core for processes, "
        "of all cores for the host; other: host busy time not used by the app, its PostgreSQL "
        "backends or the client, in % of one core: high means a noisy neighbour)"
    )
    print()
    print_outcomes(phases, checks)
    print()
    print_states(phases)
    print_statements(phases)
    print_profiles(phases)
    print()
    memory = [*memory, [f"bench client pid {os.getpid()} (and (b))", fmt_mib(peak_rss_kib())]]
    print(render_table(["process", "peak RSS (VmHWM)"], memory, title="Memory"))
    print()
    print(f"load average at the end: {_load_average()}")
    noisy = [p for p in phases if p.cpu is not None and Phase.other_cpu(p.cpu) > NOISE_PCT]
    if noisy:
        print(
            "WARNING: other processes used more than "
            f"{NOISE_PCT:.0f}% of a core during "
            + ", ".join(f"{_short(p)} ({fmt_pct(Phase.other_cpu(p.cpu))})" for p in noisy if p.cpu)
            + ": those numbers are not clean; run again on a quiet host",
            file=sys.stderr,
        )
    failed = [p.name for p in phases if p.errors or p.wrong or p.outcomes != p.generated]
    failed += [row[0] for row in checks if row[-1] != "yes"]
    if failed:
        print(
            "\nFAILED: outcomes differ from what was generated: " + "; ".join(failed),
            file=sys.stderr,
        )
        return 1
    return 0


async def run(args: argparse.Namespace) -> int:
    codes = (["H"] if args.mode in ("http", "both") else []) + (
        ["P", "C"] if args.mode in ("inproc", "both") else []
    )
    profile_dir = Path(args.py_spy) if args.py_spy else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    db = await prepare_database(args.database, args.pg_url)
    try:
        monitor = await _connect(db.url)
        try:
            version = await monitor.fetchval("SHOW server_version")
            sync = await monitor.fetchval("SHOW synchronous_commit")
            print(
                f"host: {os.cpu_count()} cores, load average {_load_average()}, Python "
                f"{platform.python_version()} ({args.loop} loop in this process), PostgreSQL "
                f"{version} (synchronous_commit {sync}); database {db.name}; app log level "
                f"{args.app_log_level}; Idempotency-Key "
                f"{'sent' if args.idempotency_key else 'not sent'}; app/ digest {_app_digest()}"
            )
            sys.stdout.flush()
            setup = await prepare(args, db, codes)
            print(f"trades loaded: {setup.load.rows:,}")
            sys.stdout.flush()
            phases, memory = await run_phases(args, db, monitor, setup.plans, profile_dir)
            checks = await database_check(monitor, phases, warm=WARMUP * len(phases))
        finally:
            await monitor.close()
        return report(setup, phases, checks, memory)
    finally:
        if not args.keep_database:
            await drop_database(db.name, args.pg_url)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n")[0])
    parser.add_argument("--trades", type=int, default=100_000, help="captured trades to load")
    parser.add_argument(
        "--confirmations", type=int, default=5_000, help="measured confirmations per phase"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="HTTP clients / workers")
    parser.add_argument("--mode", choices=("http", "inproc", "both"), default="both")
    parser.add_argument("--servers", type=int, default=1, help="uvicorn processes for (a)")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop of this process, so of (b) (uvicorn picks uvloop when installed)",
    )
    parser.add_argument("--days", type=int, default=20, help="trading days the trades span")
    parser.add_argument("--seed", type=int, default=20261124, help="random seed of the data")
    parser.add_argument(
        "--idempotency-key", action="store_true", help="send an Idempotency-Key in (a)"
    )
    parser.add_argument("--py-spy", metavar="DIR", help="profile each phase with py-spy into DIR")
    add_server_arguments(parser, database="settlement_bench_confirmations", phase_timeout=600)
    args = parser.parse_args(argv)
    limits = {
        "--trades": (args.trades, 1_000, 2_000_000),
        "--confirmations": (args.confirmations, 50, 200_000),
        "--concurrency": (args.concurrency, 1, 256),
        "--days": (args.days, 1, 2_000),
        "--servers": (args.servers, 1, 16),
    }
    check_limits(parser, limits)
    phases = 1 if args.mode == "http" else 2 if args.mode == "inproc" else 3
    needed = phases * (args.confirmations + WARMUP)
    if needed > args.trades:
        parser.error(f"{phases} phase(s) need {needed:,} distinct trades: raise --trades")
    sides = len(SECURITIES) * len(COUNTERPARTY_LEIS) * args.days * 2
    if args.trades > sides * MAX_PER_SIDE:
        parser.error(f"--trades above {sides * MAX_PER_SIDE:,} needs more --days")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    print("$ " + shlex.join([sys.executable, "-m", PROG, *argv]))
    sys.stdout.flush()
    args = parse_args(argv)
    with asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
        return runner.run(run(args))


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if name == "asyncio":
        return None
    import uvloop  # installed with uvicorn[standard]; imported only when asked for

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


if __name__ == "__main__":
    raise SystemExit(main())
