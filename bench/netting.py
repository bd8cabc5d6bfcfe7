"""Clearing (novation + netting + instructions) of a whole settlement date, in process, against
PostgreSQL, next to a plain SQL ``GROUP BY`` computing the same netting over the same rows.

    python -m bench.netting [--trades 1000000] [--isins 200] [--counterparties 50] [--quick]
                            [--settlement-date 2026-11-25] [--group-by-runs 3] [--py-spy DIR]

1. A fresh database (``--database``; bench.common: migrated through Alembic, demo reference data,
   one API key per role), dropped at the end unless ``--keep-database``.
2. Reference for scale, created through ``app.reference.service`` in one transaction:
   ``--isins`` equities with valid ISINs (python-stdnum check digits) spread over the demo
   markets -- 30 % XNYS (CCP NSCC, USD), 25 % XPAR (CCP LCH SA, EUR), 25 % XETR (CCP Eurex, EUR),
   20 % XOFF (no CCP: off venue, EUR) -- and ``--counterparties`` counterparties with valid LEIs
   (ISO 7064 mod 97-10), every fourth with ``netting = "none"`` (settles gross, one obligation
   per trade), the others ``"bilateral"``, each with one SSI for XOFF so that their obligations
   are instructed instead of waiting in repair. The demo already has our safekeeping accounts
   per market, CASH-USD and CASH-EUR, and the three CCPs as counterparties (BIC = the market's
   ``ccp``).
3. ``--trades`` trades loaded by asyncpg COPY straight into ``trades`` (generated and copied in
   chunks of 20,000, so the load does not raise this process's peak memory), status
   ``confirmed``, all due on ``--settlement-date`` (trade dates from the demo calendars and
   cycles: T+1 at XNYS, T+2 in the EU), random ISIN, counterparty, side, quantity (10 to 10,000
   shares) and price (around a per-ISIN price), currency and venue of the instrument, gross,
   commission (3 bp, at least 1.00), a sell fee and net amount in exact Decimals
   (``bench.confirmations.amounts``, as the trade service prices them). No confirmation rows and
   no journal entries: clearing needs neither (novation posts one entry per chunk). Then
   ``VACUUM ANALYZE trades``.
4. A plain SQL ``GROUP BY`` over the rows due on the date (by ``settlement_date``, not by status,
   so it reads the same rows before and after clearing), computing the same netting: per netting
   set and counterparty of record (the CCP of the trade's venue; else the counterparty, one
   group per trade when its agreement says gross), ISIN, currency and settlement date: sum of
   signed quantity, sum of signed net amount, count. Run ``--group-by-runs`` times before the
   clearing run and once after it; all its rows are fetched by the client.
5. The clearing run, timed, exactly as ``POST /api/v1/clearing-runs`` does it: in a
   ``UnitOfWork`` session ``count_clearable`` and ``start_run``, commit; then
   ``app.clearing.service.process_run(sessionmaker, run_id=..., actor=..., clock=...)``, which
   clears chunk by chunk (one transaction each: trades SELECT ... FOR UPDATE SKIP LOCKED,
   resolve, net, obligations, obligation_trades, trades -> ``cleared`` with audit records and
   outbox events, the novation journal entry), then instructs the obligations and moves their
   trades to ``instructed`` and completes the run, in as many transactions as the service uses
   (each transaction is told apart by what it writes). Printed: per kind of transaction and in
   all, wall time and trades/s (from ``start_run`` to the end of ``process_run``), CPU of this
   process and of PostgreSQL's backends, what the app's connection was doing (pg_stat_activity),
   obligations and instructions made, the run's report (netting efficiency per CCP and netting
   set), and where the time went, per chunk cleared and after the chunks: SQL statements by kind
   (SQLAlchemy cursor events), the audit write at commit, the COMMIT itself, and Python (the
   rest). Nothing in the app is wrapped or patched: engine and session events only.
6. GROUP BY time / clearing time: the goal of issue 6 is >= 0.5 (the fastest GROUP BY run is
   taken: the conservative choice).
7. Checks (the run fails when one does not hold): the run completed with every trade processed
   and none left out; every trade due is cleared or instructed, in exactly one obligation; the
   obligations equal the GROUP BY row for row (same keys, net quantity, net amount, trade count),
   and per ISIN and currency the obligations, the GROUP BY and what was generated sum to the same
   quantity, amount and count; CCP trades have the CCP as counterparty of record; the novation
   entries balance, and what they move to each CCP equals the GROUP BY's CCP nets; one
   instruction per obligation that moves something, none in repair; the audit trail grew by one
   record per change.
8. Memory of this process: resident set size after every commit of the run and every 0.5 s
   (/proc/self/statm), and the peak (getrusage) after each stage: flat over the chunks means
   memory grows with netting keys, not with trades.

``--py-spy DIR`` also samples this process with py-spy during the clearing run (GIL holder,
100 Hz; py-spy from this venv or PATH) and prints where the Python time went; it takes CPU from
the run, so take the throughput from a run without it. ``--quick`` is a smoke run (20,000
trades). PostgreSQL only. Everything talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import re
import shlex
import statistics
import sys
import time as clock
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from stdnum import isin as isin_code
from stdnum import lei as lei_code
from stdnum.iso7064 import mod_97_10

from app.clearing.runs import service as clearing
from app.clearing.runs import work as clearing_work
from app.core.auth import Actor, Role
from app.core.calendars import BusinessCalendar
from app.core.clock import system_clock
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.ids import new_id
from app.positions.ledger_accounts import codes as ledger_accounts
from app.reference import demo_data
from app.reference.counterparties.schemas import CounterpartyIn
from app.reference.counterparties.service import create_counterparty
from app.reference.instruments.schemas import InstrumentIn
from app.reference.instruments.service import create_instrument
from app.reference.ssis.schemas import SsiIn
from app.reference.ssis.service import create_ssi
from bench.common import (
    DEFAULT_PG_URL,
    TRADE_COLUMNS,
    BenchDatabase,
    CpuMeter,
    check_limits,
    connect_kwargs,
    drop_database,
    fmt_int,
    fmt_pct,
    percentile,
    prepare_database,
    render_table,
)
from bench.confirmations import (
    MONITOR_APP,
    Calendars,
    Profiler,
    Security,
    WaitSampler,
    amounts,
)
from bench.run_metrics import (
    Recorder,
    RssSampler,
    Segment,
    load_average,
    peak_rss_mib,
    print_profile,
    rss_mib,
)

PROG = "bench.netting"
ZERO = Decimal(0)
SETTLEMENT_DATE = date(2026, 11, 25)  # a Wednesday: T+1 from XNYS's Tue 24th, T+2 from Mon 23rd
COPY_CHUNK = 20_000
GOAL = 0.5  # GROUP BY seconds / clearing seconds (issue 6)
# Instruments per market, in percent; currency and ISIN country of each.
MARKET_SHARES: tuple[tuple[str, int], ...] = (
    ("XNYS", 30),
    ("XPAR", 25),
    ("XETR", 25),
    ("XOFF", 20),
)
_CURRENCY = {"XNYS": "USD", "XPAR": "EUR", "XETR": "EUR", "XOFF": "EUR"}
_ISIN_COUNTRY = {"XNYS": "US", "XPAR": "FR", "XETR": "DE", "XOFF": "XS"}
_SESSION_OPEN_UTC = {"XNYS": timedelta(hours=14, minutes=30)}  # the others: 08:00 UTC
_EU_OPEN_UTC = timedelta(hours=8)
GROSS_EVERY = 4  # every fourth counterparty settles gross (netting "none"); the rest bilateral
XOFF_CSD = "MGTCBEBEECL"  # Euroclear Bank: where the off-venue trades settle
SSI_AGENT = "DEUTDEFF"
QUANTITY_STEPS = (1, 1_000)  # x 10 shares
_CCP_NAMES = {c["lei"]: c["name"] for c in demo_data.COUNTERPARTIES}

DEFAULTS: dict[str, Any] = {"trades": 1_000_000}
QUICK: dict[str, Any] = {"trades": 20_000}


# --- The universe: instruments, counterparties, dates -----------------------------------------


@dataclass(frozen=True)
class Party:
    lei: str
    name: str
    netting: str  # "bilateral" or "none"


@dataclass(frozen=True)
class Universe:
    securities: tuple[Security, ...]
    parties: tuple[Party, ...]
    settlement_date: date
    trade_dates: dict[str, date]  # per venue

    def count(self, mic: str) -> int:
        return sum(1 for s in self.securities if s.venue == mic)


def _isin(country: str, n: int) -> str:
    base = f"{country}BN{n:07d}"
    return base + isin_code.calc_check_digit(base)


def _lei(n: int) -> str:
    base = f"5493NT{n:012d}"  # 18 characters: the LOU prefix, then the entity part
    return base + mod_97_10.calc_check_digits(base)


def allocate(total: int, shares: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``shares`` (largest remainder), at least one each."""
    weight = sum(shares)
    exact = [total * share / weight for share in shares]
    counts = [max(1, int(value)) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in order[: max(0, total - sum(counts))]:
        counts[i] += 1
    return counts


def trade_dates(settlement: date) -> dict[str, date]:
    """Per demo market, the trading day whose settlement date (the demo cycle and calendars)
    is ``settlement``."""
    calendars = Calendars()
    found: dict[str, date] = {}
    for market in demo_data.MARKETS:
        mic = market["mic"]
        trading = BusinessCalendar([market["calendar"]])
        day = settlement
        for _ in range(10):
            day -= timedelta(days=1)
            if trading.is_business_day(day) and calendars.settlement_date(mic, day) == settlement:
                found[mic] = day
                break
        else:
            raise ValueError(f"{settlement} is no settlement date at {mic}: choose another")
    return found


def build_universe(isins: int, counterparties: int, settlement: date, seed: int) -> Universe:
    rng = random.Random(seed)
    securities = []
    n = 0
    for (mic, _), count in zip(
        MARKET_SHARES, allocate(isins, [s for _, s in MARKET_SHARES]), strict=True
    ):
        for _ in range(count):
            n += 1
            securities.append(
                Security(
                    isin=_isin(_ISIN_COUNTRY[mic], n),
                    currency=_CURRENCY[mic],
                    venue=mic,
                    book="EQ-FLOW",
                    bond=False,
                    price=Decimal(rng.randrange(500, 50_000)).scaleb(-2),
                    tick=Decimal("0.01"),
                )
            )
    parties = tuple(
        Party(
            lei=_lei(i),
            name=f"Bench netting counterparty {i:03d}",
            netting="none" if i % GROSS_EVERY == 0 else "bilateral",
        )
        for i in range(1, counterparties + 1)
    )
    assert all(lei_code.is_valid(p.lei) for p in parties)
    assert all(isin_code.is_valid(s.isin) for s in securities)
    return Universe(tuple(securities), parties, settlement, trade_dates(settlement))


async def create_reference(
    sessionmaker: async_sessionmaker[AsyncSession], universe: Universe, *, actor: Actor
) -> float:
    """Instruments, counterparties and their XOFF SSIs through the reference service, in one
    transaction. Returns the seconds it took."""
    started = clock.perf_counter()
    now = system_clock()
    async with sessionmaker() as session, UnitOfWork(session):
        for security in universe.securities:
            data = InstrumentIn.model_validate(
                {
                    "isin": security.isin,
                    "name": f"Bench equity {security.isin}",
                    "type": "equity",
                    "currency": security.currency,
                    "mic": security.venue,
                    "csdr_class": "liquid_share",
                    "settlement_unit": "1",
                    "price_basis": "unit",
                }
            )
            await create_instrument(session, data=data, actor=actor, now=now)
        for party in universe.parties:
            await create_counterparty(
                session,
                data=CounterpartyIn.model_validate(
                    {"lei": party.lei, "name": party.name, "netting": party.netting}
                ),
                actor=actor,
                now=now,
            )
        await session.flush()
        for n, party in enumerate(universe.parties, start=1):
            ssi = SsiIn.model_validate(
                {
                    "counterparty_lei": party.lei,
                    "mic": "XOFF",
                    "place_of_settlement": XOFF_CSD,
                    "agent_bic": SSI_AGENT,
                    "account": f"BENCH-NT-{n:03d}-EB",
                }
            )
            await create_ssi(session, data=ssi, actor=actor, now=now)
    return clock.perf_counter() - started


# --- The trades -------------------------------------------------------------------------------


@dataclass
class Totals:
    """Signed from our side, as netting sees it: a buy receives securities and pays cash."""

    quantity: Decimal = ZERO
    amount: Decimal = ZERO
    trades: int = 0


@dataclass
class Load:
    rows: int = 0
    generate_s: float = 0.0
    copy_s: float = 0.0
    vacuum_s: float = 0.0
    reference_s: float = 0.0
    expected: dict[tuple[str, str], Totals] = field(default_factory=dict)


def generate_rows(
    universe: Universe,
    start: int,
    count: int,
    rng: random.Random,
    expected: dict[tuple[str, str], Totals],
    *,
    created_by: str,
    now: datetime,
) -> list[tuple[Any, ...]]:
    """Trades ``start`` .. ``start + count - 1`` as ``trades`` rows in TRADE_COLUMNS order;
    adds each to ``expected`` (per ISIN and currency)."""
    rows: list[tuple[Any, ...]] = []
    securities, parties = universe.securities, universe.parties
    for n in range(start, start + count):
        security = rng.choice(securities)
        party = rng.choice(parties)
        side = "buy" if rng.random() < 0.5 else "sell"
        quantity = Decimal(rng.randint(*QUANTITY_STEPS) * 10)
        price = max(security.price + security.tick * rng.randint(-200, 200), security.tick)
        money = amounts(security, side, quantity, price)
        day = universe.trade_dates[security.venue]
        opens = _SESSION_OPEN_UTC.get(security.venue, _EU_OPEN_UTC)
        trade_time = datetime(day.year, day.month, day.day, tzinfo=UTC) + opens
        trade_time += timedelta(seconds=rng.randrange(6 * 3600))
        rows.append(
            (
                new_id("trd"),
                f"NET-{n:08d}",
                security.book,
                party.lei,
                security.isin,
                side,
                quantity,
                price,
                security.currency,
                day,
                trade_time,
                security.venue,
                universe.settlement_date,
                money.commission,
                money.fees,
                None,  # accrued interest: equities only
                money.gross,
                money.net,
                "confirmed",
                1,
                now,
                now,
                created_by,
                None,
            )
        )
        totals = expected.setdefault((security.isin, security.currency), Totals())
        buy = side == "buy"
        totals.quantity += quantity if buy else -quantity
        totals.amount += -money.net if buy else money.net
        totals.trades += 1
    return rows


async def _connect(db: BenchDatabase) -> asyncpg.Connection:
    return await asyncpg.connect(
        **connect_kwargs(db.url), server_settings={"application_name": MONITOR_APP}
    )


async def load_trades(
    monitor: asyncpg.Connection,
    universe: Universe,
    load: Load,
    *,
    trades: int,
    created_by: str,
    seed: int,
) -> None:
    """Generate and COPY in chunks of COPY_CHUNK (one transaction each), then VACUUM ANALYZE."""
    rng = random.Random(seed)
    now = system_clock()
    done = 0
    while done < trades:
        size = min(COPY_CHUNK, trades - done)
        started = clock.perf_counter()
        rows = generate_rows(
            universe, done, size, rng, load.expected, created_by=created_by, now=now
        )
        load.generate_s += clock.perf_counter() - started
        started = clock.perf_counter()
        async with monitor.transaction():
            await monitor.copy_records_to_table("trades", records=rows, columns=TRADE_COLUMNS)
        load.copy_s += clock.perf_counter() - started
        done += size
        del rows
        if done % (COPY_CHUNK * 10) == 0 or done == trades:
            print(f"  load: {done:,} trades", file=sys.stderr)
    started = clock.perf_counter()
    await monitor.execute("VACUUM ANALYZE trades")
    load.vacuum_s = clock.perf_counter() - started
    load.rows = await monitor.fetchval(
        "SELECT count(*) FROM trades WHERE settlement_date = $1", universe.settlement_date
    )


# --- The plain SQL GROUP BY -------------------------------------------------------------------

GROUP_BY_SQL = """
SELECT CASE WHEN m.ccp IS NOT NULL THEN 'ccp'
            WHEN c.netting = 'bilateral' THEN 'bilateral'
            ELSE 'gross' END AS netting_set,
       coalesce(ccp.lei, t.counterparty_lei) AS counterparty,
       t.isin, t.currency, t.settlement_date,
       CASE WHEN m.ccp IS NULL AND c.netting <> 'bilateral' THEN t.id END AS gross_trade,
       sum(CASE WHEN t.side = 'buy' THEN t.quantity ELSE -t.quantity END) AS net_quantity,
       sum(CASE WHEN t.side = 'buy' THEN -t.net_amount ELSE t.net_amount END) AS net_amount,
       count(*) AS trades
FROM trades t
JOIN markets m ON m.mic = t.venue
JOIN counterparties c ON c.lei = t.counterparty_lei
LEFT JOIN counterparties ccp ON ccp.bic = m.ccp
WHERE t.settlement_date = $1
GROUP BY 1, 2, 3, 4, 5, 6
"""

Key = tuple[str, str, str, str, date, str | None]  # set, counterparty, ISIN, ccy, date, trade


@dataclass
class GroupByRun:
    when: str
    seconds: float
    rows: int


@dataclass
class GroupBy:
    runs: list[GroupByRun] = field(default_factory=list)
    result: dict[Key, Totals] = field(default_factory=dict)
    plan: str = ""

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)


async def group_by(monitor: asyncpg.Connection, day: date, when: str, out: GroupBy) -> None:
    started = clock.perf_counter()
    rows = await monitor.fetch(GROUP_BY_SQL, day)
    seconds = clock.perf_counter() - started
    out.runs.append(GroupByRun(when, seconds, len(rows)))
    out.result = {(r[0], r[1], r[2], r[3], r[4], r[5]): Totals(r[6], r[7], r[8]) for r in rows}


async def group_by_plan(monitor: asyncpg.Connection, day: date) -> str:
    """The plan's node names and parallel workers, in one line."""
    lines = await monitor.fetch("EXPLAIN " + GROUP_BY_SQL, day)
    nodes = []
    for (text,) in lines:
        stripped = str(text).strip().removeprefix("->").strip()
        name = stripped.split("  (", 1)[0]
        if stripped.startswith("Workers Planned"):
            nodes.append(stripped)
        elif "(cost=" in stripped:
            nodes.append(name)
    return " > ".join(nodes)


# --- The clearing run -------------------------------------------------------------------------

# Transactions of a run, by what they write (process_run's structure is the app's to change).
START = "count_clearable + start_run"
CLEAR = "clear a chunk: trades -> cleared, obligations, novation"
INSTRUCT = "create the instructions"
INSTRUCTED = "trades -> instructed"
FINISH = "complete the run (and anything else)"
KINDS = (START, CLEAR, INSTRUCT, INSTRUCTED, FINISH)


def kind_of(segment: Segment) -> str:
    """What a transaction of the run did, by the statements it sent."""
    if segment.sql_n["INSERT obligation_trades"]:
        return CLEAR
    if segment.sql_n["INSERT settlement_instructions"]:
        return INSTRUCT
    if segment.sql_n["UPDATE trades"]:
        return INSTRUCTED
    if segment.sql_n["INSERT clearing_runs"]:
        return START
    return FINISH


@dataclass
class Clearing:
    run_id: str = ""
    started: float = 0.0  # perf_counter at start_run
    wall: float = 0.0  # start_run .. end of process_run
    segments: list[Segment] = field(default_factory=list)
    tail: Segment | None = None  # statements after the last commit (none expected)
    cpu: CpuMeter | None = None
    waits: WaitSampler | None = None
    rss: RssSampler = field(default_factory=RssSampler)
    rss_before: float = 0.0
    rss_after: float = 0.0
    error: str | None = None

    @property
    def chunks(self) -> list[Segment]:
        """The transactions that cleared a chunk of trades."""
        return [s for s in self.segments if kind_of(s) == CLEAR]

    def of_kind(self, kind: str) -> list[Segment]:
        return [s for s in self.segments if kind_of(s) == kind]

    @property
    def chunks_end(self) -> float:
        chunks = self.chunks
        return chunks[-1].end if chunks else self.started

    @property
    def after_chunks(self) -> Segment | None:
        """Everything after the last chunk cleared (instructions, trades -> instructed, the
        run completed), as one."""
        end = self.chunks_end
        rest = [s for s in self.segments if s.end > end and kind_of(s) != CLEAR]
        if not rest:
            return None
        merged = Segment()
        for segment in rest:
            merged.add(segment)
        return merged


async def clear(
    db: BenchDatabase,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    monitor: asyncpg.Connection,
    *,
    settlement_date: date,
    actor: Actor,
    profile: Path | None,
) -> Clearing:
    """One real run, as the API does it (without HTTP)."""
    result = Clearing()
    gc.collect()
    result.rss_before = rss_mib()
    recorder = Recorder(engine)
    meter = CpuMeter([], monitor, db.name)
    waits = WaitSampler(db.url, db.name)
    profiler = Profiler(os.getpid(), profile) if profile is not None else None
    if profiler is not None:
        await profiler.start()
    await waits.start()
    await meter.start()
    result.rss.start()
    recorder.start()
    started = result.started = clock.perf_counter()
    try:
        async with sessionmaker() as session, UnitOfWork(session):
            run = await clearing.start_run(
                session,
                settlement_date=settlement_date,
                actor=actor,
                now=system_clock(),
            )
            result.run_id = run.id
        await clearing.process_run(
            sessionmaker, run_id=result.run_id, actor=actor, clock=system_clock
        )
    except Exception as error:  # reported, then the checks say what is missing
        result.error = f"{type(error).__name__}: {error}"[:500]
    finally:
        result.wall = clock.perf_counter() - started
        recorder.stop()
        await result.rss.stop()
        await meter.stop()
        await waits.stop()
        if profiler is not None:
            await profiler.stop()
    result.rss_after = rss_mib()
    result.segments = recorder.segments
    if recorder.current.sql_n:
        result.tail = recorder.current
    result.cpu, result.waits = meter, waits
    return result


# --- Checks -----------------------------------------------------------------------------------


def _ok(good: bool) -> str:
    return "yes" if good else "NO"


def _row(name: str, expected: object, found: object, good: bool | None = None) -> list[str]:
    shown = [fmt_int(v) if isinstance(v, int) else str(v) for v in (expected, found)]
    return [name, *shown, _ok(expected == found if good is None else good)]


def _key_of_obligation(row: asyncpg.Record) -> Key:
    trade = row["netting_key"].rsplit("|", 1)[1] or None
    return (
        row["netting_set"],
        row["counterparty_lei"],
        row["isin"],
        row["currency"],
        row["settlement_date"],
        trade,
    )


def _by_isin(items: Iterable[tuple[Key, Totals]]) -> dict[tuple[str, str], Totals]:
    out: dict[tuple[str, str], Totals] = defaultdict(Totals)
    for key, totals in items:
        into = out[(key[2], key[3])]
        into.quantity += totals.quantity
        into.amount += totals.amount
        into.trades += totals.trades
    return dict(out)


def _differ(a: dict[Any, Totals], b: dict[Any, Totals]) -> int:
    keys = a.keys() | b.keys()
    return sum(1 for k in keys if a.get(k, Totals()) != b.get(k, Totals()))


async def checks(
    monitor: asyncpg.Connection,
    universe: Universe,
    load: Load,
    grouped: GroupBy,
    result: Clearing,
    audit_before: int,
) -> tuple[list[list[str]], dict[str, Any]]:
    """The check table, and the run row (with its report)."""
    day, rows = universe.settlement_date, load.rows
    out: list[list[str]] = []
    run = await monitor.fetchrow("SELECT * FROM clearing_runs WHERE id = $1", result.run_id)
    run_row: dict[str, Any] = dict(run) if run is not None else {}
    report: dict[str, Any] = {}
    if run is not None:
        raw = run["report"]
        report = raw if isinstance(raw, dict) else json.loads(raw or "{}")
    out.append(_row("trades loaded (due on the date)", len_expected(load), rows))
    out.append(_row("clearing run status", "completed", run_row.get("status", "-")))
    out.append(_row("run: processed", rows, run_row.get("processed", 0)))
    out.append(_row("run: trades left out (exceptions)", 0, report.get("exceptions_count", "-")))
    statuses = dict(
        await monitor.fetch(
            "SELECT status, count(*) FROM trades WHERE settlement_date = $1 GROUP BY status", day
        )
    )
    done = statuses.get("cleared", 0) + statuses.get("instructed", 0)
    out.append(_row("trades cleared or instructed", rows, done))
    out.append(_row("trades instructed", rows, statuses.get("instructed", 0)))
    lineage = await monitor.fetchval(
        "SELECT count(*) FROM trades t JOIN obligation_trades ot ON ot.trade_id = t.id "
        "JOIN obligations o ON o.id = ot.obligation_id "
        "WHERE t.settlement_date = $1 AND o.run_id = $2 AND t.obligation_id = o.id",
        day,
        result.run_id,
    )
    out.append(_row("trades in exactly one obligation of the run (lineage = trade)", rows, lineage))
    obligations = await monitor.fetch(
        "SELECT netting_set, counterparty_lei, isin, currency, settlement_date, netting_key, "
        "net_quantity, net_amount, trade_count, direction FROM obligations WHERE run_id = $1",
        result.run_id,
    )
    made: dict[Key, Totals] = {
        _key_of_obligation(o): Totals(o["net_quantity"], o["net_amount"], o["trade_count"])
        for o in obligations
    }
    out.append(_row("obligations = GROUP BY rows", len(grouped.result), len(made)))
    out.append(
        _row("obligations differing from their GROUP BY row", 0, _differ(made, grouped.result))
    )
    by_isin_made, by_isin_sql = _by_isin(made.items()), _by_isin(grouped.result.items())
    out.append(
        _row(
            "(ISIN, currency) where obligations and GROUP BY sums differ",
            0,
            _differ(by_isin_made, by_isin_sql),
        )
    )
    out.append(
        _row(
            "(ISIN, currency) where GROUP BY and generated sums differ",
            0,
            _differ(by_isin_sql, load.expected),
        )
    )
    moving = sum(1 for o in obligations if o["direction"] != "none")
    out.append(_row("report: trades", rows, report.get("trades", 0)))
    out.append(_row("report: obligations (moving something)", moving, report.get("obligations")))
    wrong_ccp = await monitor.fetchval(
        "SELECT count(*) FROM trades t JOIN markets m ON m.mic = t.venue "
        "JOIN counterparties ccp ON ccp.bic = m.ccp WHERE t.settlement_date = $1 "
        "AND t.counterparty_of_record IS DISTINCT FROM ccp.lei",
        day,
    )
    out.append(_row("CCP trades whose counterparty of record is not the CCP", 0, wrong_ccp))
    unbalanced = await monitor.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM postings p JOIN journal_entries e "
        "ON e.id = p.entry_id WHERE e.source_type = 'clearing' AND e.source_id = $1 "
        "GROUP BY e.id, p.asset HAVING sum(p.amount) <> 0) off",
        result.run_id,
    )
    entries = await monitor.fetchval(
        "SELECT count(*) FROM journal_entries WHERE source_type = 'clearing' AND source_id = $1",
        result.run_id,
    )
    out.append(_row(f"novation entries ({entries:,}) not summing to zero per asset", 0, unbalanced))
    ccp_accounts = {
        ledger_accounts.counterparty(lei): lei
        for lei in {k[1] for k in grouped.result if k[0] == "ccp"}
    }
    moved = await monitor.fetch(
        "SELECT p.ledger_account, p.asset, sum(p.amount) AS amount FROM postings p "
        "JOIN journal_entries e ON e.id = p.entry_id WHERE e.source_type = 'clearing' "
        "AND e.source_id = $1 AND p.ledger_account = ANY($2::text[]) "
        "GROUP BY p.ledger_account, p.asset",
        result.run_id,
        list(ccp_accounts),
    )
    at_ccp: dict[tuple[str, str], Decimal] = {
        (ccp_accounts[r["ledger_account"]], r["asset"]): r["amount"] for r in moved
    }
    wanted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, totals in grouped.result.items():
        if key[0] == "ccp":
            wanted[(key[1], key[2])] += totals.quantity
            wanted[(key[1], key[3])] += totals.amount
    off = sum(
        1 for k in at_ccp.keys() | wanted.keys() if at_ccp.get(k, ZERO) != wanted.get(k, ZERO)
    )
    out.append(_row("(CCP, asset) where novation differs from the GROUP BY's CCP nets", 0, off))
    instructions = dict(
        await monitor.fetch(
            "SELECT si.status, count(*) FROM settlement_instructions si "
            "JOIN obligations o ON o.id = si.obligation_id WHERE o.run_id = $1 "
            "GROUP BY si.status",
            result.run_id,
        )
    )
    made_instructions = sum(instructions.values())
    out.append(
        _row("instructions (one per obligation moving something)", moving, made_instructions)
    )
    out.append(_row("instructions in repair", 0, instructions.get("repair", 0)))
    out.append(_row("run: instructions", made_instructions, run_row.get("instructions", 0)))
    audit_after = await monitor.fetchval("SELECT count(*) FROM audit_records")
    # started + completed, one per trade cleared, one per trade instructed, one per instruction
    expected_audit = 2 + rows + statuses.get("instructed", 0) + made_instructions
    out.append(_row("audit records the run added", expected_audit, audit_after - audit_before))
    run_row["report"] = report
    run_row["instruction_statuses"] = instructions
    run_row["obligations_made"] = len(made)
    run_row["obligations_moving"] = moving
    return out, run_row


def len_expected(load: Load) -> int:
    return sum(t.trades for t in load.expected.values())


# --- Reporting --------------------------------------------------------------------------------


def _s(seconds: float) -> str:
    return f"{seconds:,.1f}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def print_load(universe: Universe, load: Load) -> None:
    markets = ", ".join(
        f"{mic} {universe.count(mic)}" + (" (no CCP)" if mic == "XOFF" else "")
        for mic, _ in MARKET_SHARES
    )
    gross = sum(1 for p in universe.parties if p.netting == "none")
    dates = ", ".join(f"{mic} {day}" for mic, day in sorted(universe.trade_dates.items()))
    print(
        f"reference: {len(universe.securities)} instruments ({markets}); "
        f"{len(universe.parties)} counterparties ({len(universe.parties) - gross} bilateral, "
        f"{gross} netting none), one XOFF SSI each; created through app.reference.service in "
        f"{load.reference_s:.1f} s"
    )
    print(f"settlement date {universe.settlement_date}; trade dates {dates}")
    rows = [
        [
            "generate (Python, exact Decimals)",
            fmt_int(load.rows),
            _s(load.generate_s),
            fmt_int(load.rows / load.generate_s) if load.generate_s else "-",
        ],
        [
            f"asyncpg COPY into trades ({COPY_CHUNK:,} a transaction)",
            fmt_int(load.rows),
            _s(load.copy_s),
            fmt_int(load.rows / load.copy_s) if load.copy_s else "-",
        ],
        ["VACUUM ANALYZE trades", "", _s(load.vacuum_s), ""],
    ]
    print(render_table(["(1) load", "trades", "s", "rows/s"], rows))


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def print_clearing(result: Clearing, rows: int) -> None:
    cpu = result.cpu
    chunks = result.chunks
    table = []
    for kind in KINDS:
        segments = result.of_kind(kind)
        if not segments:
            continue
        wall = sum(s.wall for s in segments)
        name = f"{kind}, {clearing_work.CHUNK:,} trades each" if kind == CLEAR else kind
        table.append(
            [
                name,
                fmt_int(len(segments)),
                _s(wall),
                fmt_int(rows / wall) if kind in (CLEAR, INSTRUCTED) and wall else "",
            ]
        )
    table.append(
        [
            "clearing run, start_run to the end of process_run",
            fmt_int(len(result.segments)),
            _s(result.wall),
            fmt_int(rows / result.wall) if result.wall else "-",
        ]
    )
    print(
        render_table(
            [
                "(2) clearing run (app.clearing.service), by transaction",
                "transactions",
                "wall s",
                "trades/s",
            ],
            table,
        )
    )
    if cpu is not None:
        print(
            f"CPU over the run, in % of one core: this process {fmt_pct(cpu.client_pct)}, "
            f"PostgreSQL backends "
            f"{fmt_pct(cpu.postgres_pct) if cpu.postgres_pct is not None else '-'}, "
            f"host {fmt_pct(cpu.host_pct * (os.cpu_count() or 1))} of "
            f"{100 * (os.cpu_count() or 1)}%"
        )
    waits = result.waits
    if waits is not None and waits.polls:
        shares = ", ".join(
            f"{state} {fmt_pct(waits.share(state))}" for state, _ in waits.samples.most_common(5)
        )
        print(f"the app's PostgreSQL connection (pg_stat_activity every 0.1 s): {shares}")
    if chunks:
        walls = [s.wall for s in chunks]
        print(
            f"chunk wall: median {_ms(_median(walls))} ms, p90 {_ms(percentile(walls, 90))} ms, "
            f"first {_ms(walls[0])} ms, last {_ms(walls[-1])} ms"
        )


def print_breakdown(result: Clearing) -> None:
    chunks, instruct = result.chunks, result.after_chunks
    if not chunks or instruct is None:
        return
    n = len(chunks)
    chunk_wall = sum(s.wall for s in chunks)
    labels: defaultdict[str, float] = defaultdict(float)
    for segment in [*chunks, instruct]:
        for label, seconds in segment.sql_s.items():
            labels[label] += seconds
    rows = []

    def line(label: str, chunk_s: float, count: float, instruct_s: float, n_i: int) -> None:
        rows.append(
            [
                label,
                f"{count / n:,.1f}" if count else "",
                _ms(chunk_s / n),
                fmt_pct(100 * chunk_s / chunk_wall) if chunk_wall else "-",
                fmt_int(n_i) if n_i else "",
                _s(instruct_s),
                fmt_pct(100 * instruct_s / instruct.wall) if instruct.wall else "-",
            ]
        )

    for label in sorted(labels, key=labels.__getitem__, reverse=True):
        line(
            f"SQL {label}",
            sum(s.sql_s[label] for s in chunks),
            sum(s.sql_n[label] for s in chunks),
            instruct.sql_s[label],
            instruct.sql_n[label],
        )
    commit_c = sum(s.commit_s for s in chunks)
    line("COMMIT (deferred journal triggers, WAL flush)", commit_c, 0, instruct.commit_s, 0)
    sql_c = sum(s.sql_total for s in chunks)
    python_c = chunk_wall - sql_c - commit_c
    python_i = instruct.wall - instruct.sql_total - instruct.commit_s
    line("Python and the event loop (wall - SQL - COMMIT)", python_c, 0, python_i, 0)
    line("total", chunk_wall, 0, instruct.wall, 0)
    print(
        render_table(
            [
                "where the run's time went",
                "stmts/chunk",
                "ms/chunk",
                "share",
                "stmts",
                "after s",
                "share",
            ],
            rows,
            title=f"Where the time went: per chunk cleared (mean over {n:,} chunks of "
            f"{clearing_work.CHUNK:,} trades), and in all the transactions after the last chunk "
            "(instructions, trades -> instructed, completion)",
        )
    )
    audit_c = sum(s.at_commit_s for s in chunks)
    print(
        "(SQL: cursor execute to its result, by statement kind and table (asyncpg decoding "
        "included, ORM object building not); of each chunk, "
        f"{_ms(audit_c / n)} ms ({fmt_pct(100 * audit_c / chunk_wall)}) pass between Session "
        "before_commit and the COMMIT: the audit chain head lock, hashing and the audit and "
        "outbox inserts, SQL included; after the chunks "
        f"{_s(instruct.at_commit_s)} s)"
    )


def print_efficiency(report: dict[str, Any]) -> None:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in report.get("by_counterparty", []):
        if row["netting_set"] == "ccp":
            name = _CCP_NAMES.get(row["counterparty_lei"], row["counterparty_lei"])
            groups[("ccp", name, row["currency"])].append(row)
        else:
            groups[(row["netting_set"], "", row["currency"])].append(row)
    rows = []
    for (netting_set, name, currency), items in groups.items():
        trades = sum(int(i["trades"]) for i in items)
        obligations = sum(int(i["obligations"]) for i in items)
        gross = sum((Decimal(i["gross_value"]) for i in items), ZERO)
        net = sum((Decimal(i["net_value"]) for i in items), ZERO)
        who = name or f"{len(items)} counterparties"
        rows.append(
            [
                f"{netting_set}: {who}",
                currency,
                fmt_int(trades),
                fmt_int(obligations),
                f"{gross:,.0f}",
                f"{net:,.0f}",
                f"{100 * (1 - net / gross) if gross else 0:.2f}%",
                f"{100 * (1 - obligations / trades) if trades else 0:.2f}%",
            ]
        )
    print(
        render_table(
            [
                "netting set: counterparty of record",
                "ccy",
                "trades",
                "obligations",
                "gross value",
                "net value",
                "eff. by value",
                "eff. by count",
            ],
            rows,
            title="The run's report (netting efficiency = 1 - net/gross; per CCP, and summed "
            "over the bilateral and the gross counterparties)",
        )
    )


def print_group_by(grouped: GroupBy, result: Clearing) -> None:
    rows = [
        [
            f"GROUP BY, {r.when}",
            _s(r.seconds) if r.seconds >= 10 else f"{r.seconds:.3f}",
            fmt_int(r.rows),
        ]
        for r in grouped.runs
    ]
    print(render_table(["(3) plain SQL over the same trades", "s", "rows"], rows))
    print(f"plan: {grouped.plan}")
    ratio = grouped.best / result.wall if result.wall else 0.0
    print()
    print(
        render_table(
            ["(4) ratio", "s"],
            [
                ["GROUP BY (fastest run)", f"{grouped.best:.3f}"],
                ["clearing run (start_run to the end of process_run)", f"{result.wall:,.1f}"],
                [
                    f"GROUP BY / clearing (goal >= {GOAL})",
                    f"{ratio:.4f}: {'met' if ratio >= GOAL else 'not met'}",
                ],
            ],
        )
    )


def print_memory(result: Clearing, stages: list[list[str]]) -> None:
    chunks = result.chunks
    rows = [["before the run (after gc.collect)", f"{result.rss_before:,.1f}"]]
    if chunks:
        n = len(chunks)
        for label, index in (
            ("after chunk 1", 0),
            ("after chunk 10", min(9, n - 1)),
            (f"after chunk {n // 4 + 1} (25 %)", n // 4),
            (f"after chunk {n // 2 + 1} (50 %)", n // 2),
            (f"after chunk {3 * n // 4 + 1} (75 %)", 3 * n // 4),
            (f"after chunk {n} (last)", n - 1),
        ):
            rows.append([label, f"{chunks[index].rss:,.1f}"])
        end_of_chunks = result.chunks_end
        during = result.rss.max_between(result.started, end_of_chunks)
        highest = max([s.rss for s in chunks] + ([during] if during is not None else []))
        rows.append(["highest over the chunks (commits and 0.5 s samples)", f"{highest:,.1f}"])
        instructing = result.rss.max_between(end_of_chunks, result.started + result.wall)
        after = result.after_chunks
        values = [after.rss] if after is not None else []
        values += [instructing] if instructing is not None else []
        if values:
            label = "highest after the chunks (instructions, trades -> instructed; 0.5 s samples)"
            rows.append([label, f"{max(values):,.1f}"])
        growth = chunks[-1].rss - chunks[min(9, n - 1)].rss
        rows.append(["growth from chunk 10 to the last chunk", f"{growth:+,.1f}"])
    rows.append(["after the run", f"{result.rss_after:,.1f}"])
    print(
        render_table(
            ["(6) RSS of this process during the run", "MiB"],
            rows,
        )
    )
    print()
    print(
        render_table(
            ["stage", "peak RSS so far"],
            stages,
            title=f"Peak memory of this process (pid {os.getpid()}, getrusage ru_maxrss)",
        )
    )


# --- Profile ----------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")
# What a sample is doing, by the frames anywhere on its stack, first match wins. SQLAlchemy's
# own work runs in greenlets whose stacks start at the Session method, without the app frame
# that awaited it: those are told apart by the Session method and the ORM step.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Session.commit: audit records + outbox rows (audit._write_queued)", ("_write_queued ",)),
    ("Session.commit: the rest (flush of the run row, close)", ("Session.commit ",)),
    (
        "Session.flush: UPDATE trades from transition_many (+ INSERT instructions)",
        ("Session.flush ",),
    ),
    (
        "Session.execute: ORM bulk INSERT (obligations, obligation_trades, journal, balances)",
        ("_BulkORMInsert",),
    ),
    ("Session.execute: result rows into ORM objects (trades, balances)", ("instances ",)),
    ("Session.execute / get: other (Core statements, compile)", ("Session.",)),
    ("app: trades.transition_many (states, row_snapshot x2 per trade)", ("transition_many ",)),
    ("app: positions.novate / journal.post / balances (Python)", ("app/positions/",)),
    ("app: settlement.create_instructions (Python)", ("app/settlement/",)),
    ("app: _next_chunk (resolve each trade)", ("_next_chunk ",)),
    ("app: _clear_chunk (netting, obligation and lineage rows)", ("_clear_chunk ",)),
    ("app: _instruct / report", ("_instruct ", "build_report ")),
    ("SQLAlchemy, asyncpg (outside a Session method)", ("sqlalchemy/", "asyncpg/")),
    ("event loop", ("asyncio/", "selectors.py", "uvloop/")),
)


# --- The run ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[BenchDatabase]:
    db = await prepare_database(args.database, args.pg_url)
    try:
        yield db
    finally:
        if not args.keep_database:
            await drop_database(db.name, args.pg_url)


async def run(args: argparse.Namespace) -> int:
    stages: list[list[str]] = [["start", f"{peak_rss_mib():,.1f} MiB"]]
    universe = build_universe(args.isins, args.counterparties, args.settlement_date, args.seed)
    profile = Path(args.py_spy) / "clearing.txt" if args.py_spy else None
    if profile is not None:
        profile.parent.mkdir(parents=True, exist_ok=True)
    load = Load()
    grouped = GroupBy()
    table: list[list[str]] = []
    result = Clearing()
    async with _database(args) as db:
        monitor = await _connect(db)
        engine = create_engine(db.url, pool_size=2, max_overflow=0)
        sessionmaker = create_sessionmaker(engine)
        operations = db.keys[Role.OPERATIONS]
        actor = Actor(key_id=operations.id, role=Role.OPERATIONS, name="bench netting")
        try:
            version = await monitor.fetchval("SHOW server_version")
            sync = await monitor.fetchval("SHOW synchronous_commit")
            workers = await monitor.fetchval("SHOW max_parallel_workers_per_gather")
            print(
                f"host: {os.cpu_count()} cores, load average {load_average()}, Python "
                f"{platform.python_version()}; PostgreSQL {version} (synchronous_commit {sync}, "
                f"max_parallel_workers_per_gather {workers}); database {db.name}"
            )
            sys.stdout.flush()
            load.reference_s = await create_reference(sessionmaker, universe, actor=actor)
            async with asyncio.timeout(args.phase_timeout):
                await load_trades(
                    monitor,
                    universe,
                    load,
                    trades=args.trades,
                    created_by=db.keys[Role.TRADER].id,
                    seed=args.seed + 1,
                )
            gc.collect()
            stages.append(["after the load", f"{peak_rss_mib():,.1f} MiB"])
            print()
            print_load(universe, load)
            sys.stdout.flush()

            grouped.plan = await group_by_plan(monitor, universe.settlement_date)
            for n in range(args.group_by_runs):
                await group_by(
                    monitor, universe.settlement_date, f"before clearing #{n + 1}", grouped
                )
            stages.append(["after the GROUP BY runs", f"{peak_rss_mib():,.1f} MiB"])
            audit_before = await monitor.fetchval("SELECT count(*) FROM audit_records")

            print(f"  clearing {load.rows:,} trades ...", file=sys.stderr)
            async with asyncio.timeout(args.phase_timeout):
                result = await clear(
                    db,
                    engine,
                    sessionmaker,
                    monitor,
                    settlement_date=universe.settlement_date,
                    actor=actor,
                    profile=profile,
                )
            stages.append(["after the clearing run", f"{peak_rss_mib():,.1f} MiB"])
            if result.error:
                print(f"\nCLEARING FAILED: {result.error}", file=sys.stderr)
            await group_by(monitor, universe.settlement_date, "after clearing", grouped)

            table, run_row = await checks(monitor, universe, load, grouped, result, audit_before)
            stages.append(["after the checks (end)", f"{peak_rss_mib():,.1f} MiB"])
            obligations = run_row.get("obligations_made", 0)
            instructions = run_row.get("instruction_statuses", {})
            print()
            print_clearing(result, load.rows)
            print(
                f"run {result.run_id}: {obligations:,} obligations "
                f"({run_row.get('obligations_moving', 0):,} moving something), "
                f"{sum(instructions.values()):,} instructions ("
                + ", ".join(f"{s} {n:,}" for s, n in sorted(instructions.items()))
                + ")"
            )
            print()
            print_breakdown(result)
            print()
            print_efficiency(run_row.get("report", {}))
            print()
            print_group_by(grouped, result)
            print()
            print(render_table(["(5) check", "expected", "found", "ok"], table))
            print()
            print_memory(result, stages)
            if profile is not None:
                print()
                print_profile(profile, STAGES, during="the clearing run")
        finally:
            await engine.dispose()
            await monitor.close()
    print(f"load average at the end: {load_average()}")
    failed = [row[0] for row in table if row[3] != "yes"]
    if result.error:
        failed.insert(0, f"the clearing run raised {result.error}")
    if failed:
        print("\nFAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n")[0])
    parser.add_argument("--trades", type=int, help=f"trades to clear ({DEFAULTS['trades']:,})")
    parser.add_argument("--isins", type=int, default=200, help="instruments (200)")
    parser.add_argument("--counterparties", type=int, default=50, help="counterparties (50)")
    parser.add_argument(
        "--settlement-date",
        type=date.fromisoformat,
        default=SETTLEMENT_DATE,
        help=f"the date every trade is due ({SETTLEMENT_DATE})",
    )
    parser.add_argument(
        "--group-by-runs", type=int, default=3, help="GROUP BY runs before clearing (3)"
    )
    parser.add_argument("--seed", type=int, default=20261125, help="random seed of the data")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: "
        + ", ".join(f"--{name} {value}" for name, value in QUICK.items())
        + " (unless given)",
    )
    parser.add_argument("--py-spy", metavar="DIR", help="profile the clearing run into DIR")
    parser.add_argument("--database", default="settlement_bench_netting", help="database name")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--phase-timeout", type=float, default=3600, help="seconds per stage")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    check_limits(
        parser,
        {
            "--trades": (args.trades, 1, 20_000_000),
            "--isins": (args.isins, len(MARKET_SHARES), 100_000),
            "--counterparties": (args.counterparties, 1, 10_000),
            "--group-by-runs": (args.group_by_runs, 1, 20),
        },
    )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    print("$ " + shlex.join([sys.executable, "-m", PROG, *argv]))
    sys.stdout.flush()
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
