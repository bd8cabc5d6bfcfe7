"""A settlement run through POST /settlement-runs?wait=true in process, on the app's clock pinned to
the run date, against bench/sql/settlement.sql: the same decisions and writes by hand-written
set-based SQL, run on a clone of the database made just before the run (goal: the run's
throughput >= 0.5 of the script's). Setup through the API: XOFF equities (every tenth nobody
holds), gross counterparties, trades by COPY cleared into one matched instruction each; 10 %
lack securities, some of which settle partially after a smaller receipt; opening balances by
four-eyes adjustments.

    python -m bench.settlement [--full] [--instructions N] [--isins N] [--baseline-runs N]

Checks: run counts and report; each instruction's outcome and amounts; baseline = run = generated
outcomes; the script wrote what the run wrote; balances and pending balances moved as generated;
entries balanced; audit counts.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from bench.lib import cli, data
from bench.lib.baseline import inserted, run_script, run_writes, steps_table, writes_table
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import PgCounters
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, fmt_ratio
from bench.lib.runs import breakdown, measured_run
from bench.lib.servers import in_process_app

PROG = "bench.settlement"
SIZES = (
    cli.Size("instructions", 5_000, 100_000, "matched instructions due on the run date"),
    cli.Size("isins", 200, 200, "equities (every tenth short)"),
    cli.Size("baseline_runs", 1, 3, "set-based SQL baseline runs (the best is taken)"),
)
GOAL = 0.5  # run throughput / the set-based SQL's (its seconds / the run's)
LEIS = [data.make_lei(n, "5493ST") for n in range(1, 21)]  # counterparties settling gross
PRIORITIES = ((10, 10), (30, 20), (50, 60), (70, 10))  # value, weight
LOADED = "clearing_runs, obligations, settlement_instructions, instruments, pending_entries"
LOADED += ", pending_postings"  # no autovacuum on this server: statistics as it would keep
OUTCOMES_SQL = """SELECT id, outcome, fail_reason, settled_quantity, settled_amount
    FROM bench_outcome"""


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
        return data.money(self.quantity * self.price)


def plan(total: int, isins: int, rng: random.Random) -> list[Planned]:
    """The instructions in settlement order (priority, then age)."""
    securities = [
        (data.make_isin("XS", n, "ST"), Decimal(rng.randrange(500, 50_000)).scaleb(-2), n % 10 == 9)
        for n in range(isins)
    ]
    short, held = [s for s in securities if s[2]], [s for s in securities if not s[2]]
    n_lack = round(total * 0.10)
    lack_partial = round(n_lack * 0.30)
    with_units = round(lack_partial * 2 / 3)

    def planned(security: tuple[str, Decimal, bool], receive: bool, quantity: int) -> Planned:
        return Planned(0, *security, receive, Decimal(quantity), rng.choice(LEIS))

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


Moves = defaultdict[tuple[str, str], Decimal]  # (ledger account, asset): amount


@dataclass
class Expected:
    """What the run must do. Pending balances move opposite to ``posted``: what settles leaves
    its instruction's pending entry."""

    settled: int = 0
    partially: int = 0
    failed: int = 0
    lacking: set[str] = field(default_factory=set)
    partial: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    opening: Moves = field(default_factory=lambda: defaultdict(Decimal))
    posted: Moves = field(default_factory=lambda: defaultdict(Decimal))  # by the run


def expected(flat: Sequence[Planned], securities: str, cash: str) -> Expected:
    out = Expected()
    for p in flat:
        sec, eur = (f"securities:{securities}", p.isin), (f"cash:{cash}", "EUR")
        sign, qty, amount = 1 if p.receive else -1, p.quantity, p.amount
        if p.lacks:  # settles the receipt before it, pro rata, when partial is allowed; else none
            out.lacking.add(p.id)
            qty = p.units if p.partial else Decimal(0)
            amount = (p.amount * qty / p.quantity).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
            out.partial.update({p.id: (qty, amount)} if qty else {})
        elif p.receive:
            out.opening[eur] += amount  # the cash every receipt pays
        else:
            out.opening[sec] += qty  # what is delivered of each held ISIN
        out.settled += not p.lacks
        out.partially += bool(p.lacks and qty)
        out.failed += bool(p.lacks and not qty)
        out.posted[sec] += sign * qty
        out.posted[eur] -= sign * amount
    return out


async def run_date(app: Any) -> date:
    """The latest day up to today on which XOFF settles."""
    today = datetime.now(UTC).date()
    params = {"from": str(today - timedelta(days=14)), "to": str(today), "kind": "settlement"}
    async with app.client() as api:
        answer = await api.get("/api/v1/calendars/XOFF/business-days", params=params)
    return date.fromisoformat(answer.json()["business_days"][-1])


async def setup(
    app: Any, monitor: Any, db: BenchDatabase, flat: list[Planned], day: date, isins: int
) -> tuple[str, str]:
    """Reference, trades cleared into instructions, their order, the opening balances."""
    parties = [(lei, f"Bench settlement party {n}", "none") for n, lei in enumerate(LEIS)]
    equities = [(data.make_isin("XS", n, "ST"), "XOFF", "EUR") for n in range(isins)]
    async with app.client() as api:
        await data.create_reference(api, equities, parties)
    by, trade_date = db.key_ids["trader"], data.add_weekdays(day, -2)
    rows = []
    for p in flat:
        terms = (p.lei, p.isin, "buy" if p.receive else "sell", p.quantity, p.price, "EUR")
        at = (trade_date, "XOFF", day, "confirmed", by)
        rows.append(data.trade_row(f"SET-{p.n:08d}", "EQ-FLOW", *terms, *at, charges=False))
    await copy_rows(monitor, "trades", data.TRADE_COLUMNS, rows)
    async with app.client() as api:
        body, wait = {"settlement_date": str(day)}, {"wait": "true"}
        cleared = await data.post_ok(api, "/clearing-runs", body, expect=200, params=wait)
    print(f"  cleared: {cleared['status']}, {cleared['instructions']:,} instructions")
    found = {int(r[0][4:]): r[1:] for r in await monitor.fetch(INSTRUCTIONS_SQL, day)}
    for p in flat:
        p.id = found[p.n][0]
    created0 = datetime.combine(day, day_time(0), UTC)
    columns = ([p.id for p in flat], [p.priority for p in flat], [p.partial for p in flat])
    ages = [created0 + p.n * timedelta(microseconds=10) for p in flat]
    await monitor.execute(ORDER_SQL, *columns, ages)
    securities, cash = found[0][1], found[0][2]
    opening = sorted(expected(flat, securities, cash).opening.items())
    lines = [
        {"account": account.partition(":")[2], "asset": asset, "amount": str(amount)}
        for (account, asset), amount in opening
    ]
    async with app.client("admin") as admin, app.client() as proposer, app.client() as approver:
        issued = await data.post_ok(admin, "/api-keys", {"name": "approver", "role": "operations"})
        approver.headers["Authorization"] = f"Bearer {issued['key']}"
        for start in range(0, len(lines), 400):
            part = {"lines": lines[start : start + 400], "value_date": str(day)}
            adjustment = {"kind": "opening", "reason": "Bench opening", **part}
            proposed = await data.post_ok(proposer, "/adjustments", adjustment)
            await data.post_ok(approver, f"/adjustments/{proposed['id']}/approve", expect=200)
    await monitor.execute(f"VACUUM ANALYZE {LOADED}")
    return securities, cash


INSTRUCTIONS_SQL = """SELECT t.external_id, si.id, si.securities_account, si.cash_account
    FROM trades t JOIN settlement_instructions si ON si.obligation_id = t.obligation_id
    WHERE t.settlement_date = $1"""
ORDER_SQL = """UPDATE settlement_instructions si
    SET priority = g.priority, partial_allowed = g.partial, created_at = g.created,
        partial_indicator = CASE WHEN g.partial THEN 'PART' ELSE 'NPAR' END
    FROM unnest($1::text[], $2::int[], $3::bool[], $4::timestamptz[])
         AS g(id, priority, partial, created)
    WHERE si.id = g.id"""


async def balances(monitor: Any) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    rows = await monitor.fetch(
        "SELECT ledger_account, asset, posted, pending FROM ledger_balances "
        "WHERE ledger_account LIKE 'securities:%' OR ledger_account LIKE 'cash:%'"
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    monitor, started = await connect(db.url), time.perf_counter()
    async with in_process_app(db) as probe:
        day = await run_date(probe)
    clock = RunClock(day)  # one clock for setup and run: the run comes after what setup booked
    async with in_process_app(db, clock=clock) as app:
        flat = plan(args.instructions, args.isins, random.Random(20261202))
        securities, cash = await setup(app, monitor, db, flat, day, args.isins)
    print(f"setup through the API (run date {day}): {time.perf_counter() - started:.1f} s")
    await monitor.close()  # the baseline clones the database: nothing may be connected to it
    settings = {"bench.day": str(day), "bench.actor": db.key_ids["operations"]}
    sql = await run_script(db, "settlement", settings, args.baseline_runs, OUTCOMES_SQL)
    print(steps_table(sql, f"set-based SQL baseline: {fmt_ms(sql.seconds)}"))
    monitor = await connect(db.url)
    async with in_process_app(db, clock=clock) as app:
        before, counters = await balances(monitor), PgCounters(monitor)
        await counters.start()
        audit = await monitor.fetchval("SELECT count(*) FROM audit_records")
        body = {"settlement_date": str(day)}
        run = await measured_run(app, "/settlement-runs", body, args.py_spy, "settlement run")
    per = 1000 / args.instructions
    print(
        f"CPU per instruction: run {run.cpu * per:.3f} ms in the app's process, "
        f"{run.backend_cpu * per:.3f} ms in its PostgreSQL backends; "
        f"set-based SQL {sql.backend_cpu * per:.3f} ms in its backend"
    )
    writes = ("INSERT journal_entries", "UPDATE settlement_instructions")
    chunks = [t for t in run.transactions if any(t.statements[w] for w in writes)]
    print(breakdown(chunks, "chunks settled"))
    await counters.stop()  # the app's connections closed: their table counters flushed
    print(counters.tables_table("during the run"))
    written = run_writes(counters)
    print(writes_table(written, sql.writes))
    want = expected(flat, securities, cash)
    checks = await check(monitor, run.answer, want, sql.rows, before, audit)
    checks.append(
        Check(
            f"rows inserted in {len(SAME_WRITES)} tables (rows written): SQL baseline = run",
            inserted(written, SAME_WRITES),
            inserted(sql.writes, SAME_WRITES),
        )
    )
    await monitor.close()
    walls, statements = [t.wall for t in chunks], sum(sum(t.statements.values()) for t in chunks)
    name = f"settlement run: {args.instructions:,} instructions"
    rate, ratio = fmt_int(args.instructions / run.wall), fmt_ratio(sql.seconds / run.wall, GOAL)
    baseline = f"set-based SQL {fmt_int(args.instructions / sql.seconds)} instructions/s"
    run_measure = Measure(name, f"{rate} instructions/s", baseline, ratio)
    per = f"{statements / args.instructions:.2f}"
    measures = [
        replace(run_measure, peak=fmt_mib(run.peak)),
        Measure.timed(f"  {len(chunks)} chunks: SQL statements per instruction", per, walls),
    ]
    return Result(PROG, "", measures, checks)


# What the script must write as the run does, row for row.
SAME_WRITES = ("journal_entries", "postings", "pending_entries", "pending_postings")


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


async def check(
    monitor: Any,
    run: dict[str, Any],
    want: Expected,
    outcomes: Sequence[Any],
    before: dict[tuple[str, str], tuple[Decimal, Decimal]],
    audit_before: int,
) -> list[Check]:
    report, total = run.get("report") or {}, want.settled + want.partially + want.failed
    n = {name: await monitor.fetchval(sql) for name, sql in COUNTS.items()}
    fails = Counter[str]()
    for item in report.get("fails", []):
        fails[item["reason"]] += int(item["instructions"])
    rows = await monitor.fetch(
        "SELECT id, status, fail_reason, settled_quantity, settled_amount, last_run_id "
        "FROM settlement_instructions"
    )
    statuses = Counter((r[1], r[2]) for r in rows)
    partial = {r[0]: (r[3], r[4]) for r in rows if r[1] == "partially_settled"}
    run_lack, lacking = {r[0] for r in rows if r[2] == "LACK"}, want.lacking
    sql_lack = {r["id"] for r in outcomes if r["fail_reason"] == "LACK"}
    sql_counts = Counter(r["outcome"] for r in outcomes)
    sql_partial = {
        r["id"]: (r["settled_quantity"], r["settled_amount"])
        for r in outcomes
        if r["outcome"] == "partially_settled"
    }
    trades = dict(await monitor.fetch("SELECT status, count(*) FROM trades GROUP BY status"))
    after, zero = await balances(monitor), (Decimal(0), Decimal(0))
    keys = after.keys() | before.keys() | want.posted.keys()
    moved = {
        k: [a - b for a, b in zip(after.get(k, zero), before.get(k, zero), strict=True)]
        for k in keys
    }
    done, partly, failed, lack = want.settled, want.partially, want.failed, len(lacking)
    moved_off = sum(moved[k][0] != want.posted[k] for k in keys)
    pending_off = sum(moved[k][1] != -want.posted[k] for k in keys)  # what settles leaves pending
    counts = tuple(
        run.get(k) for k in ("total", "processed", "settled", "partially_settled", "failed")
    )
    reported = (fails["LACK"], fails["MONY"], report.get("market_closed"))
    partial_off = sum(want.partial.get(i) != v for i, v in partial.items())
    partial_differ = sum(partial.get(i) != v for i, v in sql_partial.items())
    partial_differ += len(partial.keys() ^ sql_partial.keys())
    baseline = (len(sql_lack), sum(r["fail_reason"] == "MONY" for r in outcomes))
    pending, entries = (n["open_instructions"], n["open"]), (n["entries"], n["unbalanced"])
    moved_trades = (trades.get("settled"), trades.get("partially_settled"))
    return [
        Check("run status", "completed", run.get("status")),
        Check(
            "run: due, processed, settled, partially, failed",
            (total, total, done, partly, failed),
            counts,
        ),
        Check("run report: LACK, MONY, market closed", (lack, 0, 0), reported),
        Check("instructions settled in full (quantity, amount)", done, n["full"]),
        Check(
            "instructions partially_settled, LACK", partly, statuses[("partially_settled", "LACK")]
        ),
        Check("instructions matched, LACK (failed)", failed, statuses[("matched", "LACK")]),
        Check("instructions tried by this run", total, sum(r[5] == run.get("id") for r in rows)),
        Check("partial settlements not as generated (quantity, amount)", 0, partial_off),
        Check("baseline: LACK, MONY", (lack, 0), baseline),
        Check("baseline LACK set = generated (ids differing)", 0, len(sql_lack ^ lacking)),
        Check(
            "baseline: settled, partially, failed",
            (done, partly, failed),
            tuple(sql_counts[k] for k in ("settled", "partially_settled", "failed")),
        ),
        Check("baseline partial settlements not as the run's", 0, partial_differ),
        Check("run LACK set = generated (ids differing)", 0, len(run_lack ^ lacking)),
        Check(
            "balances, pending balances not moved as generated", (0, 0), (moved_off, pending_off)
        ),
        Check("instructions with an open pending entry; open entries", (lack, lack), pending),
        Check("settlement entries, one per settlement; unbalanced", (done + partly, 0), entries),
        Check("trades settled, partially settled", (done, partly), moved_trades),
        Check("audit records the run added", 2 * total - failed + 2, n["audit"] - audit_before),
    ]


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
