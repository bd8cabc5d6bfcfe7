"""A settlement run over a day's instructions, in process, against PostgreSQL, next to a plain
set-based SQL query doing the same availability check over the same rows.

    python -m bench.settlement [--instructions 100000] [--isins 200] [--baseline-runs 5]
                               [--quick] [--py-spy DIR] [--phase-timers] [--run-date D]
                               [--analyze loaded|all] [--keep-database]

1. A fresh database (``--database``; bench.common: migrated through Alembic, demo reference data,
   one API key per role), dropped at the end unless ``--keep-database``.
2. The run date: the latest day on or before today (UTC) on which every demo market settles
   (``ReferenceSet.settlement_calendar``: XNYS + FED for XNYS, XECB for the others, plus closed
   days kept as data), unless ``--run-date`` names another such day. The run's clock is a
   ``Clock`` whose date is the run date (the current time when that is today, else 06:00 UTC,
   advancing with the wall clock, never past the day's end): settlements post on it and count
   on it.
3. Setup (not part of the result): ``--isins`` equities with valid ISINs (python-stdnum check
   digits) created through ``app.reference.service`` -- 30 % XNYS (USD, our account SEC-DTC),
   25 % XPAR (EUR, SEC-EOCF), 25 % XETR (EUR, SEC-CBF), 20 % XOFF (EUR, SEC-EB); cash accounts
   CASH-USD and CASH-EUR. Every tenth ISIN is *short*: nobody holds it at the start. Then one
   ``clearing_runs`` row, one ``obligations`` row and one ``settlement_instructions`` row per
   instruction, loaded by asyncpg COPY (the obligations only carry the foreign key: no trades
   stand behind them, so ``trades.mark_settled_many`` finds none; their netting keys end in a bench
   reference to stay unique). Each instruction then gets its pending journal entry (what it will
   move, counted in projected balances) through ``app.settlement.instructions.movements.expect``, as
   ``create_instructions`` opens it, ``EXPECT_CHUNK`` instructions a transaction. Every
   instruction is ``matched``, due on the run date, priority 10 / 30 / 50 / 70 (10 %, 20 %,
   60 %, 10 %), ``partial_allowed`` on exactly 30 %; on XNYS /
   XPAR / XETR the counterparty is the market's CCP (pre-matched), on XOFF one of the five demo
   dealers, with the SSI the demo has for it. Exactly 10 % *lack*: they deliver (DVP) a short
   ISIN, 1,000 to 10,000 shares. 30 % of those allow partial settlement, and two thirds of these
   come right after (same priority, next in age) a receipt (RVP) of fewer shares of the same
   ISIN: they settle that many and stay partially settled; every other lacking one settles
   nothing. The other instructions are RVP or DVP (even odds) of 10 to 10,000 shares of the
   other ISINs. Opening inventory, posted through ``app.positions.adjustments`` as the demo does
   (opening adjustments proposed by one operations key, approved by another, value date the run
   date): each held ISIN exactly what the instructions deliver of it (so receipts earlier in the
   order are never needed), each cash account exactly what the receipts pay (so MONY cannot
   occur: the share of MONY is 0 by construction). Then ``VACUUM ANALYZE`` of what the bench
   loaded (``clearing_runs``, ``obligations``, ``settlement_instructions``, ``instruments``,
   and the instructions' ``pending_entries`` and ``pending_postings``, as autovacuum would have
   after that many inserts: without statistics PostgreSQL reads all pending postings for each
   chunk's 500 entries); the other journal tables keep the statistics the server gives them
   (this project's PostgreSQL runs with autovacuum off). ``--analyze all`` analyzes every table
   instead, when the journal holds only the opening entry: ``postings.entry_id`` then has one
   distinct value, and the deferred trigger ``journal_entries_have_postings`` plans its EXISTS
   as a sequential scan of ``postings`` for every entry at every commit (quadratic in the run's
   size) -- kept to show that case.
4. The baseline: one SQL statement over the same instructions (the run's selection: matched or
   partially settled, due by the date) doing the same availability check -- window sums of the
   signed quantities per (securities account, ISIN) and of the signed cash per (cash account,
   currency), in the run's order (priority, created_at, id), against the posted balances of
   ``securities:<account>`` and ``cash:<account>`` in ``ledger_balances``; it answers the
   instructions that would lack securities (LACK) or cash (MONY), all rows fetched.
   ``--baseline-runs`` times before the run; best and median. It counts every earlier delivery
   as settled, which is exact for this data (the held ISINs cover every delivery; only lacking
   deliveries touch the short ones).
5. The run, timed, exactly as ``POST /api/v1/settlement-runs`` does it: ``runs.start_run`` in a
   ``UnitOfWork`` session (commit), then ``runs.process_run(sessionmaker, run_id=...,
   actor=SYSTEM_ACTOR, clock=...)``, which settles chunk by chunk (``CHUNK`` instructions, one
   transaction each: the run row and the instructions SELECT ... FOR UPDATE, the reference,
   ``positions.lock_for_settlement``, ``allocate``, then for the whole chunk ``post_settlements``
   against the pending entries, the audit records and ``trades.mark_settled_many``; commit) and
   completes the run.
   Printed: wall time (``start_run`` to the end of ``process_run``) and instructions/s, CPU of this
   process and of PostgreSQL's backends, what the app's connection was doing, the run row's settled
   / partially settled / failed, and per chunk where the time went: SQL statements by kind and table
   (SQLAlchemy cursor events), the audit write at commit, the COMMIT, and Python (the rest); and
   what PostgreSQL did per table over the run (``pg_stat_user_tables``: sequential and index scans,
   rows read by sequential scans, rows inserted and updated). Nothing in the app is wrapped or
   patched unless ``--phase-timers`` asks for it: then the functions the run calls (``_next_chunk``,
   ``_reference``, ``lock_for_settlement``, ``allocate``, ``_apply``, ``post_settlements``,
   ``journal.post``, ``record_changes``, ``mark_settled_many``, ...) are wrapped with timers in this
   process for the run only.
6. Ratio = baseline seconds / run seconds (fastest baseline run: the conservative choice); the
   goal of issue 7 is >= 0.25.
7. Checks (the bench fails when one does not hold): the run completed with every instruction
   processed; the run row's counts and every instruction's status, fail reason, settled quantity
   and amount are what was generated (partial ones: the receipt's shares, cash pro rata,
   half-even); the baseline's lacking set, the run's LACK set and the generated one are equal;
   no MONY; the balances of our accounts end where the generated data says; one balanced
   settlement entry per instruction that settled something; an open pending entry, and pending
   balances, for exactly what is left to settle; one audit record per instruction plus the
   run's two.
8. Memory of this process: resident set size after every commit of the run and every 0.5 s
   (/proc/self/statm), and the peak (getrusage) after each stage.

``--py-spy DIR`` also samples this process with py-spy during the run (GIL holder, 100 Hz; py-spy
from this venv or PATH) and prints where the Python time went; it takes CPU from the run, so take
the throughput from a run without it (and without ``--phase-timers``). ``--quick`` is a smoke
run (5,000 instructions). PostgreSQL only. Everything talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import inspect
import json
import os
import platform
import random
import shlex
import statistics
import sys
import time as clock
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import wraps
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from stdnum import isin as isin_code

from app.core.auth import SYSTEM_ACTOR, Actor, Role
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.ids import new_id
from app.core.money import round_money
from app.positions.adjustments import service as adjustments
from app.positions.adjustments.schemas import AdjustmentIn, AdjustmentKind, AdjustmentLineIn
from app.reference import demo_data
from app.reference import service as reference
from app.reference.instruments.schemas import InstrumentIn
from app.reference.instruments.service import create_instrument
from app.settlement.instructions import movements as settlement_movements
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.runs import service as runs
from app.settlement.runs import work as runs_work
from bench.common import (
    DEFAULT_PG_URL,
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
from bench.confirmations import MONITOR_APP, Profiler, WaitSampler
from bench.run_metrics import (
    Recorder,
    RssSampler,
    Segment,
    load_average,
    peak_rss_mib,
    print_profile,
    rss_mib,
)

PROG = "bench.settlement"
ZERO = Decimal(0)
CENT = Decimal("0.01")
GOAL = 0.25  # baseline seconds / run seconds (issue 7)
LACK_SHARE = Decimal("0.10")  # of the instructions: deliveries of a short ISIN
PARTIAL_SHARE = Decimal("0.30")  # partial_allowed, overall and among the lacking ones
WITH_UNITS_SHARE = Decimal(2) / 3  # of the lacking partial-allowed: a receipt comes first
SHORT_EVERY = 10  # every tenth ISIN is short (nobody holds it)
PRIORITIES: tuple[tuple[int, int], ...] = ((10, 10), (30, 20), (50, 60), (70, 10))  # value, %
QUANTITY_STEPS = (1, 1_000)  # x 10 shares, covered instructions
LACK_STEPS = (100, 1_000)  # x 10 shares, lacking deliveries
COPY_CHUNK = 20_000
EXPECT_CHUNK = 2_000  # instructions per transaction opening their pending entries
LOADED_TABLES = (
    "clearing_runs",
    "obligations",
    "settlement_instructions",
    "instruments",
    "pending_entries",
    "pending_postings",
)
ADJUSTMENT_LINES = 400  # lines per opening adjustment (the schema allows 500)
CREATED_STEP = timedelta(microseconds=10)  # between instructions' created_at, in order
# mic, share of the ISINs (%), ISIN country, currency, our safekeeping account, our cash account
MARKETS: tuple[tuple[str, int, str, str, str, str], ...] = (
    ("XNYS", 30, "US", "USD", "SEC-DTC", "CASH-USD"),
    ("XPAR", 25, "FR", "EUR", "SEC-EOCF", "CASH-EUR"),
    ("XETR", 25, "DE", "EUR", "SEC-CBF", "CASH-EUR"),
    ("XOFF", 20, "XS", "EUR", "SEC-EB", "CASH-EUR"),
)
APPROVER = Actor(key_id="bench-settlement-approver", role=Role.OPERATIONS, name="bench approver")

DEFAULTS: dict[str, Any] = {"instructions": 100_000}
QUICK: dict[str, Any] = {"instructions": 5_000}

INSTRUCTION_COLUMNS: tuple[str, ...] = (
    "id",
    "obligation_id",
    "delivery_type",
    "isin",
    "quantity",
    "amount",
    "credit_debit",
    "currency",
    "securities_account",
    "cash_account",
    "counterparty_lei",
    "ccp",
    "counterparty_ssi",
    "intended_settlement_date",
    "priority",
    "partial_allowed",
    "status",
    "repair_reasons",
    "settled_quantity",
    "settled_amount",
    "fail_reason",
    "held_from",
    "last_run_id",
    "settled_on",
    "version",
    "created_at",
    "updated_at",
)
OBLIGATION_COLUMNS: tuple[str, ...] = (
    "id",
    "run_id",
    "netting_key",
    "netting_set",
    "counterparty_lei",
    "securities_account",
    "cash_account",
    "isin",
    "currency",
    "settlement_date",
    "net_quantity",
    "net_amount",
    "gross_quantity",
    "gross_amount",
    "trade_count",
    "direction",
    "created_at",
)


# --- The run date and its clock ---------------------------------------------------------------


class RunClock:
    """A ``Clock`` whose date is the run date: the current time when the run date is today, else
    06:00 UTC that day; it advances with the wall clock and never passes the day's end."""

    def __init__(self, run_date: date) -> None:
        now = datetime.now(UTC)
        self.run_date = run_date
        self.base = now if now.date() == run_date else datetime.combine(run_date, time(6), UTC)
        self.last = datetime.combine(run_date, time.max, UTC)
        self.started = clock.perf_counter()

    def __call__(self) -> datetime:
        elapsed = timedelta(seconds=clock.perf_counter() - self.started)
        return min(self.base + elapsed, self.last)


async def choose_run_date(
    sessionmaker: async_sessionmaker[AsyncSession], today: date, wanted: date | None
) -> date:
    """``wanted`` if every demo market settles on it (and it has come), else the latest such day
    on or before ``today``."""
    async with sessionmaker() as session:
        ref = await reference.load_reference(
            session, isins=(), mics=[m["mic"] for m in demo_data.MARKETS], books=(), leis=()
        )

    def everywhere(day: date) -> bool:
        return all(ref.settlement_calendar(mic).is_business_day(day) for mic in ref.markets)

    if wanted is not None:
        if wanted > today or not everywhere(wanted):
            raise SystemExit(f"--run-date {wanted}: not a settlement day of every demo market")
        return wanted
    day = today
    for _ in range(31):
        if everywhere(day):
            return day
        day -= timedelta(days=1)
    raise SystemExit(f"no day in the month before {today} on which every demo market settles")


# --- The universe: instruments and counterparties ---------------------------------------------


@dataclass(frozen=True)
class Security:
    isin: str
    mic: str
    currency: str
    account: str  # our safekeeping account
    cash_account: str
    price: Decimal
    short: bool  # nobody holds it at the start of the run


@dataclass(frozen=True)
class Party:
    lei: str
    ccp: bool
    netting_set: str  # of its obligations: ccp, bilateral or gross
    ssi: dict[str, str]  # as an instruction carries it


def _isin(country: str, n: int) -> str:
    base = f"{country}ST{n:07d}"
    return base + isin_code.calc_check_digit(base)


def _split(total: int, shares: Sequence[int]) -> list[int]:
    """``total`` in proportion to ``shares`` (largest remainder), at least one each."""
    weight = sum(shares)
    exact = [total * share / weight for share in shares]
    counts = [max(1, int(value)) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in order[: max(0, total - sum(counts))]:
        counts[i] += 1
    return counts


def build_securities(isins: int, seed: int) -> tuple[Security, ...]:
    rng = random.Random(seed)
    out: list[Security] = []
    counts = _split(isins, [m[1] for m in MARKETS])
    for (mic, _, country, currency, account, cash), count in zip(MARKETS, counts, strict=True):
        for _ in range(count):
            n = len(out)
            out.append(
                Security(
                    isin=_isin(country, n + 1),
                    mic=mic,
                    currency=currency,
                    account=account,
                    cash_account=cash,
                    price=Decimal(rng.randrange(500, 50_000)).scaleb(-2),
                    short=n % SHORT_EVERY == SHORT_EVERY - 1,
                )
            )
    assert all(isin_code.is_valid(s.isin) for s in out)
    return tuple(out)


async def create_instruments(
    sessionmaker: async_sessionmaker[AsyncSession],
    securities: Sequence[Security],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """The instruments through the reference service, in one transaction."""
    async with sessionmaker() as session, UnitOfWork(session):
        for security in securities:
            data = InstrumentIn.model_validate(
                {
                    "isin": security.isin,
                    "name": f"Bench settlement equity {security.isin}",
                    "type": "equity",
                    "currency": security.currency,
                    "mic": security.mic,
                    "csdr_class": "liquid_share",
                    "settlement_unit": "1",
                    "price_basis": "unit",
                }
            )
            await create_instrument(session, data=data, actor=actor, now=now)


async def load_parties(monitor: asyncpg.Connection) -> dict[str, list[Party]]:
    """Per market, who our instructions settle with: the market's CCP, or (XOFF, no CCP) the
    five demo dealers; each with the demo SSI it has for the market."""
    ccp_bics = {m["ccp"]: m["mic"] for m in demo_data.MARKETS if m["ccp"]}
    rows = await monitor.fetch(
        "SELECT s.id, s.counterparty_lei, s.mic, s.place_of_settlement, s.agent_bic, s.account, "
        "c.bic, c.netting FROM ssis s JOIN counterparties c ON c.lei = s.counterparty_lei"
    )
    parties: dict[str, list[Party]] = defaultdict(list)
    for row in rows:
        ssi = {
            "id": row["id"],
            "place_of_settlement": row["place_of_settlement"],
            "agent_bic": row["agent_bic"],
            "account": row["account"],
        }
        ccp_of = ccp_bics.get(row["bic"])
        if ccp_of is not None and ccp_of == row["mic"]:
            parties[row["mic"]].append(Party(row["counterparty_lei"], True, "ccp", ssi))
        elif ccp_of is None and row["mic"] == "XOFF":
            netting = "bilateral" if row["netting"] == "bilateral" else "gross"
            parties["XOFF"].append(Party(row["counterparty_lei"], False, netting, ssi))
    for mic, *_ in MARKETS:
        if not parties[mic]:
            raise RuntimeError(f"the demo data has no counterparty with an SSI for {mic}")
        parties[mic].sort(key=lambda p: p.lei)
    return parties


# --- The instructions -------------------------------------------------------------------------


@dataclass(slots=True)
class Planned:
    id: str
    security: Security
    party: Party
    receive: bool  # RVP (we receive securities and pay), else DVP
    quantity: Decimal
    amount: Decimal
    partial_allowed: bool = False
    priority: int = 50
    lacks: bool = False
    units: Decimal = ZERO  # a lacking delivery: what the receipt just before it brings


@dataclass
class Expected:
    """What the run must do with what was generated."""

    total: int = 0
    settled: int = 0
    partially: int = 0
    failed: int = 0
    lacking: set[str] = field(default_factory=set)
    partial: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # id: qty, amount
    opening: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (account, asset)
    final: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    pending: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # left to settle
    generated: list[list[str]] = field(default_factory=list)


def _count(total: int, share: Decimal) -> int:
    return int((total * share).to_integral_value(ROUND_HALF_EVEN))


def plan_instructions(
    total: int, securities: Sequence[Security], parties: dict[str, list[Party]], seed: int
) -> tuple[list[Planned], Expected]:
    """The instructions in settlement order (priority, then age), and what the run must do."""
    rng = random.Random(seed)
    covered = [s for s in securities if not s.short]
    short = [s for s in securities if s.short]
    n_lack = _count(total, LACK_SHARE)
    lack_partial = _count(n_lack, PARTIAL_SHARE)
    with_units = _count(lack_partial, WITH_UNITS_SHARE)
    n_partial = _count(total, PARTIAL_SHARE)

    def planned(security: Security, receive: bool, quantity: Decimal) -> Planned:
        return Planned(
            id=new_id("si"),
            security=security,
            party=rng.choice(parties[security.mic]),
            receive=receive,
            quantity=quantity,
            amount=round_money(quantity * security.price, security.currency),
        )

    units: list[list[Planned]] = []
    for k in range(n_lack):
        security = rng.choice(short)
        delivery = planned(security, False, Decimal(10 * rng.randint(*LACK_STEPS)))
        delivery.lacks = True
        delivery.partial_allowed = k < lack_partial
        if k < with_units:
            receipt = planned(
                security, True, Decimal(10 * rng.randint(1, int(delivery.quantity) // 10 - 1))
            )
            delivery.units = receipt.quantity
            units.append([receipt, delivery])
        else:
            units.append([delivery])
    for _ in range(total - n_lack - with_units):
        units.append(
            [
                planned(
                    rng.choice(covered),
                    rng.random() < 0.5,
                    Decimal(10 * rng.randint(*QUANTITY_STEPS)),
                )
            ]
        )
    others = [p for unit in units for p in unit if not p.lacks]
    for p in rng.sample(others, n_partial - lack_partial):
        p.partial_allowed = True
    rng.shuffle(units)
    values, weights = zip(*PRIORITIES, strict=True)
    for unit in units:
        priority = rng.choices(values, weights)[0]
        for p in unit:
            p.priority = priority
    # Age is the position in this list (created_at follows it): a receipt and the lacking
    # delivery after it share a priority and are next to each other in age, so nothing settles
    # between them.
    flat = [p for unit in units for p in unit]
    return flat, expectations(flat, securities)


def expectations(flat: Sequence[Planned], securities: Sequence[Security]) -> Expected:
    expected = Expected(total=len(flat))
    opening: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    final: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    pending: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for p in flat:
        s = p.security
        sec, cash = (s.account, s.isin), (s.cash_account, s.currency)
        if p.receive:
            opening[cash] += p.amount  # the cash to pay every receipt
            final[sec] += p.quantity
            final[cash] -= p.amount
            expected.settled += 1
        elif not p.lacks:
            opening[sec] += p.quantity  # exactly what is delivered of each held ISIN
            final[sec] -= p.quantity
            final[cash] += p.amount
            expected.settled += 1
        else:
            expected.lacking.add(p.id)
            if p.partial_allowed and p.units:
                amount = (p.amount * p.units / p.quantity).quantize(CENT, ROUND_HALF_EVEN)
                expected.partial[p.id] = (p.units, amount)
                expected.partially += 1
                final[sec] -= p.units
                final[cash] += amount
                pending[sec] -= p.quantity - p.units
                pending[cash] += p.amount - amount
            else:
                expected.failed += 1
                pending[sec] -= p.quantity
                pending[cash] += p.amount
    expected.opening = {key: value for key, value in opening.items() if value}
    expected.final = {
        key: expected.opening.get(key, ZERO) + final.get(key, ZERO)
        for key in expected.opening.keys() | final.keys()
    }
    expected.pending = {key: value for key, value in pending.items() if value}
    expected.generated = generated_table(flat, securities, expected)
    return expected


def generated_table(
    flat: Sequence[Planned], securities: Sequence[Security], expected: Expected
) -> list[list[str]]:
    total = len(flat)

    def share(n: int) -> str:
        return f"{100 * n / total:.1f}%" if total else "-"

    lacking = [p for p in flat if p.lacks]
    receipts = sum(1 for p in lacking if p.units)
    rows = [
        ["instructions (one obligation each), matched, due on the run date", fmt_int(total), ""],
        ["RVP: we receive and pay", fmt_int(sum(p.receive for p in flat)), ""],
        ["DVP: we deliver and are paid", fmt_int(sum(not p.receive for p in flat)), ""],
        ["partial_allowed", fmt_int(sum(p.partial_allowed for p in flat)), ""],
        [
            "lacking: DVP of a short ISIN (generated LACK)",
            fmt_int(len(lacking)),
            share(len(lacking)),
        ],
        [
            "  of which partial_allowed",
            fmt_int(sum(p.partial_allowed for p in lacking)),
            "",
        ],
        [
            "  of these, right after a smaller RVP of the ISIN (settle partially)",
            fmt_int(receipts),
            "",
        ],
        ["expected: settled in full", fmt_int(expected.settled), share(expected.settled)],
        ["expected: partially settled (LACK)", fmt_int(expected.partially), ""],
        ["expected: failed, nothing settled (LACK)", fmt_int(expected.failed), ""],
        ["expected: MONY (cash covers every payment)", "0", ""],
    ]
    for value, _ in PRIORITIES:
        rows.append([f"priority {value}", fmt_int(sum(p.priority == value for p in flat)), ""])
    by_mic = Counter(p.security.mic for p in flat)
    for mic, *_ in MARKETS:
        isins = sum(1 for s in securities if s.mic == mic)
        short = sum(1 for s in securities if s.mic == mic and s.short)
        rows.append([f"{mic}: {isins} ISINs ({short} short)", fmt_int(by_mic[mic]), ""])
    return rows


def _rows(
    flat: Sequence[Planned], offset: int, run_id: str, run_date: date, created0: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """``obligations`` and ``settlement_instructions`` rows (of instructions ``offset`` .. in
    age order), in their column orders."""
    obligations: list[tuple[Any, ...]] = []
    instructions: list[tuple[Any, ...]] = []
    for n, p in enumerate(flat, start=offset):
        s, party = p.security, p.party
        obligation_id = new_id("obl")
        created = created0 + n * CREATED_STEP
        key = "|".join(
            [
                party.netting_set,
                party.lei,
                s.account,
                s.cash_account,
                s.isin,
                s.currency,
                run_date.isoformat(),
                f"BENCH-SETTLE-{n:08d}",
            ]
        )
        sign = 1 if p.receive else -1
        obligations.append(
            (
                obligation_id,
                run_id,
                key,
                party.netting_set,
                party.lei,
                s.account,
                s.cash_account,
                s.isin,
                s.currency,
                run_date,
                sign * p.quantity,
                -sign * p.amount,
                p.quantity,
                p.amount,
                0,  # no trades behind it
                "receive" if p.receive else "deliver",
                created,
            )
        )
        instructions.append(
            (
                p.id,
                obligation_id,
                "RVP" if p.receive else "DVP",
                s.isin,
                p.quantity,
                p.amount,
                "DBIT" if p.receive else "CRDT",
                s.currency,
                s.account,
                s.cash_account,
                party.lei,
                party.ccp,
                json.dumps(party.ssi),
                run_date,
                p.priority,
                p.partial_allowed,
                "matched",
                "[]",
                ZERO,
                ZERO,
                None,
                None,
                None,
                None,
                1,
                created,
                created,
            )
        )
    return obligations, instructions


@dataclass
class Setup:
    instruments_s: float = 0.0
    generate_s: float = 0.0
    copy_s: float = 0.0
    opening_s: float = 0.0
    expect_s: float = 0.0
    vacuum_s: float = 0.0
    opening_lines: int = 0
    adjustments: int = 0
    analyzed: str = ""


async def load_instructions(
    monitor: asyncpg.Connection,
    flat: Sequence[Planned],
    setup: Setup,
    *,
    run_date: date,
    created0: datetime,
    created_by: str,
) -> str:
    """One clearing run row, then obligations and instructions by COPY in chunks. Returns the
    clearing run's id."""
    clearing_run = new_id("clr")
    await monitor.execute(
        "INSERT INTO clearing_runs (id, settlement_date, status, total, processed, obligations, "
        "instructions, report, error, created_at, created_by, finished_at) "
        "VALUES ($1, $2, 'completed', $3, $3, $3, $3, '{}', NULL, $4, $5, $4)",
        clearing_run,
        run_date,
        len(flat),
        created0,
        created_by,
    )
    for start in range(0, len(flat), COPY_CHUNK):
        began = clock.perf_counter()
        obligations, instructions = _rows(
            flat[start : start + COPY_CHUNK], start, clearing_run, run_date, created0
        )
        setup.generate_s += clock.perf_counter() - began
        began = clock.perf_counter()
        async with monitor.transaction():
            await monitor.copy_records_to_table(
                "obligations", records=obligations, columns=OBLIGATION_COLUMNS
            )
            await monitor.copy_records_to_table(
                "settlement_instructions", records=instructions, columns=INSTRUCTION_COLUMNS
            )
        setup.copy_s += clock.perf_counter() - began
    return clearing_run


async def post_opening(
    sessionmaker: async_sessionmaker[AsyncSession],
    expected: Expected,
    setup: Setup,
    *,
    proposer: Actor,
    now: Callable[[], datetime],
) -> None:
    """Opening adjustments (proposed by one operations key, approved by another, as the demo
    posts its opening balances): the held ISINs and the cash."""
    lines = [
        AdjustmentLineIn(account=account, asset=asset, amount=amount)
        for (account, asset), amount in sorted(expected.opening.items())
    ]
    setup.opening_lines = len(lines)
    for start in range(0, len(lines), ADJUSTMENT_LINES):
        data = AdjustmentIn(
            kind=AdjustmentKind.OPENING,
            reason=f"Bench settlement opening balances ({start // ADJUSTMENT_LINES + 1})",
            lines=lines[start : start + ADJUSTMENT_LINES],
        )
        async with sessionmaker() as session, UnitOfWork(session):
            proposed = await adjustments.propose(session, data=data, actor=proposer, now=now())
            await adjustments.approve(session, adjustment_id=proposed.id, actor=APPROVER, now=now())
        setup.adjustments += 1


async def expect_instructions(
    sessionmaker: async_sessionmaker[AsyncSession],
    setup: Setup,
    *,
    actor: Actor,
    now: Callable[[], datetime],
) -> None:
    """Each instruction's pending entry, opened by
    ``app.settlement.instructions.movements.expect`` as ``create_instructions`` does,
    EXPECT_CHUNK instructions a transaction."""
    began = clock.perf_counter()
    after = ""
    while True:
        async with sessionmaker() as session, UnitOfWork(session):
            rows = (
                await session.scalars(
                    select(SettlementInstruction)
                    .where(SettlementInstruction.id > after)
                    .order_by(SettlementInstruction.id)
                    .limit(EXPECT_CHUNK)
                )
            ).all()
            if not rows:
                break
            await settlement_movements.expect(session, list(rows), actor=actor, now=now())
            after = rows[-1].id
    setup.expect_s = clock.perf_counter() - began


# --- The plain SQL baseline -------------------------------------------------------------------

BASELINE_SQL = """
WITH due AS (
    SELECT id, securities_account, cash_account, isin, currency, priority, created_at,
           CASE WHEN delivery_type IN ('RVP', 'RFP') THEN 1 ELSE -1 END
               * (quantity - settled_quantity) AS quantity,
           CASE WHEN credit_debit = 'DBIT' THEN -1 ELSE 1 END
               * (amount - settled_amount) AS amount
    FROM settlement_instructions
    WHERE status IN ('matched', 'partially_settled') AND intended_settlement_date <= $1
), running AS (
    SELECT id, securities_account, cash_account, isin, currency, quantity, amount,
           sum(quantity) OVER (PARTITION BY securities_account, isin
                               ORDER BY priority, created_at, id) AS moved,
           sum(amount) OVER (PARTITION BY cash_account, currency
                             ORDER BY priority, created_at, id) AS paid
    FROM due
)
SELECT r.id,
       CASE WHEN r.quantity < 0 AND coalesce(s.posted, 0) + r.moved < 0
            THEN 'LACK' ELSE 'MONY' END AS reason
FROM running r
LEFT JOIN ledger_balances s
       ON s.ledger_account = 'securities:' || r.securities_account AND s.asset = r.isin
LEFT JOIN ledger_balances c
       ON c.ledger_account = 'cash:' || r.cash_account AND c.asset = r.currency
WHERE (r.quantity < 0 AND coalesce(s.posted, 0) + r.moved < 0)
   OR (r.amount < 0 AND coalesce(c.posted, 0) + r.paid < 0)
"""


@dataclass
class Baseline:
    seconds: list[float] = field(default_factory=list)
    flagged: dict[str, str] = field(default_factory=dict)  # id: LACK or MONY
    plan: str = ""

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else 0.0


async def baseline(monitor: asyncpg.Connection, day: date, runs_: int) -> Baseline:
    out = Baseline()
    nodes = []
    for (text,) in await monitor.fetch("EXPLAIN " + BASELINE_SQL, day):
        stripped = str(text).strip().removeprefix("->").strip()
        if stripped.startswith("Workers Planned"):
            nodes.append(stripped)
        elif "(cost=" in stripped:
            nodes.append(stripped.split("  (", 1)[0])
    out.plan = " > ".join(nodes)
    for _ in range(runs_):
        started = clock.perf_counter()
        rows = await monitor.fetch(BASELINE_SQL, day)
        out.seconds.append(clock.perf_counter() - started)
        out.flagged = {row["id"]: row["reason"] for row in rows}
    return out


# --- The run ----------------------------------------------------------------------------------

# What --phase-timers wraps, for the run only: (label, module, attribute). The modules look these
# up at call time (``positions.post_settlements``, or a module global of app.settlement.runs), so
# replacing the attribute reaches every call the run makes. Indented labels run inside the one
# above them.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("runs._locked_run: the run row FOR UPDATE", "app.settlement.runs", "_locked_run"),
    ("runs._next_chunk: instructions FOR UPDATE SKIP LOCKED", "app.settlement.runs", "_next_chunk"),
    ("runs._reference: load_reference (instruments, markets)", "app.settlement.runs", "_reference"),
    ("runs._open_today: settlement calendars", "app.settlement.runs", "_open_today"),
    (
        "positions.lock_for_settlement: lock the balances",
        "app.positions.bookings.service",
        "lock_for_settlement",
    ),
    ("allocation.allocate (pure)", "app.settlement.runs", "allocate"),
    ("runs._apply: a chunk's settlements (all of it)", "app.settlement.runs", "_apply"),
    ("  positions.post_settlements", "app.positions.bookings.service", "post_settlements"),
    (
        "    journal.lock_pendings (flush; pending FOR UPDATE)",
        "app.positions.journal.service",
        "lock_pendings",
    ),
    (
        "    journal.resolve_pendings (lines, balances)",
        "app.positions.journal.service",
        "resolve_pendings",
    ),
    (
        "    journal.open_pendings (rest of partials)",
        "app.positions.journal.service",
        "open_pendings",
    ),
    (
        "    journal.post (entries, postings, balances)",
        "app.positions.journal.service",
        "post",
    ),
    (
        "  audit.record_changes (queue; flush of the instructions)",
        "app.settlement.runs",
        "record_changes",
    ),
    ("  trades.mark_settled_many", "app.trades.capture.post_trade", "mark_settled_many"),
    ("  row_snapshot (before and after)", "app.settlement.runs", "row_snapshot"),
    (
        "wherever called: chart.ensure_ledger_accounts",
        "app.positions.ledger_accounts.service",
        "ensure_ledger_accounts",
    ),
    ("wherever called: balances.apply", "app.positions.balances.service", "apply"),
)


class PhaseTimers:
    """Wall time and calls of the functions in PHASES, by wrapping them in this process."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._saved: list[tuple[Any, str, Any]] = []

    def _wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        seconds, calls = self.seconds, self.calls
        if inspect.iscoroutinefunction(function):

            @wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = clock.perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    seconds[label] += clock.perf_counter() - started
                    calls[label] += 1

            return timed_async

        @wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] += clock.perf_counter() - started
                calls[label] += 1

        return timed

    def install(self) -> None:
        for label, module_name, path in PHASES:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = getattr(owner, name)
            self._saved.append((owner, name, original))
            setattr(owner, name, self._wrap(label, original))

    def remove(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()


@dataclass
class Settlement:
    run_id: str = ""
    wall: float = 0.0  # start_run .. end of process_run
    started: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    cpu: CpuMeter | None = None
    waits: WaitSampler | None = None
    rss: RssSampler = field(default_factory=RssSampler)
    rss_before: float = 0.0
    rss_after: float = 0.0
    timers: PhaseTimers | None = None
    error: str | None = None

    @property
    def start(self) -> Segment | None:
        return self.segments[0] if self.segments else None

    @property
    def chunks(self) -> list[Segment]:
        """The transactions that settled instructions (not start_run, not the completing one)."""
        return self.segments[1:-1]

    @property
    def last(self) -> Segment | None:
        return self.segments[-1] if len(self.segments) >= 2 else None


async def settle(
    db: BenchDatabase,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    monitor: asyncpg.Connection,
    *,
    run_date: date,
    run_clock: RunClock,
    profile: Path | None,
    phase_timers: bool,
) -> Settlement:
    """One real run, as the API does it (without HTTP)."""
    result = Settlement()
    gc.collect()
    # The rows the bench generated and keeps for its checks are no part of a server's heap:
    # out of the collector's way, as the server's start-up heap is (app/main.py).
    gc.freeze()
    result.rss_before = rss_mib()
    recorder = Recorder(engine)
    meter = CpuMeter([], monitor, db.name)
    waits = WaitSampler(db.url, db.name)
    profiler = Profiler(os.getpid(), profile) if profile is not None else None
    timers = PhaseTimers() if phase_timers else None
    if profiler is not None:
        await profiler.start()
    await waits.start()
    await meter.start()
    result.rss.start()
    if timers is not None:
        timers.install()
    recorder.start()
    started = result.started = clock.perf_counter()
    try:
        async with sessionmaker() as session, UnitOfWork(session):
            run = await runs.start_run(
                session, settlement_date=run_date, actor=SYSTEM_ACTOR, now=run_clock()
            )
            result.run_id = run.id
        await runs.process_run(
            sessionmaker, run_id=result.run_id, actor=SYSTEM_ACTOR, clock=run_clock
        )
    except Exception as error:  # reported; the checks then say what is missing
        result.error = f"{type(error).__name__}: {error}"[:500]
    finally:
        result.wall = clock.perf_counter() - started
        recorder.stop()
        if timers is not None:
            timers.remove()
        await result.rss.stop()
        await meter.stop()
        await waits.stop()
        if profiler is not None:
            await profiler.stop()
    result.rss_after = rss_mib()
    result.segments = recorder.segments
    result.cpu, result.waits, result.timers = meter, waits, timers
    return result


# What PostgreSQL did to each table over the run: from pg_stat_user_tables before and after
# (the app's connection is closed first, which flushes its counters).
_STATS = (
    "seq_scan",
    "seq_tup_read",
    "idx_scan",
    "n_tup_ins",
    "n_tup_upd",
)


async def table_stats(monitor: asyncpg.Connection) -> dict[str, tuple[int, ...]]:
    await monitor.execute("SELECT pg_stat_force_next_flush()")
    rows = await monitor.fetch(
        "SELECT relname, "
        + ", ".join(f"coalesce({c}, 0) AS {c}" for c in _STATS)
        + " FROM pg_stat_user_tables"
    )
    return {row["relname"]: tuple(int(row[c]) for c in _STATS) for row in rows}


def stats_table(
    before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]]
) -> list[list[str]]:
    zero = (0,) * len(_STATS)
    deltas = {
        table: tuple(a - b for a, b in zip(values, before.get(table, zero), strict=True))
        for table, values in after.items()
    }
    shown = sorted(
        (item for item in deltas.items() if any(item[1])),
        key=lambda item: (item[1][1], item[1][0], item[1][2]),
        reverse=True,
    )
    return [[table, *(fmt_int(v) for v in values)] for table, values in shown]


# --- Checks -----------------------------------------------------------------------------------


def _ok(good: bool) -> str:
    return "yes" if good else "NO"


def _row(name: str, expected: object, found: object, good: bool | None = None) -> list[str]:
    shown = [fmt_int(v) if isinstance(v, int) else str(v) for v in (expected, found)]
    return [name, *shown, _ok(expected == found if good is None else good)]


async def checks(
    monitor: asyncpg.Connection,
    expected: Expected,
    grouped: Baseline,
    result: Settlement,
    audit_before: int,
) -> tuple[list[list[str]], dict[str, Any]]:
    """The check table, and the run row."""
    out: list[list[str]] = []
    row = await monitor.fetchrow("SELECT * FROM settlement_runs WHERE id = $1", result.run_id)
    run: dict[str, Any] = dict(row) if row is not None else {}
    raw = run.get("report")
    report: dict[str, Any] = raw if isinstance(raw, dict) else json.loads(raw or "{}")
    run["report"] = report
    total = expected.total
    out.append(_row("run status", "completed", run.get("status", "-")))
    out.append(_row("run: total due at start_run", total, run.get("total", 0)))
    out.append(_row("run: processed", total, run.get("processed", 0)))
    out.append(_row("run: settled", expected.settled, run.get("settled", 0)))
    out.append(_row("run: partially settled", expected.partially, run.get("partially_settled", 0)))
    out.append(_row("run: failed (nothing settled)", expected.failed, run.get("failed", 0)))
    fails = Counter[str]()
    for item in report.get("fails", []):
        fails[item["reason"]] += int(item["instructions"])
    out.append(_row("run report: LACK", len(expected.lacking), fails["LACK"]))
    out.append(_row("run report: MONY", 0, fails["MONY"]))
    out.append(_row("run report: market closed", 0, report.get("market_closed", 0)))
    statuses = {
        (r["status"], r["fail_reason"]): r["n"]
        for r in await monitor.fetch(
            "SELECT status, fail_reason, count(*) AS n FROM settlement_instructions "
            "GROUP BY status, fail_reason"
        )
    }
    out.append(
        _row(
            "instructions settled in full (quantity and amount)",
            expected.settled,
            await monitor.fetchval(
                "SELECT count(*) FROM settlement_instructions WHERE status = 'settled' "
                "AND fail_reason IS NULL AND settled_quantity = quantity "
                "AND settled_amount = amount"
            ),
        )
    )
    out.append(
        _row(
            "instructions partially_settled, LACK",
            expected.partially,
            statuses.get(("partially_settled", "LACK"), 0),
        )
    )
    out.append(
        _row(
            "instructions matched, LACK (failed)",
            expected.failed,
            statuses.get(("matched", "LACK"), 0),
        )
    )
    out.append(
        _row(
            "instructions tried by this run (last_run_id)",
            total,
            await monitor.fetchval(
                "SELECT count(*) FROM settlement_instructions WHERE last_run_id = $1",
                result.run_id,
            ),
        )
    )
    partial_rows = await monitor.fetch(
        "SELECT id, settled_quantity, settled_amount FROM settlement_instructions "
        "WHERE status = 'partially_settled'"
    )
    wrong_partial = sum(
        1
        for r in partial_rows
        if expected.partial.get(r["id"]) != (r["settled_quantity"], r["settled_amount"])
    )
    out.append(
        _row("partial settlements: quantity or pro-rata amount not as generated", 0, wrong_partial)
    )
    run_lack = {
        r["id"]
        for r in await monitor.fetch(
            "SELECT id FROM settlement_instructions WHERE fail_reason = 'LACK'"
        )
    }
    sql_lack = {i for i, reason in grouped.flagged.items() if reason == "LACK"}
    sql_mony = [i for i, reason in grouped.flagged.items() if reason == "MONY"]
    out.append(_row("baseline: LACK instructions", len(expected.lacking), len(sql_lack)))
    out.append(_row("baseline: MONY instructions", 0, len(sql_mony)))
    out.append(
        _row(
            "baseline LACK set = generated lacking set (ids differing)",
            0,
            len(sql_lack ^ expected.lacking),
        )
    )
    out.append(
        _row(
            "run LACK set = generated lacking set (ids differing)",
            0,
            len(run_lack ^ expected.lacking),
        )
    )
    out.append(
        _row("baseline LACK set = run LACK set (ids differing)", 0, len(sql_lack ^ run_lack))
    )
    balances = {
        (r["ledger_account"].partition(":")[2], r["asset"]): r["posted"]
        for r in await monitor.fetch(
            "SELECT ledger_account, asset, posted FROM ledger_balances "
            "WHERE ledger_account LIKE 'securities:%' OR ledger_account LIKE 'cash:%'"
        )
    }
    off = sum(
        1
        for key in balances.keys() | expected.final.keys()
        if balances.get(key, ZERO) != expected.final.get(key, ZERO)
    )
    out.append(
        _row(
            f"our balances ({len(expected.final):,}) not ending as generated",
            0,
            off,
        )
    )
    pending = {
        (r["ledger_account"].partition(":")[2], r["asset"]): r["pending"]
        for r in await monitor.fetch(
            "SELECT ledger_account, asset, pending FROM ledger_balances "
            "WHERE ledger_account LIKE 'securities:%' OR ledger_account LIKE 'cash:%'"
        )
    }
    off_pending = sum(
        1
        for key in pending.keys() | expected.pending.keys()
        if pending.get(key, ZERO) != expected.pending.get(key, ZERO)
    )
    out.append(_row("our pending balances not equal to what is left to settle", 0, off_pending))
    open_pending = await monitor.fetchval(
        "SELECT count(*) FROM settlement_instructions i JOIN pending_entries p "
        "ON p.id = i.pending_id WHERE p.status = 'open'"
    )
    out.append(
        _row(
            "instructions with an open pending entry (those left to settle)",
            len(expected.lacking),
            open_pending,
        )
    )
    out.append(
        _row(
            "open pending entries",
            len(expected.lacking),
            await monitor.fetchval("SELECT count(*) FROM pending_entries WHERE status = 'open'"),
        )
    )
    entries = await monitor.fetchval(
        "SELECT count(*) FROM journal_entries WHERE source_type = 'settlement'"
    )
    out.append(
        _row(
            "settlement journal entries (one per instruction settling something)",
            expected.settled + expected.partially,
            entries,
        )
    )
    unbalanced = await monitor.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM postings p JOIN journal_entries e "
        "ON e.id = p.entry_id WHERE e.source_type = 'settlement' "
        "GROUP BY e.id, p.asset HAVING sum(p.amount) <> 0) off"
    )
    out.append(_row("settlement entries not summing to zero per asset", 0, unbalanced))
    audit_after = await monitor.fetchval("SELECT count(*) FROM audit_records")
    out.append(
        _row(
            "audit records the run added (one per instruction, run started + completed)",
            total + 2,
            audit_after - audit_before,
        )
    )
    return out, run


# --- Reporting --------------------------------------------------------------------------------


def _s(seconds: float) -> str:
    return f"{seconds:,.1f}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def print_setup(setup: Setup, expected: Expected, run_date: date, run_clock: RunClock) -> None:
    print(
        f"run date {run_date} (every demo market settles that day); the run's clock starts at "
        f"{run_clock.base.isoformat(timespec='seconds')}"
    )
    print(render_table(["what was generated", "count", "share"], expected.generated))
    print()
    rows = [
        ["instruments through app.reference.service (one transaction)", _s(setup.instruments_s)],
        ["generate obligation and instruction rows (Python)", _s(setup.generate_s)],
        [
            f"asyncpg COPY into obligations, settlement_instructions ({COPY_CHUNK:,} a tx)",
            _s(setup.copy_s),
        ],
        [
            f"opening balances: {setup.adjustments} opening adjustment(s), "
            f"{setup.opening_lines} lines, proposed + approved",
            _s(setup.opening_s),
        ],
        [
            f"pending entries: instructions.movements.expect, {EXPECT_CHUNK:,} a transaction",
            _s(setup.expect_s),
        ],
        [f"VACUUM ANALYZE ({setup.analyzed})", _s(setup.vacuum_s)],
    ]
    print(render_table(["(1) setup (not timed as the result)", "s"], rows))


def print_run(result: Settlement, total: int, run: dict[str, Any], expected: Expected) -> None:
    chunks = result.chunks
    start, last = result.start, result.last
    chunk_s = sum(s.wall for s in chunks)
    table = [
        [
            "runs.start_run (count_due, held), commit",
            "1" if start else "0",
            _s(start.wall if start else 0.0),
            "",
        ],
        [
            f"process_run: chunks of {runs_work.CHUNK:,} (one transaction each)",
            fmt_int(len(chunks)),
            _s(chunk_s),
            fmt_int(total / chunk_s) if chunk_s else "-",
        ],
        [
            "process_run: the empty chunk + complete the run",
            "1" if last else "0",
            _s(last.wall if last else 0.0),
            "",
        ],
        [
            "settlement run, start_run to the end of process_run",
            fmt_int(len(result.segments)),
            _s(result.wall),
            fmt_int(total / result.wall) if result.wall else "-",
        ],
    ]
    print(
        render_table(
            [
                "(2) settlement run (app.settlement.runs)",
                "transactions",
                "wall s",
                "instructions/s",
            ],
            table,
        )
    )
    cpu = result.cpu
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
            f"chunk wall: median {_ms(statistics.median(walls))} ms, p90 "
            f"{_ms(percentile(walls, 90))} ms, first {_ms(walls[0])} ms, last {_ms(walls[-1])} ms"
        )
    print()
    rows = [
        ["settled", fmt_int(expected.settled), fmt_int(run.get("settled", 0))],
        [
            "partially settled",
            fmt_int(expected.partially),
            fmt_int(run.get("partially_settled", 0)),
        ],
        ["failed (nothing settled)", fmt_int(expected.failed), fmt_int(run.get("failed", 0))],
    ]
    for item in run.get("report", {}).get("fails", []):
        rows.append(
            [
                f"fails {item['reason']} {item['currency']} (unsettled {item['unsettled_amount']})",
                "",
                fmt_int(int(item["instructions"])),
            ]
        )
    print(render_table([f"the run row ({result.run_id})", "generated", "run"], rows))


def print_breakdown(result: Settlement, total: int) -> None:
    chunks = result.chunks
    if not chunks:
        return
    n = len(chunks)
    wall = sum(s.wall for s in chunks)
    labels: defaultdict[str, float] = defaultdict(float)
    for segment in chunks:
        for label, seconds in segment.sql_s.items():
            labels[label] += seconds
    rows = []

    def line(label: str, seconds: float, count: int) -> None:
        rows.append(
            [
                label,
                f"{count / n:,.1f}" if count else "",
                f"{count / total:,.2f}" if count else "",
                _ms(seconds / n),
                fmt_pct(100 * seconds / wall) if wall else "-",
            ]
        )

    for label in sorted(labels, key=labels.__getitem__, reverse=True):
        line(
            f"SQL {label}",
            sum(s.sql_s[label] for s in chunks),
            sum(s.sql_n[label] for s in chunks),
        )
    sql = sum(s.sql_total for s in chunks)
    commit = sum(s.commit_s for s in chunks)
    line("COMMIT (deferred journal triggers, WAL flush)", commit, 0)
    line("Python and the event loop (wall - SQL - COMMIT)", wall - sql - commit, 0)
    line("total", wall, 0)
    statements = sum(sum(s.sql_n.values()) for s in chunks)
    print(
        render_table(
            ["where a chunk's time went", "stmts/chunk", "stmts/instr.", "ms/chunk", "share"],
            rows,
            title=f"Per chunk (mean over {n:,} chunks of {runs_work.CHUNK:,} instructions; "
            f"{statements / total:.2f} statements per instruction)",
        )
    )
    audit = sum(s.at_commit_s for s in chunks)
    print(
        "(SQL: cursor execute to its result, by statement kind and table (asyncpg decoding "
        "included, ORM object building not); of each chunk, "
        f"{_ms(audit / n)} ms ({fmt_pct(100 * audit / wall)}) pass between Session "
        "before_commit and the COMMIT: the audit chain head lock, hashing and the audit and "
        "outbox inserts, their SQL included)"
    )


def print_timers(result: Settlement, total: int) -> None:
    timers = result.timers
    if timers is None:
        return
    n = max(1, len(result.chunks))
    chunk_wall = sum(s.wall for s in result.chunks) or 1.0
    rows = []
    for label, _, _ in PHASES:
        seconds, calls = timers.seconds.get(label, 0.0), timers.calls.get(label, 0)
        rows.append(
            [
                label,
                fmt_int(calls),
                f"{calls / total:,.2f}",
                _ms(seconds / n),
                f"{1e6 * seconds / calls:,.0f}" if calls else "-",
                fmt_pct(100 * seconds / chunk_wall),
            ]
        )
    commit = sum(s.at_commit_s + s.commit_s for s in result.chunks)
    rows.append(
        [
            "Session.commit: audit + outbox write, COMMIT",
            fmt_int(len(result.chunks)),
            "",
            _ms(commit / n),
            "",
            fmt_pct(100 * commit / chunk_wall),
        ]
    )
    print(
        render_table(
            [
                "--phase-timers: wall time inside",
                "calls",
                "calls/instr.",
                "ms/chunk",
                "us/call",
                "share",
            ],
            rows,
            title="Where a chunk's wall time went, by the function the run was in (share of the "
            "chunks' wall time; indented rows are inside the row above)",
        )
    )


def print_baseline(grouped: Baseline, result: Settlement) -> None:
    rows = [[f"baseline run #{i + 1}", f"{s:.3f}"] for i, s in enumerate(grouped.seconds)]
    rows.append(["best", f"{grouped.best:.3f}"])
    rows.append(["median", f"{grouped.median:.3f}"])
    flagged = Counter(grouped.flagged.values())
    print(
        render_table(
            ["(3) plain SQL: the same availability check, set-based", "s"],
            rows,
        )
    )
    print(
        f"answers {len(grouped.flagged):,} rows: "
        + ", ".join(f"{reason} {n:,}" for reason, n in sorted(flagged.items()))
    )
    print(f"plan: {grouped.plan}")
    ratio = grouped.best / result.wall if result.wall else 0.0
    median_ratio = grouped.median / result.wall if result.wall else 0.0
    print()
    print(
        render_table(
            ["(4) ratio", "s"],
            [
                ["baseline (fastest run)", f"{grouped.best:.3f}"],
                ["settlement run (start_run to the end of process_run)", f"{result.wall:,.1f}"],
                [
                    f"baseline / run (goal >= {GOAL})",
                    f"{ratio:.5f}: {'met' if ratio >= GOAL else 'not met'}",
                ],
                ["baseline (median) / run", f"{median_ratio:.5f}"],
            ],
        )
    )


def print_memory(result: Settlement, stages: list[list[str]]) -> None:
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
        end = result.started + result.wall
        sampled = [mib for at, mib in result.rss.samples if result.started <= at <= end]
        highest = max([s.rss for s in chunks] + sampled)
        rows.append(["highest during the run (commits and 0.5 s samples)", f"{highest:,.1f}"])
        growth = chunks[-1].rss - chunks[min(9, n - 1)].rss
        rows.append(["growth from chunk 10 to the last chunk", f"{growth:+,.1f}"])
    rows.append(["after the run", f"{result.rss_after:,.1f}"])
    print(render_table(["(6) RSS of this process during the run", "MiB"], rows))
    print()
    print(
        render_table(
            ["stage", "peak RSS so far"],
            stages,
            title=f"Peak memory of this process (pid {os.getpid()}, getrusage ru_maxrss)",
        )
    )


# --- Profile ----------------------------------------------------------------------------------

# What a sample is doing, by the frames anywhere on its stack, first match wins. SQLAlchemy runs
# its work in greenlets whose stacks start at the Session method, without the app frame that
# awaited it: those are told apart by the Session method.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Session.commit: audit records + outbox rows (audit._write_queued)", ("_write_queued ",)),
    ("Session.commit: the rest", ("Session.commit ",)),
    ("Session.flush (UPDATE settlement_instructions, the run row)", ("Session.flush ",)),
    ("Session.execute: result rows into ORM objects", ("instances ",)),
    ("Session.execute / get: other (Core statements, compile)", ("Session.",)),
    (
        "app: journal pending entries (lock, lines, resolve, open)",
        ("lock_pending", "resolve_pending", "open_pending", "pending_lines"),
    ),
    ("app: journal.post (Python)", ("post (app/positions/journal/service.py)",)),
    ("app: positions.post_settlements (rest)", ("post_settlements ",)),
    (
        "app: positions.lock_for_settlement / balances",
        ("lock_for_settlement ", "app/positions/balances/"),
    ),
    ("app: trades.mark_settled_many", ("mark_settled_many ",)),
    ("app: audit.record_change", ("record_change", "record_changes ")),
    ("app: row_snapshot", ("row_snapshot ",)),
    ("app: allocation.allocate", ("allocate ",)),
    ("app: runs._reference / _open_today", ("_reference ", "_open_today ", "load_reference ")),
    ("app: runs._next_chunk", ("_next_chunk ",)),
    ("app: runs._apply (rest)", ("_apply ",)),
    ("app: runs (rest: Tally, _settle_chunk)", ("app/settlement/",)),
    ("SQLAlchemy, asyncpg (outside a Session method)", ("sqlalchemy/", "asyncpg/")),
    ("event loop", ("asyncio/", "selectors.py", "uvloop/")),
)


# --- Main -------------------------------------------------------------------------------------


async def _connect(db: BenchDatabase) -> asyncpg.Connection:
    return await asyncpg.connect(
        **connect_kwargs(db.url), server_settings={"application_name": MONITOR_APP}
    )


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
    securities = build_securities(args.isins, args.seed)
    profile = Path(args.py_spy) / "settlement.txt" if args.py_spy else None
    if profile is not None:
        profile.parent.mkdir(parents=True, exist_ok=True)
    table: list[list[str]] = []
    result = Settlement()
    setup = Setup()
    async with _database(args) as db:
        monitor = await _connect(db)
        engine = create_engine(db.url, pool_size=2, max_overflow=0)
        sessionmaker = create_sessionmaker(engine)
        operations = db.keys[Role.OPERATIONS]
        actor = Actor(key_id=operations.id, role=Role.OPERATIONS, name="bench settlement")
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
            run_date = await choose_run_date(sessionmaker, datetime.now(UTC).date(), args.run_date)
            run_clock = RunClock(run_date)
            began = clock.perf_counter()
            await create_instruments(sessionmaker, securities, actor=actor, now=run_clock())
            setup.instruments_s = clock.perf_counter() - began
            parties = await load_parties(monitor)
            began = clock.perf_counter()
            flat, expected = plan_instructions(
                args.instructions, securities, parties, args.seed + 1
            )
            setup.generate_s = clock.perf_counter() - began
            await load_instructions(
                monitor,
                flat,
                setup,
                run_date=run_date,
                created0=run_clock.base - timedelta(hours=2),
                created_by=actor.key_id,
            )
            del flat
            began = clock.perf_counter()
            await post_opening(sessionmaker, expected, setup, proposer=actor, now=run_clock)
            setup.opening_s = clock.perf_counter() - began
            await expect_instructions(sessionmaker, setup, actor=actor, now=run_clock)
            began = clock.perf_counter()
            if args.analyze == "all":
                setup.analyzed = "every table"
                await monitor.execute("VACUUM ANALYZE")
            else:
                setup.analyzed = ", ".join(LOADED_TABLES)
                await monitor.execute("VACUUM ANALYZE " + ", ".join(LOADED_TABLES))
            setup.vacuum_s = clock.perf_counter() - began
            gc.collect()
            stages.append(["after the setup", f"{peak_rss_mib():,.1f} MiB"])
            print()
            print_setup(setup, expected, run_date, run_clock)
            sys.stdout.flush()

            grouped = await baseline(monitor, run_date, args.baseline_runs)
            stages.append(["after the baseline runs", f"{peak_rss_mib():,.1f} MiB"])
            audit_before = await monitor.fetchval("SELECT count(*) FROM audit_records")
            await engine.dispose()  # the setup's connection exits and flushes its counters
            await asyncio.sleep(0.5)
            stats_before = await table_stats(monitor)

            print(f"  settling {args.instructions:,} instructions ...", file=sys.stderr)
            async with asyncio.timeout(args.phase_timeout):
                result = await settle(
                    db,
                    engine,
                    sessionmaker,
                    monitor,
                    run_date=run_date,
                    run_clock=run_clock,
                    profile=profile,
                    phase_timers=args.phase_timers,
                )
            stages.append(["after the run", f"{peak_rss_mib():,.1f} MiB"])
            await engine.dispose()  # the backend exits and flushes its table counters
            await asyncio.sleep(0.5)
            stats = stats_table(stats_before, await table_stats(monitor))
            if result.error:
                print(f"\nSETTLEMENT RUN FAILED: {result.error}", file=sys.stderr)
            table, run_row = await checks(monitor, expected, grouped, result, audit_before)
            stages.append(["after the checks (end)", f"{peak_rss_mib():,.1f} MiB"])
            print()
            print_run(result, args.instructions, run_row, expected)
            print()
            print_breakdown(result, args.instructions)
            if result.timers is not None:
                print()
                print_timers(result, args.instructions)
            print()
            print(
                render_table(
                    [
                        "table (during the run)",
                        "seq scans",
                        "rows seq-read",
                        "index scans",
                        "inserted",
                        "updated",
                    ],
                    stats,
                    title="What PostgreSQL did per table during the run (pg_stat_user_tables)",
                )
            )
            print()
            print_baseline(grouped, result)
            print()
            print(render_table(["(5) check", "expected", "found", "ok"], table))
            print()
            print_memory(result, stages)
            if profile is not None:
                print()
                print_profile(profile, STAGES, during="the run")
        finally:
            await engine.dispose()
            await monitor.close()
    print(f"load average at the end: {load_average()}")
    failed = [row[0] for row in table if row[3] != "yes"]
    if result.error:
        failed.insert(0, f"the settlement run raised {result.error}")
    if failed:
        print("\nFAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--instructions",
        type=int,
        help=f"instructions due on the run date ({DEFAULTS['instructions']:,})",
    )
    parser.add_argument("--isins", type=int, default=200, help="instruments (200)")
    parser.add_argument("--baseline-runs", type=int, default=5, help="runs of the SQL baseline (5)")
    parser.add_argument(
        "--run-date",
        type=date.fromisoformat,
        help="the run date (default: the latest day <= today on which every demo market settles)",
    )
    parser.add_argument(
        "--analyze",
        choices=("loaded", "all"),
        default="loaded",
        help="VACUUM ANALYZE the tables the bench loaded (default), or all of them",
    )
    parser.add_argument("--seed", type=int, default=20261201, help="random seed of the data")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: "
        + ", ".join(f"--{name} {value}" for name, value in QUICK.items())
        + " (unless given)",
    )
    parser.add_argument("--py-spy", metavar="DIR", help="profile the run into DIR")
    parser.add_argument(
        "--phase-timers",
        action="store_true",
        help="wrap the functions the run calls with timers (this process, the run only)",
    )
    parser.add_argument("--database", default="settlement_bench_settlement", help="database name")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--phase-timeout", type=float, default=3600, help="seconds for the run")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    check_limits(
        parser,
        {
            "--instructions": (args.instructions, 1_000, 5_000_000),
            "--isins": (args.isins, 2 * SHORT_EVERY, 2_000),
            "--baseline-runs": (args.baseline_runs, 1, 50),
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
