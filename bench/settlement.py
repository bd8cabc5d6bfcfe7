"""A settlement run over a day's instructions through ``POST /settlement-runs?wait=true`` in
process, next to one set-based SQL statement doing the same availability check.

    python -m bench.settlement [--instructions 5000|100000] [--isins 200] [--baseline-runs 5]

Setup, all through the API except the bulk trades (the clock of the in-process app is pinned to
the run date: the latest weekday up to today on which XOFF settles):
1. ``--isins`` equities on XOFF (no CCP; settled internally, so instructions are pre-matched),
   every tenth *short*: nobody holds it; 20 counterparties settling gross, with an XOFF SSI.
2. One trade per instruction by asyncpg COPY (``confirmed``, due on the run date, no charges),
   then ``POST /clearing-runs?wait=true``: one obligation, one matched instruction and its pending
   entry per trade. Exactly 10 % *lack*: they deliver a short ISIN; 30 % of those allow partial
   settlement and two thirds of these come right after (same priority, next in age) a smaller
   receipt of that ISIN, so they settle that many and stay partially settled. The rest receive
   or deliver (even odds) held ISINs. The generated priorities (10/30/50/70), partial flags and
   order are set on the instructions in one UPDATE (the API has no bulk form for them).
3. Opening balances by opening adjustments, proposed by one operations key and approved by a
   second one made through POST /api-keys: each held ISIN what is delivered of it, the cash what
   the receipts pay (so MONY cannot occur). Then VACUUM ANALYZE of what was loaded.
The baseline: window sums of the signed quantities per (account, ISIN) and cash per (account,
currency) in run order, against the posted balances: the instructions that would lack.
Checks: the run's counts and report; each instruction's status, fail reason and settled quantity
and amount (partial: the receipt's shares, cash pro rata half-even); baseline LACK set = run LACK
set = generated; no MONY; balances and pending balances moved as generated; one balanced entry
per settlement; open pending entries for what is left; one audit record per change.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from bench.lib import cli
from bench.lib.data import (
    TRADE_COLUMNS,
    add_weekdays,
    make_isin,
    make_lei,
    money,
    post_ok,
    trade_row,
)
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import percentile, table_stats
from bench.lib.report import (
    Check,
    Measure,
    Result,
    fmt_int,
    fmt_mib,
    fmt_ms,
    fmt_ratio,
    render_table,
)
from bench.lib.runs import breakdown, chunk_line, elapsed, measured_run
from bench.lib.servers import in_process_app

PROG = "bench.settlement"
SIZES = (
    cli.Size("instructions", 5_000, 100_000, "matched instructions due on the run date"),
    cli.Size("isins", 200, 200, "equities (every tenth short)"),
    cli.Size("baseline_runs", 5, 5, "baseline runs (the best is taken)"),
)
GOAL = 0.25  # baseline seconds / run seconds
PARTIES = 20
PRIORITIES = ((10, 10), (30, 20), (50, 60), (70, 10))  # value, weight
LOADED = "clearing_runs, obligations, settlement_instructions, instruments, pending_entries"
LOADED += ", pending_postings"  # no autovacuum on this server: statistics as it would keep
BASELINE_SQL = """
WITH due AS (
    SELECT id, securities_account, cash_account, isin, currency, priority, created_at,
           CASE WHEN delivery_type IN ('RVP', 'RFP') THEN 1 ELSE -1 END
               * (quantity - settled_quantity) AS quantity,
           CASE WHEN credit_debit = 'DBIT' THEN -1 ELSE 1 END * (amount - settled_amount) AS amount
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
SELECT r.id, CASE WHEN r.quantity < 0 AND coalesce(s.posted, 0) + r.moved < 0
                  THEN 'LACK' ELSE 'MONY' END AS reason
FROM running r
LEFT JOIN ledger_balances s
       ON s.ledger_account = 'securities:' || r.securities_account AND s.asset = r.isin
LEFT JOIN ledger_balances c
       ON c.ledger_account = 'cash:' || r.cash_account AND c.asset = r.currency
WHERE (r.quantity < 0 AND coalesce(s.posted, 0) + r.moved < 0)
   OR (r.amount < 0 AND coalesce(c.posted, 0) + r.paid < 0)
"""


class RunClock:
    """The app's clock during the bench: the run date, 06:00 UTC onwards (now, if it is today)."""

    def __init__(self, run_date: date) -> None:
        now = datetime.now(UTC)
        self.base = now if now.date() == run_date else datetime.combine(run_date, day_time(6), UTC)
        self.last, self.started = datetime.combine(run_date, day_time.max, UTC), time.perf_counter()

    def __call__(self) -> datetime:
        return min(self.base + timedelta(seconds=time.perf_counter() - self.started), self.last)


@dataclass
class Planned:
    n: int  # age order
    isin: str
    price: Decimal
    short: bool
    receive: bool  # RVP: we buy, receive and pay; else DVP
    quantity: Decimal
    lei: str
    partial: bool = False
    priority: int = 50
    lacks: bool = False
    units: Decimal = Decimal(0)  # a lacking delivery: what the receipt just before it brings
    id: str = ""  # the instruction, once cleared

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.price)


def plan(total: int, isins: int, leis: list[str], rng: random.Random) -> list[Planned]:
    """The instructions in settlement order (priority, then age)."""
    securities = [
        (make_isin("XS", n, "ST"), Decimal(rng.randrange(500, 50_000)).scaleb(-2), n % 10 == 9)
        for n in range(isins)
    ]
    short, held = [s for s in securities if s[2]], [s for s in securities if not s[2]]
    n_lack = round(total * 0.10)
    lack_partial = round(n_lack * 0.30)
    with_units = round(lack_partial * 2 / 3)

    def planned(security: tuple[str, Decimal, bool], receive: bool, quantity: int) -> Planned:
        return Planned(0, *security, receive, Decimal(quantity), rng.choice(leis))

    units: list[list[Planned]] = []
    for k in range(n_lack):
        delivery = planned(rng.choice(short), False, 10 * rng.randint(100, 1_000))
        delivery.lacks, delivery.partial = True, k < lack_partial
        if k < with_units:
            receipt = planned(
                (delivery.isin, delivery.price, True),
                True,
                10 * rng.randint(1, int(delivery.quantity) // 10 - 1),
            )
            delivery.units = receipt.quantity
            units.append([receipt, delivery])
        else:
            units.append([delivery])
    units += [
        [planned(rng.choice(held), rng.random() < 0.5, 10 * rng.randint(1, 1_000))]
        for _ in range(total - n_lack - with_units)
    ]
    others = [p for unit in units for p in unit if not p.lacks]
    for p in rng.sample(others, round(total * 0.30) - lack_partial):
        p.partial = True
    rng.shuffle(units)
    values, weights = zip(*PRIORITIES, strict=True)
    for unit in units:  # a receipt and the lacking delivery after it: one priority, next in age
        priority = rng.choices(values, weights)[0]
        for p in unit:
            p.priority = priority
    flat = [p for unit in units for p in unit]
    for n, p in enumerate(flat):
        p.n = n
    return flat


@dataclass
class Expected:
    settled: int = 0
    partially: int = 0
    failed: int = 0
    lacking: set[str] = field(default_factory=set)
    partial: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    opening: defaultdict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    posted: defaultdict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    pending: defaultdict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )


def expected(flat: Sequence[Planned], securities: str, cash: str) -> Expected:
    """What the run must do, as moves of the balances (posted and pending) of our accounts."""
    out = Expected()
    for p in flat:
        sec, money_key = (f"securities:{securities}", p.isin), (f"cash:{cash}", "EUR")
        sign = 1 if p.receive else -1
        out.pending[sec] -= sign * p.quantity  # the pending entry resolved or reduced
        out.pending[money_key] += sign * p.amount
        if not p.lacks:
            out.settled += 1
            out.opening[money_key if p.receive else sec] += p.amount if p.receive else p.quantity
            out.posted[sec] += sign * p.quantity
            out.posted[money_key] -= sign * p.amount
            continue
        out.lacking.add(p.id)
        if p.partial and p.units:
            amount = (p.amount * p.units / p.quantity).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
            out.partial[p.id] = (p.units, amount)
            out.partially += 1
            out.posted[sec] -= p.units
            out.posted[money_key] += amount
            out.pending[sec] -= p.quantity - p.units  # what is left stays pending
            out.pending[money_key] += p.amount - amount
        else:
            out.failed += 1
            out.pending[sec] -= p.quantity
            out.pending[money_key] += p.amount
    return out


async def run_date(app: Any) -> date:
    """The latest day up to today on which XOFF settles."""
    today = datetime.now(UTC).date()
    params = {"from": str(today - timedelta(days=14)), "to": str(today), "kind": "settlement"}
    async with app.client() as api:
        answer = await api.get("/api/v1/calendars/XOFF/business-days", params=params)
    return date.fromisoformat(answer.json()["business_days"][-1])


async def reference(app: Any, isins: int, db: BenchDatabase) -> tuple[list[str], Any]:
    """Instruments and gross counterparties through the API; a second operations client."""
    leis = []
    async with app.client() as api:
        for n in range(isins):
            isin = make_isin("XS", n, "ST")
            body = {
                "isin": isin,
                "name": f"Bench settlement equity {isin}",
                "type": "equity",
                "currency": "EUR",
                "mic": "XOFF",
                "csdr_class": "liquid_share",
                "settlement_unit": "1",
            }
            await post_ok(api, "/instruments", body)
        for n in range(1, PARTIES + 1):
            lei = make_lei(n, "5493ST")
            await post_ok(
                api,
                "/counterparties",
                {"lei": lei, "name": f"Bench settlement party {n}", "netting": "none"},
            )
            await post_ok(
                api,
                "/ssis",
                {
                    "counterparty_lei": lei,
                    "mic": "XOFF",
                    "place_of_settlement": "MGTCBEBEECL",
                    "agent_bic": "DEUTDEFF",
                    "account": f"BENCH-ST-{n:03d}-EB",
                },
            )
            leis.append(lei)
    async with app.client("admin") as admin:
        second = await post_ok(admin, "/api-keys", {"name": "bench approver", "role": "operations"})
    return leis, second["key"]


async def setup(
    app: Any, monitor: Any, db: BenchDatabase, flat: list[Planned], day: date, approver: str
) -> tuple[str, str]:
    """Trades by COPY, cleared into instructions through the API, given the generated order,
    priorities and partial flags, and the opening balances. Returns our two account codes."""
    trade_date, now = add_weekdays(day, -2), datetime.now(UTC)
    rows = [
        trade_row(
            external_id=f"SET-{p.n:08d}",
            book="EQ-FLOW",
            lei=p.lei,
            isin=p.isin,
            side="buy" if p.receive else "sell",
            quantity=p.quantity,
            price=p.price,
            currency="EUR",
            trade_date=trade_date,
            venue="XOFF",
            settlement_date=day,
            status="confirmed",
            created_by=db.key_ids["trader"],
            now=now,
            charges=False,
        )
        for p in flat
    ]
    await copy_rows(monitor, "trades", TRADE_COLUMNS, rows)
    async with app.client() as api:
        cleared = await post_ok(
            api,
            "/clearing-runs",
            {"settlement_date": str(day)},
            expect=200,
            params={"wait": "true"},
        )
    print(f"  cleared: {cleared['status']}, {cleared['instructions']:,} instructions")
    found = await monitor.fetch(
        "SELECT t.external_id, si.id, si.securities_account, si.cash_account FROM trades t JOIN "
        "settlement_instructions si ON si.obligation_id = t.obligation_id "
        "WHERE t.settlement_date = $1",
        day,
    )
    by_n = {int(r[0].removeprefix("SET-")): r for r in found}
    for p in flat:
        p.id = by_n[p.n][1]
    created0 = datetime.combine(day, day_time(0), UTC)
    await monitor.execute(
        "UPDATE settlement_instructions si SET priority = g.priority, partial_allowed = g.partial, "
        "created_at = g.created FROM unnest($1::text[], $2::int[], $3::bool[], $4::timestamptz[]) "
        "AS g(id, priority, partial, created) WHERE si.id = g.id",
        [p.id for p in flat],
        [p.priority for p in flat],
        [p.partial for p in flat],
        [created0 + p.n * timedelta(microseconds=10) for p in flat],
    )
    securities, cash = found[0][2], found[0][3]
    lines = [
        {"account": a.partition(":")[2], "asset": asset, "amount": str(amount)}
        for (a, asset), amount in sorted(expected(flat, securities, cash).opening.items())
    ]
    async with app.client() as proposer, app.client() as second:
        second.headers["Authorization"] = f"Bearer {approver}"
        for start in range(0, len(lines), 400):
            body = {
                "kind": "opening",
                "reason": "Bench settlement opening balances",
                "value_date": str(day),
                "lines": lines[start : start + 400],
            }
            proposed = await post_ok(proposer, "/adjustments", body)
            await post_ok(second, f"/adjustments/{proposed['id']}/approve", expect=200)
    await monitor.execute(f"VACUUM ANALYZE {LOADED}")
    return securities, cash


async def baseline(monitor: Any, day: date, runs: int) -> tuple[float, dict[str, str]]:
    best, flagged = float("inf"), {}
    for _ in range(runs):
        started = time.perf_counter()
        rows = await monitor.fetch(BASELINE_SQL, day)
        best, flagged = min(best, time.perf_counter() - started), {r[0]: r[1] for r in rows}
    return best, flagged


async def balances(monitor: Any) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    rows = await monitor.fetch(
        "SELECT ledger_account, asset, posted, pending FROM ledger_balances "
        "WHERE ledger_account LIKE 'securities:%' OR ledger_account LIKE 'cash:%'"
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    result, monitor = Result(PROG, ""), await connect(db.url)
    async with in_process_app(db) as probe:
        day = await run_date(probe)
    started = time.perf_counter()
    async with in_process_app(db, clock=RunClock(day)) as app:
        leis, approver = await reference(app, args.isins, db)
        flat = plan(args.instructions, args.isins, leis, random.Random(20261202))
        securities, cash = await setup(app, monitor, db, flat, day, approver)
        want = expected(flat, securities, cash)
        print(f"setup through the API (run date {day}): {elapsed(started)}")
        best, flagged = await baseline(monitor, day, args.baseline_runs)
        before, audit_before, stats_before = (
            await balances(monitor),
            await monitor.fetchval("SELECT count(*) FROM audit_records"),
            await table_stats(monitor),
        )
        run = await measured_run(
            app,
            "/settlement-runs",
            {"settlement_date": str(day)},
            py_spy=args.py_spy,
            name="settlement run",
        )
    chunks = [
        t
        for t in run.transactions
        if t.statements["INSERT journal_entries"] or t.statements["UPDATE settlement_instructions"]
    ]
    print(chunk_line(chunks))
    print(breakdown(chunks, "per chunk settled"))
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
            await table_stats(monitor, stats_before),
            title="pg_stat_user_tables",
        )
    )
    result.checks = await checks(monitor, run.answer, want, flagged, before, audit_before)
    await monitor.close()
    walls, statements = [t.wall for t in chunks], sum(sum(t.statements.values()) for t in chunks)
    result.measures = [
        Measure(
            f"settlement run, {args.instructions:,} instructions (POST /settlement-runs?wait=true)",
            f"{fmt_int(args.instructions / run.wall)} instructions/s",
            f"SQL {fmt_ms(best)}",
            fmt_ratio(best / run.wall, GOAL),
            peak=fmt_mib(run.peak),
        ),
        Measure(
            f"  {len(chunks)} chunks: SQL statements per instruction",
            f"{statements / args.instructions:.2f}",
            p50=fmt_ms(percentile(walls, 50)),
            p99=fmt_ms(percentile(walls, 99)),
        ),
    ]
    return result


COUNTS = {
    "full": """SELECT count(*) FROM settlement_instructions WHERE status = 'settled'
        AND fail_reason IS NULL AND settled_quantity = quantity AND settled_amount = amount""",
    "open_instructions": """SELECT count(*) FROM settlement_instructions i
        JOIN pending_entries p ON p.id = i.pending_id WHERE p.status = 'open'""",
    "open": "SELECT count(*) FROM pending_entries WHERE status = 'open'",
    "entries": "SELECT count(*) FROM journal_entries WHERE source_type = 'settlement'",
    "unbalanced": """SELECT count(*) FROM (SELECT 1 FROM postings p
        JOIN journal_entries e ON e.id = p.entry_id WHERE e.source_type = 'settlement'
        GROUP BY e.id, p.asset HAVING sum(p.amount) <> 0) off""",
    "audit": "SELECT count(*) FROM audit_records",
}


async def checks(
    monitor: Any,
    run: dict[str, Any],
    want: Expected,
    flagged: dict[str, str],
    before: dict[tuple[str, str], tuple[Decimal, Decimal]],
    audit_before: int,
) -> list[Check]:
    report, total = run.get("report") or {}, want.settled + want.partially + want.failed
    n = {name: await monitor.fetchval(sql) for name, sql in COUNTS.items()}
    fails = Counter[str]()
    for item in report.get("fails", []):
        fails[item["reason"]] += int(item["instructions"])
    instructions = await monitor.fetch(
        "SELECT id, status, fail_reason, settled_quantity, settled_amount, last_run_id "
        "FROM settlement_instructions"
    )
    statuses = Counter((r[1], r[2]) for r in instructions)
    partial = {r[0]: (r[3], r[4]) for r in instructions if r[1] == "partially_settled"}
    run_lack = {r[0] for r in instructions if r[2] == "LACK"}
    sql_lack = {i for i, reason in flagged.items() if reason == "LACK"}
    trades = dict(await monitor.fetch("SELECT status, count(*) FROM trades GROUP BY status"))
    after, zero = await balances(monitor), (Decimal(0), Decimal(0))
    keys = after.keys() | before.keys() | want.posted.keys() | want.pending.keys()
    moved = {
        k: [a - b for a, b in zip(after.get(k, zero), before.get(k, zero), strict=True)]
        for k in keys
    }
    return [
        Check("run status", "completed", run.get("status")),
        Check(
            "run: total due, processed", (total, total), (run.get("total"), run.get("processed"))
        ),
        Check(
            "run: settled, partially, failed",
            (want.settled, want.partially, want.failed),
            (run.get("settled"), run.get("partially_settled"), run.get("failed")),
        ),
        Check(
            "run report: LACK, MONY, market closed",
            (len(want.lacking), 0, 0),
            (fails["LACK"], fails["MONY"], report.get("market_closed")),
        ),
        Check("instructions settled in full (quantity and amount)", want.settled, n["full"]),
        Check(
            "instructions partially_settled, LACK",
            want.partially,
            statuses[("partially_settled", "LACK")],
        ),
        Check("instructions matched, LACK (failed)", want.failed, statuses[("matched", "LACK")]),
        Check(
            "instructions tried by this run",
            total,
            sum(r[5] == run.get("id") for r in instructions),
        ),
        Check(
            "partial settlements not as generated (quantity, pro-rata amount)",
            0,
            sum(want.partial.get(i) != v for i, v in partial.items()),
        ),
        Check(
            "baseline: LACK, MONY instructions",
            (len(want.lacking), 0),
            (len(sql_lack), len(flagged) - len(sql_lack)),
        ),
        Check("baseline LACK set = generated (ids differing)", 0, len(sql_lack ^ want.lacking)),
        Check("run LACK set = generated (ids differing)", 0, len(run_lack ^ want.lacking)),
        Check(
            "balances not moved as generated",
            0,
            sum(moved[k][0] != want.posted.get(k, 0) for k in keys),
        ),
        Check(
            "pending balances not moved as generated",
            0,
            sum(moved[k][1] != want.pending.get(k, 0) for k in keys),
        ),
        Check(
            "instructions with an open pending entry (left to settle)",
            len(want.lacking),
            n["open_instructions"],
        ),
        Check("open pending entries", len(want.lacking), n["open"]),
        Check(
            "settlement journal entries (one per settlement)",
            want.settled + want.partially,
            n["entries"],
        ),
        Check("settlement entries not summing to zero per asset", 0, n["unbalanced"]),
        Check(
            "trades settled, partially settled",
            (want.settled, want.partially),
            (trades.get("settled"), trades.get("partially_settled")),
        ),
        Check(
            "audit records the run added (instructions, trades, run)",
            2 * total - want.failed + 2,
            n["audit"] - audit_before,
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(PROG, __doc__ or "", SIZES, bench, argv)


if __name__ == "__main__":
    raise SystemExit(main())
