"""The ledger check: every entry sums to zero per asset, and every stored balance (running
totals and daily rows, its stripes added up) equals the sum of its postings. Streams the
journal in chunks."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.positions.balances.models import LedgerBalance, LedgerBalanceDay
from app.positions.balances.service import whole_days
from app.positions.balances.totals import Totals
from app.positions.journal.entries import ZERO, Line, imbalances
from app.positions.journal.states import PendingStatus
from app.positions.ledger_check import repository

CHUNK = 2000
MAX_PROBLEMS = 50

Key = tuple[str, str]


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str
    entry_id: str | None = None
    ledger_account: str | None = None
    asset: str | None = None


@dataclass
class LedgerCheck:
    entries_checked: int = 0
    postings_checked: int = 0
    balances_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Where each entry stands in journal order, to name the earliest one at fault.
    _order: dict[str, tuple[date, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_entry_id(self) -> str | None:
        named = [p.entry_id for p in self.problems if p.entry_id is not None]
        return min(named, key=lambda entry_id: self._order[entry_id]) if named else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


@dataclass
class _Movements:
    """What the postings say each balance should be: per key, the change on each date, and the
    first entry that moved it on that date."""

    by_day: dict[Key, dict[date, Totals]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Totals))
    )
    first_entry: dict[tuple[Key, date], str] = field(default_factory=dict)

    def add(self, key: Key, day: date, delta: Totals, entry_id: str | None) -> None:
        self.by_day[key][day] = self.by_day[key][day] + delta
        if entry_id is not None:
            self.first_entry.setdefault((key, day), entry_id)


async def _journal(session: AsyncSession, report: LedgerCheck, movements: _Movements) -> None:
    async for entries, postings in repository.journal_in_chunks(session, chunk=CHUNK):
        effective_on: dict[str, date] = {row.id: row.value_date for row in entries}
        lines: dict[str, list[Line]] = defaultdict(list)
        for posting in postings:
            line = Line(
                posting.ledger_account,
                posting.asset,
                posting.amount,
                posting.cost,
                posting.realized_pnl,
            )
            lines[posting.entry_id].append(line)
            delta = Totals(
                posted=line.amount,
                cost=line.cost or ZERO,
                realized_pnl=line.realized_pnl or ZERO,
            )
            movements.add(
                (line.ledger_account, line.asset),
                effective_on[posting.entry_id],
                delta,
                posting.entry_id,
            )
            report.postings_checked += 1
        for entry_id, day, _ in entries:
            report._order[entry_id] = (day, entry_id)
            report.entries_checked += 1
            if not lines[entry_id]:
                report.add(Problem("empty_entry", f"Entry {entry_id} has no postings.", entry_id))
            for asset, amount in sorted(imbalances(lines[entry_id]).items()):
                report.add(
                    Problem(
                        "unbalanced_entry",
                        f"Entry {entry_id} does not sum to zero in {asset} (off by {amount}).",
                        entry_id,
                        asset=asset,
                    )
                )


async def _pending(session: AsyncSession, movements: _Movements) -> None:
    for status, opened_on, resolved_on, account, asset, amount in await repository.pending_postings(
        session
    ):
        movements.add((account, asset), opened_on, Totals(pending=amount), None)
        if status != PendingStatus.OPEN and resolved_on is not None:
            movements.add((account, asset), resolved_on, Totals(pending=-amount), None)


def _totals(row: LedgerBalance | LedgerBalanceDay) -> Totals:
    return Totals(row.posted, row.pending, row.cost, row.realized_pnl)


def _added(found: dict[Key, Totals], key: Key, totals: Totals) -> None:
    found[key] = totals if key not in found else found[key] + totals


async def _balances(session: AsyncSession, report: LedgerCheck, movements: _Movements) -> None:
    heads, days = await repository.balances_with_days(session)
    totals: dict[Key, Totals] = {}
    stripes: dict[Key, list[dict[date, Totals]]] = defaultdict(list)
    for head in heads:
        key = (head.ledger_account, head.asset)
        _added(totals, key, _totals(head))
        stripes[key].append({row.as_of_date: _totals(row) for row in days.get(head.id, [])})
    for key, stored in totals.items():
        report.balances_checked += 1
        changes = movements.by_day.get(key, {})
        expected = Totals()
        for change in changes.values():
            expected = expected + change
        if stored != expected:
            first_day = min(changes) if changes else None
            report.add(
                Problem(
                    "balance_mismatch",
                    f"The balance of {key[0]} in {key[1]} is {stored}, "
                    f"its postings sum to {expected}.",
                    movements.first_entry.get((key, first_day)) if first_day else None,
                    *key,
                )
            )
            continue
        _check_days(report, movements, key, changes, whole_days(stripes[key]))
    for key in movements.by_day.keys() - totals.keys():
        first_day = min(movements.by_day[key])
        report.add(
            Problem(
                "missing_balance",
                f"{key[0]} in {key[1]} has postings but no balance row.",
                movements.first_entry.get((key, first_day)),
                *key,
            )
        )


def _check_days(
    report: LedgerCheck,
    movements: _Movements,
    key: Key,
    changes: dict[date, Totals],
    stored: dict[date, Totals],
) -> None:
    """Each daily total holds the sum of the changes up to its date, and every date with a
    change has its row (else an as-of answer for that date would read the day before)."""
    running = Totals()
    for day in sorted(changes.keys() | stored.keys()):
        running = running + changes.get(day, Totals())
        if stored.get(day) != running:
            report.add(
                Problem(
                    "daily_balance_mismatch",
                    f"The balance of {key[0]} in {key[1]} at the end of {day} is "
                    f"{stored.get(day, 'missing')}, its postings sum to {running}.",
                    movements.first_entry.get((key, day)),
                    *key,
                )
            )
            return


async def check_ledger(session: AsyncSession) -> LedgerCheck:
    report = LedgerCheck()
    movements = _Movements()
    await _journal(session, report, movements)
    await _pending(session, movements)
    await _balances(session, report, movements)
    return report
