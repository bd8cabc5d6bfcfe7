"""A cash reconciliation run through POST /reconciliation-runs?wait=true in process: one day's
statement of CASH-EUR against the book's cash movements of that value date, with seeded
differences; against bench/sql/reconciliation.sql: the run's matching and writes (run row,
matches and matched items, breaks, one audit record queued per row created or changed) by
hand-written set-based SQL, run on a clone of the database made just before the run (goal: the
run's throughput >= 0.5 of the script's).

Setup (not timed): the book movements posted through ``app.positions.journal.post`` in large
transactions (cash against the counterparty, source a settlement instruction); the statement
written as the bank would send it (the service's JSON format), read by the app's own parser and
stored as ``POST /statements`` stores it (file, statement, entries; by COPY, without the audit
records of the receipt). Seeded differences, in eighths of the share asked for: 3 statement lines
the book does not know (a fee, a payment in), 1 movement the bank does not show, 2 pairs an amount
apart beyond tolerance, 1 net payment for 3 settlements, 1 pair a cent apart (within tolerance);
each with a counterparty of its own, so no rule can pair it with anything but what was seeded.

    python -m bench.reconciliation [--full] [--lines N] [--differences PCT] [--baseline-runs N]

Checks: matches per rule and items matched as seeded; breaks per kind, their amounts; each net
payment with its three settlements; the balance break; audit records; the script's matches and
breaks = the run's, and it inserted as many rows per table; GET /ledger/check.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any

from bench.lib import cli, data
from bench.lib.baseline import inserted, run_script, run_writes, steps_table, writes_table
from bench.lib.data import API
from bench.lib.db import BenchDatabase, connect, copy_rows
from bench.lib.measure import PgCounters
from bench.lib.report import Check, Measure, Result, fmt_int, fmt_mib, fmt_ms, fmt_ratio
from bench.lib.runs import breakdown, measured_run
from bench.lib.servers import in_process_app

PROG = "bench.reconciliation"
SIZES = (
    cli.Size("lines", 10_000, 100_000, "statement lines, and as many book movements"),
    cli.Size("differences", 2.0, 2.0, "seeded differences, per cent of the lines"),
    cli.Size("baseline_runs", 3, 3, "set-based SQL baseline runs (the best is taken)"),
    cli.Size("entries_per_post", 5_000, 5_000, "book movements per journal transaction (setup)"),
)
GOAL = 0.5  # run throughput / the set-based SQL's (its seconds / the run's)
ACCOUNT, CURRENCY, IBAN = "CASH-EUR", "EUR", "DE89370400440532013000"
LEIS = [data.make_lei(n, "5493RC") for n in range(1, 21)]  # counterparties of the clean pairs
LOADED = "journal_entries, postings, statement_entries, bank_statements, ledger_balances"
# What the run and the script found, to compare: matches by rule and items, breaks by kind and
# key (the items, or what the break is about), with their amounts.
FOUND_SQL = """SELECT 'match' AS what, rule AS kind, key, amount_difference AS amount
    FROM reconciliation_matches WHERE run_id = {run}
    UNION ALL SELECT 'break', kind, key, amount FROM reconciliation_breaks
    WHERE found_by_run = {run}"""
SCRIPT_FOUND_SQL = FOUND_SQL.format(run="(SELECT id FROM bench_run)")
# What the script must write as the run does, row for row.
SAME_WRITES = (
    "reconciliation_runs",
    "reconciliation_matches",
    "matched_items",
    "reconciliation_breaks",
    "audit_records",
)
MISSING_IN_BOOK, MISSING_AT_BANK = "missing_in_book", "missing_at_bank"
AMOUNT_DIFFERENCE, BALANCE = "amount_difference", "balance"
EXACT, CENT_RULE, NETS = "exact-reference", "exact-reference-cent", "one-to-many"


@dataclass(frozen=True, slots=True)
class Line:
    """A statement line as generated: the references the bank quotes, whose it is, amount."""

    end_to_end_id: str
    bank_reference: str
    lei: str
    amount: Decimal
    remittance: str | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    """A book movement as generated: its instruction, counterparty, amount into our cash."""

    source_id: str
    lei: str
    amount: Decimal


@dataclass
class Plan:
    lines: list[Line] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    seeded: Counter[str] = field(default_factory=Counter)  # kind -> how many
    # break kind -> the sum of its amounts
    amounts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    nets: dict[str, frozenset[str]] = field(default_factory=dict)  # line e2e -> movements

    @property
    def matches(self) -> dict[str, int]:
        return {
            EXACT: self.seeded["clean"],
            CENT_RULE: self.seeded["cent"],
            NETS: self.seeded["net"],
        }

    @property
    def breaks(self) -> dict[str, int]:
        return {
            MISSING_IN_BOOK: self.seeded[MISSING_IN_BOOK],
            MISSING_AT_BANK: self.seeded[MISSING_AT_BANK],
            AMOUNT_DIFFERENCE: self.seeded[AMOUNT_DIFFERENCE],
        }


def plan(total: int, differences: float, rng: random.Random) -> Plan:
    """``total`` lines and ``total`` movements: d = an eighth of the differences; 3d lines
    missing in the book, d movements missing at the bank, 2d amount differences, d nets of 3,
    d pairs a cent apart; the rest clean pairs (3d + d*1 + 2d + d + d lines besides them = 7d,
    and d + 2d + 3d + d = 7d movements: as many on each side)."""
    d = max(1, round(total * differences / 100 / 8))
    out, party = Plan(), iter(data.make_lei(n, "5493RB") for n in range(1, 10 * total))
    out.seeded.update(
        {MISSING_IN_BOOK: 3 * d, MISSING_AT_BANK: d, AMOUNT_DIFFERENCE: 2 * d, "net": d, "cent": d}
    )
    out.seeded["clean"] = total - 7 * d
    serial = iter(range(1, 10 * total))

    def amount(sign: int | None = None) -> Decimal:
        sign = sign or rng.choice((1, 1, -1))
        return sign * Decimal(rng.randrange(10_000, 100_000_000)).scaleb(-2)

    def pair(lei: str, book: Decimal, bank: Decimal) -> None:
        source = data.new_id("si")
        out.movements.append(Movement(source, lei, book))
        out.lines.append(Line(source, f"BK{next(serial):012d}", lei, bank))

    for _ in range(out.seeded["clean"]):
        value = amount()
        pair(rng.choice(LEIS), value, value)
    for _ in range(d):
        value = amount()
        pair(next(party), value, value + rng.choice((1, -1)) * Decimal("0.01"))
    for _ in range(2 * d):
        value, off = amount(), Decimal(rng.randrange(2, 50_000)).scaleb(-2) * rng.choice((1, -1))
        pair(next(party), value, value + off)
        out.amounts[AMOUNT_DIFFERENCE] += off
    for _ in range(3 * d):
        value = amount()
        reference = f"FEE{next(serial):012d}"
        out.lines.append(Line(reference, f"BK{next(serial):012d}", next(party), value))
        out.amounts[MISSING_IN_BOOK] += value
    for _ in range(d):
        value = amount()
        out.movements.append(Movement(data.new_id("si"), next(party), value))
        out.amounts[MISSING_AT_BANK] += value
    for _ in range(d):
        lei, sign = next(party), rng.choice((1, -1))
        parts = [Movement(data.new_id("si"), lei, amount(sign)) for _ in range(3)]
        out.movements += parts
        net = f"NET{next(serial):012d}"
        total_amount = sum((p.amount for p in parts), Decimal(0))
        remittance = "Net settlement of 3 instructions"
        out.lines.append(Line(net, f"BK{next(serial):012d}", lei, total_amount, remittance))
        out.nets[net] = frozenset(p.source_id for p in parts)
    rng.shuffle(out.lines)
    rng.shuffle(out.movements)
    return out


def statement_file(p: Plan, day: date, opening: Decimal) -> bytes:
    """The day's statement as the bank sends it, in the service's JSON format."""
    closing = opening + sum((line.amount for line in p.lines), Decimal(0))
    entries = [
        {
            "amount": str(line.amount),
            "booking_date": day.isoformat(),
            "value_date": day.isoformat(),
            "bank_transaction_code": "PMNT-RCDT-ESCT" if line.amount > 0 else "PMNT-ICDT-ESCT",
            "references": {
                "end_to_end_id": line.end_to_end_id,
                "account_servicer_reference": line.bank_reference,
            },
            **({"remittance_information": line.remittance} if line.remittance else {}),
            "counterparty": {"account": line.lei},
        }
        for line in p.lines
    ]
    created = datetime.combine(day, day_time(20), UTC)
    statement = {
        "account": IBAN,
        "currency": CURRENCY,
        "statement_id": f"BENCH-{day.isoformat()}",
        "electronic_sequence": 1,
        "created_at": created.isoformat(),
        "opening_balance": {"amount": str(opening), "date": (day - timedelta(1)).isoformat()},
        "closing_balance": {"amount": str(closing), "date": day.isoformat()},
        "entries": entries,
    }
    return json.dumps({"statements": [statement]}, separators=(",", ":")).encode()


def _columns(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.key) for column in row.__table__.columns}


async def store_statement(monitor: Any, content: bytes, received_by: str) -> str:
    """The file read by the app's own JSON parser and stored as ``POST /statements`` would
    (``statements.rows``, the content hash, the integrity check) by COPY; the statement's id."""
    import hashlib

    from app.reconciliation.statements.identity import content_hash
    from app.reconciliation.statements.integrity import check
    from app.reconciliation.statements.models import StatementFile
    from app.reconciliation.statements.parsing.json_format import parse_json
    from app.reconciliation.statements.rows import entry_rows, statement_row

    (statement,) = parse_json(content)
    now = datetime.now(UTC)
    file = StatementFile(
        id=data.new_id("stf"),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        format="json",
        content_type="application/json",
        mapping=None,
        mapping_version=None,
        statements=1,
        received_at=now,
        received_by=received_by,
    )
    row = statement_row(
        statement,
        file=file,
        account=ACCOUNT,
        content=content_hash(statement),
        breaks=check(statement, None),
        now=now,
    )
    entries = entry_rows(row, statement)
    del statement
    for table, rows in (
        ("statement_files", [_columns(file)]),
        ("bank_statements", [_columns(row)]),
    ):
        values = rows[0]
        if "integrity_breaks" in values:
            values["integrity_breaks"] = json.dumps(values["integrity_breaks"])
        await copy_rows(monitor, table, list(values), [tuple(values.values())])
    names = list(entries[0])
    records = [
        tuple(json.dumps(v) if k == "references" else v for k, v in e.items()) for e in entries
    ]
    await copy_rows(monitor, "statement_entries", names, records)
    return str(row.id)


async def post_movements(db: BenchDatabase, p: Plan, day: date, per_transaction: int) -> float:
    """The movements as settlement entries, ``per_transaction`` a transaction; seconds taken."""
    from bench.ledger import Journal

    journal = Journal(db.url, 2, db.key_ids["operations"])
    cash, new_entry, line = f"cash:{ACCOUNT}", journal.entries.NewEntry, journal.entries.Line
    kind = journal.entries.EntryKind.SETTLEMENT
    started = time.perf_counter()
    try:
        for start in range(0, len(p.movements), per_transaction):
            entries = [
                new_entry(
                    kind,
                    day,
                    f"Settlement {m.source_id}",
                    (
                        line(cash, CURRENCY, m.amount),
                        line(f"counterparty:{m.lei}", CURRENCY, -m.amount),
                    ),
                    source_type="settlement",
                    source_id=m.source_id,
                )
                for m in p.movements[start : start + per_transaction]
            ]
            await journal.post(entries)
    finally:
        await journal.engine.dispose()
    return time.perf_counter() - started


async def settled_cash(app: Any, day: date) -> Decimal:
    async with app.client("operations") as api:
        params = {"as_of": day.isoformat(), "account": ACCOUNT, "currency": CURRENCY}
        answer = await api.get(f"{API}/cash-balances", params=params)
    answer.raise_for_status()
    items = answer.json()["items"]
    return Decimal(items[0]["settled"]) if items else Decimal(0)


def found_set(rows: Sequence[Any]) -> set[tuple[str, str, str, Decimal]]:
    return {(r["what"], r["kind"], r["key"], Decimal(r["amount"]).normalize()) for r in rows}


async def setup(
    db: BenchDatabase, monitor: Any, p: Plan, day: date, per_post: int
) -> tuple[Decimal, str]:
    """The day's movements posted and its statement stored; the opening balance, the
    statement's id."""
    async with in_process_app(db) as app:
        opening = await settled_cash(app, day - timedelta(1))
        posting = await post_movements(db, p, day, per_post)
        print(f"  {len(p.movements):,} movements posted in {posting:.1f} s", flush=True)
        content = statement_file(p, day, opening)
        statement_id = await store_statement(monitor, content, db.key_ids["operations"])
        del content
    await monitor.execute(f"VACUUM ANALYZE {LOADED}")
    return opening, statement_id


async def bench(args: argparse.Namespace, db: BenchDatabase) -> Result:
    monitor, started = await connect(db.url), time.perf_counter()
    day = data.add_weekdays(datetime.now(UTC).date(), -1)
    p = plan(args.lines, args.differences, random.Random(20261205))
    opening, statement_id = await setup(db, monitor, p, day, args.entries_per_post)
    print(f"setup (value date {day}): {time.perf_counter() - started:.1f} s", flush=True)
    await monitor.close()  # the baseline clones the database: nothing may be connected to it
    settings = {"bench.day": str(day), "bench.account": ACCOUNT}
    settings["bench.actor"] = db.key_ids["operations"]
    sql = await run_script(db, "reconciliation", settings, args.baseline_runs, SCRIPT_FOUND_SQL)
    print(steps_table(sql, f"set-based SQL baseline: {fmt_ms(sql.seconds)}"))
    monitor = await connect(db.url)
    async with in_process_app(db) as app:
        counters = PgCounters(monitor)
        await counters.start()
        audit = await monitor.fetchval("SELECT count(*) FROM audit_records")
        body = {"account": ACCOUNT, "date": day.isoformat()}
        cpu = time.process_time()
        run = await measured_run(
            app, "/reconciliation-runs", body, args.py_spy, "reconciliation run"
        )
        cpu = time.process_time() - cpu
        work = [t for t in run.transactions if t.statements["SELECT statement_entries"]]
        print(breakdown(work, "the run's transactions (the day's work)"))
        async with app.client("compliance") as api:
            ledger = (await api.get(f"{API}/ledger/check")).json()
    await counters.stop()  # the app's connections closed: their table counters flushed
    written = run_writes(counters)
    print(writes_table(written, sql.writes))
    checks = await check(monitor, run.answer, p, audit, opening)
    run_found = await monitor.fetch(FOUND_SQL.format(run="$1"), run.answer.get("id"))
    checks += [
        Check(
            "the break's statement is the one stored",
            1,
            await monitor.fetchval(
                "SELECT count(DISTINCT statement_id) FROM reconciliation_breaks "
                "WHERE statement_id = $1",
                statement_id,
            ),
        ),
        Check(
            "baseline: matches, breaks as the run's (rule or kind, items, amount) not found by "
            "the other",
            (0, 0),
            (
                len(found_set(sql.rows) - found_set(run_found)),
                len(found_set(run_found) - found_set(sql.rows)),
            ),
        ),
        Check(
            f"rows inserted in {len(SAME_WRITES)} tables (rows written): SQL baseline = run",
            inserted(written, SAME_WRITES),
            inserted(sql.writes, SAME_WRITES),
        ),
        Check(
            f"GET /ledger/check ({ledger.get('postings_checked', 0):,} postings)",
            True,
            ledger.get("ok"),
        ),
    ]
    await monitor.close()
    name = f"reconciliation run: {args.lines:,} lines"
    rate, ratio = fmt_int(args.lines / run.wall), fmt_ratio(sql.seconds / run.wall, GOAL)
    baseline = f"set-based SQL {fmt_int(args.lines / sql.seconds)} lines/s"
    measure = Measure(name, f"{rate} lines/s", baseline, ratio)
    per_cpu = f" ({fmt_int(args.lines / cpu)} lines/CPU-s)" if cpu else ""
    measures = [
        replace(measure, peak=fmt_mib(run.peak)),
        Measure(f"  run wall (lines and movements, {len(work)} transaction(s))", fmt_ms(run.wall)),
        Measure("  CPU of this process during the run", f"{cpu:,.1f} s{per_cpu}"),
        Measure(
            "  RSS at the run's start (the bench's own data) -> peak during it",
            f"{fmt_mib(run.rss_start)} -> {fmt_mib(run.peak)}",
        ),
    ]
    return Result(PROG, "", measures, checks)


COUNTS = {
    "matches": "SELECT rule, count(*) FROM reconciliation_matches GROUP BY rule",
    "items": "SELECT item_kind, count(*) FROM matched_items GROUP BY item_kind",
    "breaks": "SELECT kind, count(*) FROM reconciliation_breaks "
    "WHERE status = 'open' GROUP BY kind",
    "amounts": "SELECT kind, sum(amount) FROM reconciliation_breaks GROUP BY kind",
}
NETS_SQL = """SELECT s.end_to_end_id, array_agg(j.source_id ORDER BY j.source_id)
FROM reconciliation_matches m
JOIN matched_items l ON l.match_id = m.id AND l.item_kind = 'line'
JOIN statement_entries s ON s.id = l.item_id
JOIN matched_items i ON i.match_id = m.id AND i.item_kind = 'movement'
JOIN journal_entries j ON j.id = i.item_id
WHERE m.rule = $1 GROUP BY m.id, s.end_to_end_id"""
SAME_REFERENCE_SQL = """SELECT count(*) FROM reconciliation_matches m
JOIN matched_items l ON l.match_id = m.id AND l.item_kind = 'line'
JOIN statement_entries s ON s.id = l.item_id
JOIN matched_items i ON i.match_id = m.id AND i.item_kind = 'movement'
JOIN journal_entries j ON j.id = i.item_id
WHERE m.rule LIKE 'exact-reference%' AND s.end_to_end_id = j.source_id"""


async def check(
    monitor: Any, run: dict[str, Any], p: Plan, audit_before: int, opening: Decimal
) -> list[Check]:
    found = {name: dict(await monitor.fetch(sql)) for name, sql in COUNTS.items()}
    report = run.get("report") or {}
    cash, balance = report.get("cash") or {}, report.get("balance") or {}
    lines_sum = sum((line.amount for line in p.lines), Decimal(0))
    movements_sum = sum((m.amount for m in p.movements), Decimal(0))
    matched_lines = len(p.lines) - p.seeded[MISSING_IN_BOOK] - p.seeded[AMOUNT_DIFFERENCE]
    matched_movements = len(p.movements) - p.seeded[MISSING_AT_BANK] - p.seeded[AMOUNT_DIFFERENCE]
    breaks = {**p.breaks, BALANCE: 1}
    amounts = {kind: str(p.amounts[kind]) for kind in sorted(breaks)}
    amounts[BALANCE] = str(lines_sum - movements_sum)
    nets = {r[0]: frozenset(r[1]) for r in await monitor.fetch(NETS_SQL, NETS)}
    matches = sum(p.matches.values())
    opened = sum(breaks.values())
    audit = await monitor.fetchval("SELECT count(*) FROM audit_records") - audit_before
    book = opening + movements_sum
    return [
        Check("run status", "completed", run.get("status")),
        Check(
            "run: lines, movements seen",
            (len(p.lines), len(p.movements)),
            (cash.get("lines"), cash.get("movements")),
        ),
        Check("run: matches per rule", p.matches, cash.get("matches")),
        Check(
            "run: lines, movements matched",
            (matched_lines, matched_movements),
            (cash.get("matched_lines"), cash.get("matched_movements")),
        ),
        Check("run: searches given up", 0, cash.get("gave_up_count")),
        Check(
            "run: breaks opened per kind",
            dict(sorted(breaks.items())),
            (report.get("breaks") or {}).get("opened"),
        ),
        Check("stored matches per rule", p.matches, found["matches"]),
        Check(
            "matched items (line, movement)",
            (matched_lines, matched_movements),
            (found["items"].get("line"), found["items"].get("movement")),
        ),
        Check(
            "exact-reference matches on the line's own reference",
            p.seeded["clean"] + p.seeded["cent"],
            await monitor.fetchval(SAME_REFERENCE_SQL),
        ),
        Check(
            "net payments matched, to other than their 3 settlements",
            (len(p.nets), 0),
            (len(nets), sum(nets.get(net) != parts for net, parts in p.nets.items())),
        ),
        Check(
            "open breaks per kind",
            dict(sorted(breaks.items())),
            dict(sorted(found["breaks"].items())),
        ),
        Check(
            "break amounts per kind",
            amounts,
            {k: str(v) for k, v in sorted(found["amounts"].items())},
        ),
        Check(
            "balance: statement, book",
            (str(opening + lines_sum), str(book)),
            (balance.get("statement"), balance.get("book")),
        ),
        Check("audit records: matches, breaks, run", matches + opened + 2, audit),
    ]


if __name__ == "__main__":
    raise SystemExit(cli.main(PROG, __doc__ or "", SIZES, bench))
