"""Posting to the journal: balanced entries, reversals and pending (two-phase) entries, each
keeping the running balances in step in the same transaction."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.db import table_of
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.states import next_state
from app.positions import balances, chart
from app.positions.balances import Totals
from app.positions.entries import (
    ZERO,
    EntryKind,
    Line,
    NewEntry,
    accounting_date,
    imbalances,
    reversal_lines,
)
from app.positions.models import (
    JournalEntry,
    PendingEntry,
    PendingPosting,
    Posting,
)
from app.positions.states import PENDING_TRANSITIONS, PendingEvent, PendingStatus


class UnbalancedEntry(ValidationFailed):
    slug = "unbalanced-entry"
    title: ClassVar[str] = "The entry does not sum to zero per asset"


def check_balanced(entry: NewEntry) -> None:
    if not entry.lines:
        raise UnbalancedEntry(f"The {entry.kind} entry has no postings.")
    off = imbalances(entry.lines)
    if off:
        detail = ", ".join(f"{asset} by {amount}" for asset, amount in sorted(off.items()))
        raise UnbalancedEntry(
            f"The {entry.kind} entry is off {detail}.",
            imbalances={asset: str(amount) for asset, amount in off.items()},
        )


async def post(
    session: AsyncSession, entries: Sequence[NewEntry], *, actor: Actor, now: datetime
) -> list[str]:
    """Write balanced entries and their postings, and move the running balances. Returns the
    new entry ids in order. Every entry is checked here whatever the database; PostgreSQL
    checks again at commit (a deferred constraint trigger)."""
    for entry in entries:
        check_balanced(entry)
    await chart.ensure_ledger_accounts(
        session, (line.ledger_account for entry in entries for line in entry.lines), now=now
    )
    entry_rows: list[dict[str, Any]] = []
    posting_rows: list[dict[str, Any]] = []
    deltas: dict[tuple[str, str, date], Totals] = defaultdict(Totals)
    for entry in entries:
        entry_id = new_id("je")
        booked_on = accounting_date(entry.value_date, now, entry.not_before)
        entry_rows.append(
            {
                "id": entry_id,
                "kind": entry.kind.value,
                "accounting_date": booked_on,
                "value_date": entry.value_date,
                "description": entry.description,
                "source_type": entry.source_type,
                "source_id": entry.source_id,
                "reverses_id": entry.reverses_id,
                "pending_id": entry.pending_id,
                "created_at": now,
                "created_by": actor.key_id,
            }
        )
        for line in entry.lines:
            posting_rows.append(
                {
                    "entry_id": entry_id,
                    "ledger_account": line.ledger_account,
                    "asset": line.asset,
                    "amount": line.amount,
                    "cost": line.cost,
                    "realized_pnl": line.realized_pnl,
                }
            )
            key = (line.ledger_account, line.asset, booked_on)
            deltas[key] = deltas[key] + Totals(
                posted=line.amount, cost=line.cost or ZERO, realized_pnl=line.realized_pnl or ZERO
            )
    if not entry_rows:
        return []
    await session.execute(insert(table_of(JournalEntry)), entry_rows)
    await session.execute(insert(table_of(Posting)), posting_rows)
    await balances.apply(session, deltas, now=now)
    return [row["id"] for row in entry_rows]


async def entry_lines(session: AsyncSession, entry_id: str) -> list[Line]:
    postings = (
        await session.scalars(
            select(Posting).where(Posting.entry_id == entry_id).order_by(Posting.id)
        )
    ).all()
    return [Line(p.ledger_account, p.asset, p.amount, p.cost, p.realized_pnl) for p in postings]


async def reversal_of(session: AsyncSession, entry: JournalEntry, *, description: str) -> NewEntry:
    """The entry that undoes ``entry``: refused for a reversal, or for an entry reversed already."""
    if entry.kind == EntryKind.REVERSAL:
        raise Conflict(f"Entry {entry.id} is itself a reversal; post a new entry instead.")
    reversed_by = await session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)
    )
    if reversed_by is not None:
        raise Conflict(
            f"Entry {entry.id} was already reversed by {reversed_by}.", reversed_by=reversed_by
        )
    return NewEntry(
        kind=EntryKind.REVERSAL,
        value_date=entry.value_date,
        description=description,
        lines=reversal_lines(await entry_lines(session, entry.id)),
        source_type=entry.source_type,
        source_id=entry.source_id,
        reverses_id=entry.id,
        not_before=entry.accounting_date,
    )


async def get_entry(session: AsyncSession, entry_id: str) -> JournalEntry:
    entry = await session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"No journal entry '{entry_id}'.")
    return entry


# Pending entries -------------------------------------------------------------------------------


def _pending_deltas(
    lines: Iterable[Line], day: date, sign: int
) -> dict[tuple[str, str, date], Totals]:
    deltas: dict[tuple[str, str, date], Totals] = defaultdict(Totals)
    for line in lines:
        key = (line.ledger_account, line.asset, day)
        deltas[key] = deltas[key] + Totals(pending=sign * line.amount)
    return deltas


@dataclass(frozen=True)
class Expected:
    """A movement expected to be posted later (a settlement due)."""

    kind: EntryKind
    expected_date: date
    description: str
    lines: Sequence[Line]
    source_type: str | None
    source_id: str | None


async def open_pending(
    session: AsyncSession,
    *,
    kind: EntryKind,
    expected_date: date,
    description: str,
    lines: Sequence[Line],
    source_type: str | None,
    source_id: str | None,
    actor: Actor,
    now: datetime,
) -> str:
    """Record an expected movement: it counts in projected balances until posted or voided."""
    expected = Expected(kind, expected_date, description, lines, source_type, source_id)
    [pending_id] = await open_pendings(session, [expected], actor=actor, now=now)
    return pending_id


async def open_pendings(
    session: AsyncSession, expected: Sequence[Expected], *, actor: Actor, now: datetime
) -> list[str]:
    """``open_pending`` for many at once, in a handful of statements. Returns their ids."""
    for item in expected:
        check_balanced(NewEntry(item.kind, item.expected_date, item.description, tuple(item.lines)))
    if not expected:
        return []
    await chart.ensure_ledger_accounts(
        session, (line.ledger_account for item in expected for line in item.lines), now=now
    )
    ids = [new_id("pe") for _ in expected]
    opened_on = accounting_date(now.date(), now)
    await session.execute(
        insert(table_of(PendingEntry)),
        [
            {
                "id": pending_id,
                "kind": item.kind.value,
                "status": PendingStatus.OPEN.value,
                "expected_date": item.expected_date,
                "description": item.description,
                "source_type": item.source_type,
                "source_id": item.source_id,
                "opened_on": opened_on,
                "created_at": now,
                "created_by": actor.key_id,
            }
            for pending_id, item in zip(ids, expected, strict=True)
        ],
    )
    await session.execute(
        insert(table_of(PendingPosting)),
        [
            {
                "pending_id": pending_id,
                "ledger_account": line.ledger_account,
                "asset": line.asset,
                "amount": line.amount,
            }
            for pending_id, item in zip(ids, expected, strict=True)
            for line in item.lines
        ],
    )
    await balances.apply(
        session,
        _pending_deltas((line for item in expected for line in item.lines), opened_on, +1),
        now=now,
    )
    return ids


_LOCK_CHUNK = 500


@dataclass(frozen=True)
class LockedPending:
    """A pending entry locked until the transaction ends, as it stood when locked."""

    id: str
    status: str
    expected_date: date
    source_type: str | None
    source_id: str | None


async def lock_pendings(session: AsyncSession, ids: Sequence[str]) -> dict[str, LockedPending]:
    """Lock pending entries, in id order, until the transaction ends. NotFound names the first
    id that does not exist."""
    await session.flush()
    wanted = sorted(set(ids))
    found: dict[str, LockedPending] = {}
    for start in range(0, len(wanted), _LOCK_CHUNK):
        rows = await session.execute(
            select(
                PendingEntry.id,
                PendingEntry.status,
                PendingEntry.expected_date,
                PendingEntry.source_type,
                PendingEntry.source_id,
            )
            .where(PendingEntry.id.in_(wanted[start : start + _LOCK_CHUNK]))
            .order_by(PendingEntry.id)
            .with_for_update()
        )
        found |= {row.id: LockedPending(*row) for row in rows}
    for pending_id in wanted:
        if pending_id not in found:
            raise NotFound(f"No pending entry '{pending_id}'.")
    return found


async def lock_pending(session: AsyncSession, pending_id: str) -> LockedPending:
    return (await lock_pendings(session, [pending_id]))[pending_id]


async def pending_lines_of(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[Line]]:
    """The lines of each pending entry, in posting order."""
    found: dict[str, list[Line]] = {pending_id: [] for pending_id in ids}
    wanted = list(found)
    rows: list[Any] = []
    for start in range(0, len(wanted), _LOCK_CHUNK):
        # Sorted here, not in SQL: ORDER BY id tempts PostgreSQL to walk the whole primary key
        # in order instead of probing the pending_id index for each entry.
        rows += await session.execute(
            select(
                PendingPosting.id,
                PendingPosting.pending_id,
                PendingPosting.ledger_account,
                PendingPosting.asset,
                PendingPosting.amount,
            ).where(PendingPosting.pending_id.in_(wanted[start : start + _LOCK_CHUNK]))
        )
    for _, pending_id, account, asset, amount in sorted(rows, key=lambda row: row.id):
        found[pending_id].append(Line(account, asset, amount))
    return found


async def pending_lines(session: AsyncSession, pending_id: str) -> list[Line]:
    return (await pending_lines_of(session, [pending_id]))[pending_id]


async def resolve_pendings(
    session: AsyncSession,
    pendings: Sequence[LockedPending],
    *,
    event: PendingEvent,
    actor: Actor,
    now: datetime,
    void_reason: str | None = None,
) -> dict[str, list[Line]]:
    """Close locked pending entries (each exactly once: the transition table refuses a second
    time) and take their amounts out of the projected balances. Returns their lines."""
    resolved_on = accounting_date(now.date(), now)
    by_status: dict[str, list[str]] = defaultdict(list)
    for pending in pendings:
        resolved = next_state(PENDING_TRANSITIONS, PendingStatus(pending.status), event)
        by_status[resolved.value].append(pending.id)
    table = table_of(PendingEntry)
    for status, ids in by_status.items():
        for start in range(0, len(ids), _LOCK_CHUNK):
            await session.execute(
                update(table)
                .where(table.c.id.in_(ids[start : start + _LOCK_CHUNK]))
                .values(
                    status=status,
                    resolved_on=resolved_on,
                    resolved_at=now,
                    resolved_by=actor.key_id,
                    void_reason=void_reason,
                )
            )
    lines = await pending_lines_of(session, [pending.id for pending in pendings])
    every_line = (line for entry_lines in lines.values() for line in entry_lines)
    await balances.apply(session, _pending_deltas(every_line, resolved_on, -1), now=now)
    return lines


async def link_remainders(session: AsyncSession, remainders: Mapping[str, str]) -> None:
    """Record, per posted pending entry, the entry opened for what its posting left."""
    if not remainders:
        return
    table = table_of(PendingEntry)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(remainder_id=bindparam("p_remainder_id")),
        [{"p_id": pending_id, "p_remainder_id": rest} for pending_id, rest in remainders.items()],
    )


async def resolve_pending(
    session: AsyncSession,
    pending: LockedPending,
    *,
    event: PendingEvent,
    actor: Actor,
    now: datetime,
    void_reason: str | None = None,
) -> list[Line]:
    """``resolve_pendings`` for one."""
    lines = await resolve_pendings(
        session, [pending], event=event, actor=actor, now=now, void_reason=void_reason
    )
    return lines[pending.id]
