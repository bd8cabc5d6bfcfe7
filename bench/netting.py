"""Clearing a settlement date (novation, netting, instructions) through POST /clearing-runs in
process (?wait=true), against bench/sql/clearing.sql: the same writes by hand-written set-based
SQL, run on a clone of the database made just before the run (goal: the run's throughput >= 0.5
of the script's). Reference through the API (equities on XNYS, XPAR, XETR with CCPs and XOFF
without; counterparties, every fourth gross), trades by COPY; each transaction of the run told
apart by what it writes.

    python -m bench.netting [--full] [--trades N] [--isins N] [--counterparties N]

Checks: the script wrote what the run wrote; obligations = GROUP BY row for row and the generated
sums; lineage covers each trade once; CCP trades face the CCP; novation balances; one instruction
per moving obligation; audit counts.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bench.lib import cli, data
from bench.lib.baseline import inserted, run_script, run_writes, steps_table, writes_table
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import PgCounters, Transaction
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, fmt_ratio
from bench.lib.runs import background, breakdown, measured_run, timeline
from bench.lib.servers import in_process_app

PROG = "bench.netting"
SIZES = (
    cli.Size("trades", 20_000, 200_000, "trades due on the date"),
    cli.Size("isins", 200, 200, "equities"),
    cli.Size("counterparties", 50, 50, "counterparties"),
    cli.Size("baseline_runs", 1, 3, "set-based SQL baseline runs (the best is taken)"),
)
SETTLEMENT_DATE = date(2026, 11, 25)  # T+1 from XNYS's Tue 24th, T+2 from the EU's Mon 23rd
MARKETS = (  # mic, share of the ISINs (%), ISIN country, currency, trade date (T+1 / T+2)
    ("XNYS", 30, "US", "USD", date(2026, 11, 24)),
    ("XPAR", 25, "FR", "EUR", date(2026, 11, 23)),
    ("XETR", 25, "DE", "EUR", date(2026, 11, 23)),
    ("XOFF", 20, "XS", "EUR", date(2026, 11, 23)),
)
TRADE_DATES = {market[0]: market[4] for market in MARKETS}
# The trades the app clears per transaction (app/clearing/runs/work.py): one novation entry each,
# which the baseline script writes alike (the rows-written check tells when they part).
CLEARING_CHUNK = 5_000
GOAL = 0.5  # run throughput / the set-based SQL's (its seconds / the run's)
Key = tuple[str, str, str, str, date, str | None]  # set, counterparty, ISIN, ccy, date, gross trade

GROUP_BY_SQL = """
SELECT CASE WHEN m.ccp IS NOT NULL THEN 'ccp'
            WHEN c.netting = 'bilateral' THEN 'bilateral' ELSE 'gross' END AS netting_set,
       coalesce(ccp.lei, t.counterparty_lei) AS counterparty, t.isin, t.currency, t.settlement_date,
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


@dataclass
class Totals:
    """Signed from our side, as netting sees it: a buy receives securities and pays cash."""

    quantity: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    trades: int = 0

    def add(self, other: Totals) -> None:
        self.quantity, self.amount = self.quantity + other.quantity, self.amount + other.amount
        self.trades += other.trades


def by_isin(items: dict[Key, Totals]) -> dict[tuple[str, str], Totals]:
    out: defaultdict[tuple[str, str], Totals] = defaultdict(Totals)
    for key, totals in items.items():
        out[(key[2], key[3])].add(totals)
    return dict(out)


def differ(a: dict[Any, Totals], b: dict[Any, Totals]) -> int:
    return sum(1 for key in a.keys() | b.keys() if a.get(key, Totals()) != b.get(key, Totals()))


def universe(
    args: argparse.Namespace,
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Equities (ISIN, venue, currency) in the markets' shares, and counterparties (LEI, name,
    netting): every fourth settles gross."""
    cuts = [sum(m[1] for m in MARKETS[: i + 1]) for i in range(len(MARKETS))]  # 30, 55, 80, 100
    equities = []
    for n in range(1, args.isins + 1):
        share = 100 * (n - 1) // args.isins
        mic, _, country, currency, _ = MARKETS[next(i for i, cut in enumerate(cuts) if share < cut)]
        equities.append((data.make_isin(country, n), mic, currency))
    nettings = ["none" if n % 4 == 0 else "bilateral" for n in range(1, args.counterparties + 1)]
    parties = [(data.make_lei(n, "5493NT"), f"Party {n}", s) for n, s in enumerate(nettings, 1)]
    return equities, parties


async def load_trades(
    monitor: Any, equities: list[tuple[str, str, str]], leis: list[str], trades: int, by: str
) -> dict[tuple[str, str], Totals]:
    """COPY the trades in chunks (generated chunk by chunk); what each (ISIN, currency) nets to."""
    rng, expected = random.Random(11), defaultdict[tuple[str, str], Totals](Totals)
    prices = {isin: Decimal(rng.randrange(500, 50_000)).scaleb(-2) for isin, _, _ in equities}
    for start in range(0, trades, 20_000):
        rows = []
        for n in range(start, min(trades, start + 20_000)):
            isin, mic, ccy = rng.choice(equities)
            side, qty = rng.choice(("buy", "sell")), Decimal(10 * rng.randint(1, 1_000))
            price = max(prices[isin] + Decimal("0.01") * rng.randint(-200, 200), Decimal("0.01"))
            terms = (rng.choice(leis), isin, side, qty, price, ccy, TRADE_DATES[mic], mic)
            rows.append(
                data.trade_row(f"NET-{n:08d}", "EQ-FLOW", *terms, SETTLEMENT_DATE, "confirmed", by)
            )
            net, buy = data.amounts(side, qty, price)[3], side == "buy"
            expected[(isin, ccy)].add(Totals(qty if buy else -qty, -net if buy else net, 1))
        await copy_rows(monitor, "trades", data.TRADE_COLUMNS, rows)
    await monitor.execute("VACUUM ANALYZE trades")
    return dict(expected)


async def group_by(monitor: Any) -> tuple[float, dict[Key, Totals]]:
    started = time.perf_counter()
    rows = await monitor.fetch(GROUP_BY_SQL, SETTLEMENT_DATE)
    seconds = time.perf_counter() - started
    return seconds, {(r[0], r[1], r[2], r[3], r[4], r[5]): Totals(r[6], r[7], r[8]) for r in rows}


def efficiency(report: dict[str, Any]) -> str:
    """Netting efficiency by value per netting set and currency, from the run's report."""
    sums: defaultdict[tuple[str, str], tuple[Decimal, Decimal]] = defaultdict(
        lambda: (Decimal(0), Decimal(0))
    )
    for row in report.get("by_counterparty", []):
        key = (row["netting_set"], row["currency"])
        gross, net = sums[key]
        sums[key] = (gross + Decimal(row["gross_value"]), net + Decimal(row["net_value"]))
    shares = [f"{s} {c} {100 * (1 - n / g):.1f}%" for (s, c), (g, n) in sorted(sums.items()) if g]
    return "netting efficiency by value: " + ", ".join(shares)


def kind_of(t: Transaction) -> str:
    """What a transaction of the run did, by the statements it sent."""
    for label, kind in (
        ("INSERT obligation_trades", "clear a chunk"),
        ("INSERT settlement_instructions", "create the instructions"),
        # The instructions go in by COPY (unseen by engine events): the transaction that makes
        # them is the one reading the counterparties' SSIs.
        ("SELECT ssis", "create the instructions"),
        ("UPDATE trades", "trades -> instructed"),
        # A batch's last chunk can find its trades all moved already: nothing to UPDATE.
        ("SELECT trades FOR UPDATE", "trades -> instructed"),
        ("INSERT clearing_runs", "start the run"),
        ("INSERT audit_records", "complete the run"),  # the run row's last audited move
        ("UPDATE clearing_runs", "claim the run (its lease)"),
        ("SELECT obligations", "prepare (what earlier chunks wrote)"),
    ):
        if t.statements[label]:
            return kind
    return "reads (API key, checks, the answer)"


def growth(transactions: list[Transaction], kind: str) -> str:
    """Whether a kind of transaction slows down as the run goes: its first and last tenth."""
    tenth = max(len(transactions) // 10, 1)
    first, last = transactions[:tenth], transactions[-tenth:]

    def ms(items: list[Transaction], of: Any) -> str:
        return f"{1000 * sum(of(t) for t in items) / max(len(items), 1):,.0f}"

    return (
        f"{kind}, first and last {tenth} of {len(transactions)}: wall {ms(first, lambda t: t.wall)}"
        f" -> {ms(last, lambda t: t.wall)} ms, SQL {ms(first, lambda t: t.sql_s)} ->"
        f" {ms(last, lambda t: t.sql_s)} ms, PostgreSQL CPU {ms(first, lambda t: t.backend_cpu_s)}"
        f" -> {ms(last, lambda t: t.backend_cpu_s)} ms"
    )


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    result, monitor = Result(PROG, ""), await connect(db.url)
    equities, parties = universe(args)
    async with in_process_app(db) as app, app.client() as api:
        await data.create_reference(api, equities, parties)
    started = time.perf_counter()
    leis = [lei for lei, _, _ in parties]
    expected = await load_trades(monitor, equities, leis, args.trades, db.key_ids["trader"])
    print(f"load: {args.trades:,} trades in {time.perf_counter() - started:.1f} s")
    _, grouped = await group_by(monitor)
    await monitor.close()  # the baseline clones the database: nothing may be connected to it
    settings = {
        "bench.day": str(SETTLEMENT_DATE),
        "bench.actor": db.key_ids["operations"],
        "bench.chunk": str(CLEARING_CHUNK),
    }
    sql = await run_script(db, "clearing", settings, args.baseline_runs)
    print(steps_table(sql, f"set-based SQL baseline: {fmt_ms(sql.seconds)}"))
    monitor = await connect(db.url)
    async with in_process_app(db) as app:
        audit_before = await monitor.fetchval("SELECT coalesce(max(id), 0) FROM audit_records")
        counters = PgCounters(monitor)
        await counters.start()
        body = {"settlement_date": str(SETTLEMENT_DATE)}
        run = await measured_run(app, "/clearing-runs", body, args.py_spy, "clearing run")
        unsealed = await monitor.fetchval("SELECT count(*) FROM audit_unsealed")
        print(f"audit records the sealer had still to seal when the run answered: {unsealed:,}")
    await counters.stop()  # the app's connections closed: their table counters flushed
    _, after = await group_by(monitor)
    written = run_writes(counters)
    print(writes_table(written, sql.writes))
    print(timeline(run, kind_of))
    print(background(run))
    chunks = [t for t in run.transactions if kind_of(t) == "clear a chunk"]
    print(growth(chunks, "clear a chunk"))
    moves = [t for t in run.transactions if kind_of(t) == "trades -> instructed"]
    print(growth(moves, "trades -> instructed"))
    print(breakdown(chunks, "chunks cleared"))
    for kind in ("create the instructions", "trades -> instructed"):
        print(breakdown([t for t in run.transactions if kind_of(t) == kind], kind))
    print(efficiency(run.answer.get("report") or {}))
    result.checks = await checks(
        monitor, run.answer, expected, grouped, after, audit_before, args.trades
    )
    result.checks.append(
        Check(
            f"rows inserted in {len(SAME_WRITES)} tables (rows written): SQL baseline = run",
            inserted(written, SAME_WRITES),
            inserted(sql.writes, SAME_WRITES),
        )
    )
    await monitor.close()
    walls = [t.wall for t in chunks]
    chunk_rate = fmt_int(args.trades / max(sum(walls), 1e-9))
    name = f"clearing run: {args.trades:,} trades"
    rate, ratio = fmt_int(args.trades / run.wall), fmt_ratio(sql.seconds / run.wall, GOAL)
    baseline = f"set-based SQL {fmt_int(args.trades / sql.seconds)} trades/s"
    result.measures = [
        Measure(name, f"{rate} trades/s", baseline, ratio, peak=fmt_mib(run.peak)),
        Measure.timed(f"  {len(chunks)} clearing chunks", f"{chunk_rate} trades/s", walls),
    ]
    return result


# What the script must write as the run does, row for row (balances and their daily rows, and
# audit records, differ in number by design: the run updates an obligation again in each chunk
# that adds to it, and audits each update).
SAME_WRITES = (
    "obligations",
    "obligation_trades",
    "journal_entries",
    "postings",
    "settlement_instructions",
    "pending_entries",
    "pending_postings",
    "outbound_messages",
)


CHECK_SQL = {
    "statuses": "SELECT status, count(*) FROM trades WHERE settlement_date = $1 GROUP BY status",
    "lineage": """SELECT count(*) FROM trades t JOIN obligation_trades ot ON ot.trade_id = t.id
        JOIN obligations o ON o.id = ot.obligation_id
        WHERE t.settlement_date = $1 AND o.run_id = $2 AND t.obligation_id = o.id""",
    "obligations": """SELECT netting_set, counterparty_lei, isin, currency, settlement_date,
        netting_key, net_quantity, net_amount, trade_count, direction
        FROM obligations WHERE run_id = $1""",
    "wrong_ccp": """SELECT count(*) FROM trades t JOIN markets m ON m.mic = t.venue
        JOIN counterparties ccp ON ccp.bic = m.ccp
        WHERE t.settlement_date = $1 AND t.counterparty_of_record IS DISTINCT FROM ccp.lei""",
    "unbalanced": """SELECT count(*) FROM (SELECT 1 FROM postings p
        JOIN journal_entries e ON e.id = p.entry_id
        WHERE e.source_type = 'clearing' AND e.source_id = $1
        GROUP BY e.id, p.asset HAVING sum(p.amount) <> 0) off""",
    "moved": """SELECT p.ledger_account, p.asset, sum(p.amount) FROM postings p
        JOIN journal_entries e ON e.id = p.entry_id
        WHERE e.source_type = 'clearing' AND e.source_id = $1
        AND p.ledger_account = ANY($2::text[]) GROUP BY 1, 2""",
    "instructions": """SELECT si.status, count(*) FROM settlement_instructions si
        JOIN obligations o ON o.id = si.obligation_id WHERE o.run_id = $1 GROUP BY si.status""",
    "audit": """SELECT CASE WHEN entity_type IN ('trade', 'obligation')
        THEN entity_type || ' ' || action ELSE entity_type END, count(*)
        FROM audit_records WHERE id > $1 AND actor_role = 'operations' GROUP BY 1""",
    "messages": """SELECT count(*) FROM outbound_messages m
        JOIN settlement_instructions si ON si.id = m.instruction_id
        JOIN obligations o ON o.id = si.obligation_id WHERE o.run_id = $1""",
}


async def checks(
    monitor: Any,
    run: dict[str, Any],
    expected: dict[Any, Totals],
    grouped: dict[Key, Totals],
    after: dict[Key, Totals],
    audit_before: int,
    trades: int,
) -> list[Check]:
    run_id, day, q, report = run.get("id", ""), SETTLEMENT_DATE, CHECK_SQL, run.get("report") or {}
    n = {
        name: await monitor.fetchval(q[name], *args)
        for name, args in (
            ("lineage", (day, run_id)),
            ("wrong_ccp", (day,)),
            ("unbalanced", (run_id,)),
        )
    }
    statuses = dict(await monitor.fetch(q["statuses"], day))
    obligations = await monitor.fetch(q["obligations"], run_id)
    made = {(*o[:5], o[5].rsplit("|", 1)[1] or None): Totals(o[6], o[7], o[8]) for o in obligations}
    moving = sum(1 for o in obligations if o["direction"] != "none")
    ccps = [f"counterparty:{k[1]}" for k in grouped if k[0] == "ccp"]  # the CCP's ledger account
    moved = await monitor.fetch(q["moved"], run_id, ccps)
    at_ccp = {(r[0].partition(":")[2], r[1]): r[2] for r in moved}
    wanted: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, totals in grouped.items():
        if key[0] == "ccp":
            wanted[(key[1], key[2])] += totals.quantity
            wanted[(key[1], key[3])] += totals.amount
    novation_off = sum(at_ccp.get(k, 0) != wanted.get(k, 0) for k in at_ccp.keys() | wanted.keys())
    instructions = dict(await monitor.fetch(q["instructions"], run_id))
    made_instructions, instructed = sum(instructions.values()), statuses.get("instructed", 0)
    audit = dict(await monitor.fetch(q["audit"], audit_before))
    messages = await monitor.fetchval(q["messages"], run_id)
    reported = (report.get("trades"), report.get("obligations"), report.get("exceptions_count"))
    return [
        Check("run status", "completed", run.get("status")),
        Check(
            "run: processed, instructions",
            (trades, made_instructions),
            (run.get("processed"), run.get("instructions")),
        ),
        Check(
            "report: trades, obligations moving something, left out", (trades, moving, 0), reported
        ),
        Check("trades instructed", trades, instructed),
        Check("trades in exactly one obligation of the run (lineage)", trades, n["lineage"]),
        Check("obligations = GROUP BY rows", len(grouped), len(made)),
        Check("obligations differing from their GROUP BY row", 0, differ(made, grouped)),
        Check("GROUP BY rows changed by the run", 0, differ(grouped, after)),
        Check(
            "(ISIN, ccy) where obligations and generated sums differ",
            0,
            differ(by_isin(made), expected),
        ),
        Check("CCP trades whose counterparty of record is not the CCP", 0, n["wrong_ccp"]),
        Check("novation entries not summing to zero per asset", 0, n["unbalanced"]),
        Check("(CCP, asset) where novation differs from the GROUP BY", 0, novation_off),
        Check("instructions (one per obligation moving something)", moving, made_instructions),
        Check("instructions in repair", 0, instructions.get("repair", 0)),
        Check(
            "audit records: run, trades cleared, instructed, obligations, instructions, messages",
            (2, trades, instructed, len(made), made_instructions, messages),
            tuple(
                audit.get(kind, 0)
                for kind in (
                    "clearing_run",
                    "trade cleared",
                    "trade instructed",
                    "obligation created",
                    "settlement_instruction",
                    "outbound_message",
                )
            ),
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
