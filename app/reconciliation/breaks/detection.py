"""Breaks as runs and matches find and close them: a difference found is stored once under its
key (found again, it is the same break: kept, or reopened when it had been closed by a match
since undone); a break whose items a match now explains, or whose difference is gone, closes
with a reference to what closed it. Every break created or changed is one audit record.

``write=False`` (a dry run) counts what would happen and writes nothing."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes
from app.core.auth import Actor
from app.core.ids import new_id
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.reconciliation.breaks import repository
from app.reconciliation.breaks.models import ReconciliationBreak
from app.reconciliation.breaks.states import BREAK_TRANSITIONS, BreakEvent, BreakStatus

ENTITY = "reconciliation_break"
OPEN, CLOSED = repository.OPEN, repository.CLOSED
# The kinds a cash run's matching finds (and a later match closes).
CASH_KINDS = ("missing_in_book", "missing_at_bank", "amount_difference", "value_date_difference")
INTEGRITY, BALANCE, HOLDINGS = "integrity", "balance", "holdings"


@dataclass(frozen=True)
class FoundBreak:
    """A difference a run found. ``key`` names it: see ``break_key``."""

    kind: str
    key: str
    amount: Decimal
    since: date
    detail: str
    currency: str | None = None
    isin: str | None = None
    statement_id: str | None = None
    line_ids: tuple[str, ...] = ()
    movement_ids: tuple[str, ...] = ()


def break_key(kind: str, *parts: str) -> str:
    """The same difference gives the same key: its kind and what it is about (the items'
    ``item_key``, a statement and check, an account, currency or ISIN and day)."""
    return ":".join([kind, *parts])


@dataclass(frozen=True)
class Closing:
    """A break to close, how (``matched``; ``superseded`` when its items now form another
    break; ``resolved`` when the difference is gone) and what closed it."""

    row: ReconciliationBreak
    resolution: str
    closed_by: str
    note: str


@dataclass
class Tally:
    """Breaks opened, kept, reopened and closed, per kind."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"opened": {}, "kept": {}, "reopened": {}, "closed": {}}
    )

    def add(self, what: str, kind: str) -> None:
        per_kind = self.counts[what]
        per_kind[kind] = per_kind.get(kind, 0) + 1

    def total(self, *whats: str) -> int:
        return sum(sum(self.counts[what].values()) for what in whats)

    def report(self) -> dict[str, dict[str, int]]:
        return {what: dict(sorted(kinds.items())) for what, kinds in self.counts.items()}


def _new_row(
    found: FoundBreak, *, account: str, value_date: date, run_id: str | None, now: datetime
) -> ReconciliationBreak:
    return ReconciliationBreak(
        id=new_id("brk"),
        kind=found.kind,
        status=OPEN,
        key=found.key,
        account=account,
        currency=found.currency,
        isin=found.isin,
        amount=found.amount,
        since=found.since,
        value_date=value_date,
        detail=found.detail[:1000],
        statement_id=found.statement_id,
        statement_entry_ids=list(found.line_ids),
        movement_ids=list(found.movement_ids),
        found_by_run=run_id,
        created_at=now,
        updated_at=now,
        version=1,
    )


@dataclass(frozen=True)
class Recorded:
    """What ``record_found`` did: the break of each key found (None in a dry run for those not
    stored yet)."""

    ids: dict[str, str | None]


async def record_found(
    session: AsyncSession,
    found: Sequence[FoundBreak],
    *,
    account: str,
    value_date: date,
    run_id: str | None,
    actor: Actor,
    now: datetime,
    tally: Tally,
    write: bool = True,
) -> Recorded:
    """Store the breaks whose key is new, keep the open ones, reopen the closed ones."""
    existing = await repository.by_keys(session, (item.key for item in found))
    created: list[ReconciliationBreak] = []
    changes: list[Change] = []
    ids: dict[str, str | None] = {}
    for item in found:
        row = existing.get(item.key)
        if row is None:
            tally.add("opened", item.kind)
            new = _new_row(item, account=account, value_date=value_date, run_id=run_id, now=now)
            created.append(new)
            ids[item.key] = new.id if write else None
        elif row.status == CLOSED:
            tally.add("reopened", item.kind)
            ids[item.key] = row.id
            if write:
                changes.append(_reopen(row, run_id=run_id, now=now))
        else:
            tally.add("kept", item.kind)
            ids[item.key] = row.id
    if write:
        await repository.add(session, created)
        changes += [Change(ENTITY, row.id, "opened", None, row_snapshot(row)) for row in created]
        await record_changes(session, changes, actor=actor, now=now)
    return Recorded(ids)


def _reopen(row: ReconciliationBreak, *, run_id: str | None, now: datetime) -> Change:
    before = row_snapshot(row)
    row.status = next_state(BREAK_TRANSITIONS, BreakStatus(row.status), BreakEvent.FOUND_AGAIN)
    row.resolution = None
    row.resolution_note = None
    row.closed_by = None
    row.resolved_at = None
    row.resolved_by = None
    row.found_by_run = run_id or row.found_by_run
    row.updated_at = now
    row.version += 1
    return Change(ENTITY, row.id, "reopened", before, row_snapshot(row))


async def close(
    session: AsyncSession,
    closings: Iterable[Closing],
    *,
    actor: Actor,
    now: datetime,
    tally: Tally,
    write: bool = True,
) -> None:
    """Close each break (open ones only; any other is left as it is), audited."""
    changes: list[Change] = []
    for closing in closings:
        row = closing.row
        if row.status != OPEN:
            continue
        tally.add("closed", row.kind)
        if not write:
            continue
        before = row_snapshot(row)
        event = BreakEvent(closing.resolution)
        row.status = next_state(BREAK_TRANSITIONS, BreakStatus(row.status), event)
        row.resolution = closing.resolution
        row.resolution_note = closing.note[:1000]
        row.closed_by = closing.closed_by
        row.resolved_at = now
        row.resolved_by = actor.key_id
        row.updated_at = now
        row.version += 1
        changes.append(Change(ENTITY, row.id, "closed", before, row_snapshot(row)))
    if write:
        await record_changes(session, changes, actor=actor, now=now)


async def carried(session: AsyncSession, *, account: str, up_to: date) -> list[ReconciliationBreak]:
    """The account's open cash breaks up to ``up_to``: their items go into the next run again."""
    return await repository.open_up_to(session, account=account, up_to=up_to, kinds=CASH_KINDS)


async def open_on(
    session: AsyncSession, *, account: str, value_date: date, kinds: Sequence[str]
) -> list[ReconciliationBreak]:
    return await repository.open_on(session, account=account, value_date=value_date, kinds=kinds)


def covered(
    rows: Iterable[ReconciliationBreak], line_ids: Iterable[str], movement_ids: Iterable[str]
) -> list[ReconciliationBreak]:
    """Those of ``rows`` every item of which is among these lines and movements."""
    lines, movements = set(line_ids), set(movement_ids)
    return [
        row
        for row in rows
        if set(row.statement_entry_ids) <= lines
        and set(row.movement_ids) <= movements
        and (row.statement_entry_ids or row.movement_ids)
    ]
