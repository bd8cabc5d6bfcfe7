"""Posting to the journal: balanced entries, reversals and pending (two-phase) entries, each
keeping the running balances in step in the same transaction; and the journal as it is read."""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import Conflict, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.states import next_state
from app.positions.balances import service as balances
from app.positions.balances.totals import Totals
from app.positions.journal import repository
from app.positions.journal.entries import (
    ZERO,
    EntryKind,
    Line,
    NewEntry,
    accounting_date,
    imbalances,
    reversal_lines,
)
from app.positions.journal.filters import EntryFilter
from app.positions.journal.models import JournalEntry, Posting
from app.positions.journal.repository import LockedPending
from app.positions.journal.states import PENDING_TRANSITIONS, PendingEvent, PendingStatus
from app.positions.ledger_accounts import service as ledger_accounts

Deltas = dict[tuple[str, str, date], Totals]  # per (ledger account, asset, effective date)


class UnbalancedEntry(ValidationFailed):
    slug = "unbalanced-entry"
    title: ClassVar[str] = "The entry does not sum to zero per asset"


def check_balanced(entry: NewEntry) -> None:
    _check_lines(entry.kind, entry.lines)


def _check_lines(kind: EntryKind, lines: Sequence[Line]) -> None:
    """``check_balanced`` of an entry of ``kind`` with these lines."""
    if not lines:
        raise UnbalancedEntry(f"The {kind} entry has no postings.")
    off = imbalances(lines)
    if off:
        detail = ", ".join(f"{asset} by {amount}" for asset, amount in sorted(off.items()))
        raise UnbalancedEntry(
            f"The {kind} entry is off {detail}.",
            imbalances={asset: str(amount) for asset, amount in off.items()},
        )


Columns = dict[str, list[Any]]  # a table's rows, column by column (``bulk.write_columns``)
# The columns ``_posting_rows`` gives a posting.
_POSTING_KEYS = ("entry_id", "ledger_account", "asset", "amount", "cost", "realized_pnl")


def _rows(
    entries: Sequence[NewEntry], *, actor: Actor, now: datetime
) -> tuple[Columns, Columns, Deltas]:
    """The rows of new entries and their postings, column by column (a batch of trades posts
    thousands: a dictionary per row cost more than the rest of the posting), and what they add
    to the balances."""
    ids = [new_id("je") for _ in entries]
    sums: Sums = {}
    postings = _posting_rows(
        ids, [entry.value_date for entry in entries], [entry.lines for entry in entries], sums
    )
    return _entry_rows(entries, ids, actor=actor, now=now), postings, _deltas(sums)


# Per (ledger account, asset, value date): posted, cost, realised P&L, summed from zero in the
# lines' order (as adding each line's Totals would, without making two of them a line).
Sums = dict[tuple[str, str, date], list[Decimal]]


def _entry_rows(
    entries: Sequence[NewEntry], ids: Sequence[str], *, actor: Actor, now: datetime
) -> Columns:
    return {
        "id": list(ids),
        "kind": [entry.kind.value for entry in entries],
        "accounting_date": [
            accounting_date(entry.value_date, now, entry.not_before) for entry in entries
        ],
        "value_date": [entry.value_date for entry in entries],
        "effective_at": [entry.effective_at for entry in entries],
        "description": [entry.description for entry in entries],
        "source_type": [entry.source_type for entry in entries],
        "source_id": [entry.source_id for entry in entries],
        "reverses_id": [entry.reverses_id for entry in entries],
        "pending_id": [entry.pending_id for entry in entries],
        "created_at": [now] * len(entries),
        "created_by": [actor.key_id] * len(entries),
    }


def _posting_rows(
    ids: Sequence[str], days: Sequence[date], lines_of: Sequence[Sequence[Line]], sums: Sums
) -> Columns:
    """The postings of the entries ``ids`` (value-dated ``days``) with these lines, column by
    column; what they move added to ``sums``."""
    entry_of: list[str] = []
    accounts: list[str] = []
    assets: list[str] = []
    amounts: list[Decimal] = []
    costs: list[Decimal | None] = []
    pnls: list[Decimal | None] = []
    for entry_id, day, lines in zip(ids, days, lines_of, strict=True):
        for line in lines:
            account, asset, amount = line.ledger_account, line.asset, line.amount
            cost, pnl = line.cost, line.realized_pnl
            entry_of.append(entry_id)
            accounts.append(account)
            assets.append(asset)
            amounts.append(amount)
            costs.append(cost)
            pnls.append(pnl)
            key = (account, asset, day)
            summed = sums.get(key)
            if summed is None:
                summed = sums[key] = [ZERO, ZERO, ZERO]
            summed[0] += amount
            if cost:  # adding a zero (or nothing) leaves the sum as it is
                summed[1] += cost
            if pnl:
                summed[2] += pnl
    return {
        "entry_id": entry_of,
        "ledger_account": accounts,
        "asset": assets,
        "amount": amounts,
        "cost": costs,
        "realized_pnl": pnls,
    }


def _deltas(sums: Sums) -> Deltas:
    deltas: Deltas = defaultdict(Totals)
    for key, (posted, cost, realized_pnl) in sums.items():
        deltas[key] = Totals(posted, ZERO, cost, realized_pnl)
    return deltas


def _merge(into: Deltas, deltas: Mapping[tuple[str, str, date], Totals]) -> None:
    for key, delta in deltas.items():
        into[key] = into[key] + delta if key in into else delta


async def _move_balances(
    session: AsyncSession, deltas: Deltas, *, into: Deltas | None, now: datetime
) -> None:
    """Apply ``deltas`` to the running balances now, or add them to ``into`` for a caller that
    applies what several steps of one transaction move at once (``apply_deltas``)."""
    if into is None:
        await balances.apply(session, deltas, now=now)
    else:
        _merge(into, deltas)


async def apply_deltas(session: AsyncSession, deltas: Deltas, *, now: datetime) -> None:
    """Move the running balances by what was collected with ``into=``: each balance row and
    daily row written once, whatever the number of steps that moved it."""
    await balances.apply(session, deltas, now=now)


async def post(
    session: AsyncSession,
    entries: Sequence[NewEntry],
    *,
    actor: Actor,
    now: datetime,
    into: Deltas | None = None,
) -> list[str]:
    """Write balanced entries and their postings, and move the running balances (or, given
    ``into``, collect what they move there). Returns the new entry ids in order. Every entry is
    checked here whatever the database; PostgreSQL checks again at commit (a deferred
    constraint trigger)."""
    for entry in entries:
        check_balanced(entry)
    entry_columns, posting_columns, deltas = _rows(entries, actor=actor, now=now)
    # The balances first: a balance row the transaction holds proves its ledger account (a
    # foreign key), so the postings' accounts then need no statement of their own.
    await _move_balances(session, deltas, into=into, now=now)
    await ledger_accounts.ensure_ledger_accounts(
        session, set(posting_columns["ledger_account"]) - balances.held_accounts(session), now=now
    )
    if not entries:
        return []
    await repository.insert_entries(session, entry_columns, posting_columns)
    return entry_columns["id"]


def streams(session: AsyncSession, postings: int) -> bool:
    """Whether ``post_lines_later`` of entries with this many postings pays: they go by COPY."""
    return repository.streams(session, postings)


async def post_lines_later(
    session: AsyncSession,
    entries: Sequence[NewEntry],
    lines: AsyncIterator[Sequence[tuple[Line, ...]]],
    *,
    actor: Actor,
    now: datetime,
) -> list[str]:
    """``post`` of ``entries`` whose final lines are made once the entries are written, a part
    at a time in the entries' order, each entry's replacing its own on the same ledger accounts
    (a trade's cost, known once its position is locked and the trades before it costed): the
    postings' COPY takes each part while the next is made, so that the database takes in the
    largest table of the journal while Python works (where the journal goes by COPY:
    ``streams``). Then the balances. The same rows as ``post`` writes; each entry is checked
    balanced before its part is sent, else the transaction fails."""
    ids = [new_id("je") for _ in entries]
    accounts = {line.ledger_account for entry in entries for line in entry.lines}
    await ledger_accounts.ensure_ledger_accounts(
        session, accounts - balances.held_accounts(session), now=now
    )
    await repository.insert_entry_rows(session, _entry_rows(entries, ids, actor=actor, now=now))
    sums: Sums = {}

    async def postings() -> AsyncIterator[Columns]:
        done = 0
        async for part in lines:
            made = entries[done : done + len(part)]
            for entry, final in zip(made, part, strict=True):
                _check_lines(entry.kind, final)
            part_ids = ids[done : done + len(part)]
            columns = _posting_rows(part_ids, [entry.value_date for entry in made], part, sums)
            if not set(columns["ledger_account"]) <= accounts:
                raise ValueError("Final lines must keep the ledger accounts of their entries.")
            done += len(part)
            yield columns
        if done != len(entries):
            raise ValueError(f"Lines for {done} of {len(entries)} entries.")

    most = sum(len(entry.lines) for entry in entries)
    await repository.stream_postings(session, _POSTING_KEYS, postings(), most=most)
    await apply_deltas(session, _deltas(sums), now=now)
    return ids


async def entry_lines(session: AsyncSession, entry_id: str) -> list[Line]:
    return await repository.entry_lines(session, entry_id)


async def reversal_of(session: AsyncSession, entry: JournalEntry, *, description: str) -> NewEntry:
    """The entry that undoes ``entry``: refused for a reversal, or for an entry reversed already."""
    if entry.kind == EntryKind.REVERSAL:
        raise Conflict(f"Entry {entry.id} is itself a reversal; post a new entry instead.")
    reversed_by = await repository.reversing_entry_id(session, entry.id)
    if reversed_by is not None:
        raise Conflict(
            f"Entry {entry.id} was already reversed by {reversed_by}.", reversed_by=reversed_by
        )
    return NewEntry(
        kind=EntryKind.REVERSAL,
        value_date=entry.value_date,
        description=description,
        lines=reversal_lines(await repository.entry_lines(session, entry.id)),
        source_type=entry.source_type,
        source_id=entry.source_id,
        reverses_id=entry.id,
        not_before=entry.accounting_date,
        effective_at=entry.effective_at,
    )


async def get_entry(session: AsyncSession, entry_id: str) -> JournalEntry:
    return await repository.get_entry(session, entry_id)


async def live_entry(
    session: AsyncSession, *, source_type: str, source_id: str, kind: EntryKind
) -> JournalEntry | None:
    """The entry of ``kind`` from this source that no reversal has undone."""
    return await repository.live_entry(
        session, source_type=source_type, source_id=source_id, kind=kind.value
    )


async def live_postings_of_position(
    session: AsyncSession, key: tuple[str, str], *, kinds: Sequence[EntryKind]
) -> dict[str, list[Any]]:
    """Per entry of ``kinds`` touching ``key`` and not reversed, in journal order: its postings
    on the key's ledger account (entry ``id``, ``kind``, ``asset``, ``amount``, ``cost``)."""
    account, asset = key
    return await repository.live_postings_of_position(
        session, ledger_account=account, asset=asset, kinds=[kind.value for kind in kinds]
    )


async def cost_by_value_date(
    session: AsyncSession, key: tuple[str, str]
) -> dict[date, tuple[Decimal, Decimal]]:
    """Per value date, the cost and realised P&L the journal holds for a book position."""
    account, asset = key
    totals: dict[date, tuple[Decimal, Decimal]] = {}
    for row in await repository.cost_by_value_date(session, ledger_account=account, asset=asset):
        cost, pnl = totals.get(row.value_date, (ZERO, ZERO))
        totals[row.value_date] = (cost + (row.cost or ZERO), pnl + (row.realized_pnl or ZERO))
    return totals


def live_postings_on(
    session: AsyncSession, *, ledger_account: str, value_date: date, partner_prefix: str
) -> AsyncIterator[Sequence[Any]]:
    """The postings on an account of the live entries of a value date, in parts (see the
    repository)."""
    return repository.live_postings_on(
        session, ledger_account=ledger_account, value_date=value_date, partner_prefix=partner_prefix
    )


# Pending entries -------------------------------------------------------------------------------


def _pending_deltas(lines: Iterable[Line], day: date, sign: int) -> Deltas:
    deltas: Deltas = defaultdict(Totals)
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
    # The day it counts from in projected balances: the day it is opened unless given (the rest
    # of a partial settlement counts from that settlement's value date).
    opened_on: date | None = None


async def open_pendings(
    session: AsyncSession,
    expected: Sequence[Expected],
    *,
    actor: Actor,
    now: datetime,
    into: Deltas | None = None,
) -> list[str]:
    """Record expected movements, in a handful of statements: each counts in projected balances
    until posted or voided (``into`` as for ``post``). Returns their ids."""
    for item in expected:
        check_balanced(NewEntry(item.kind, item.expected_date, item.description, tuple(item.lines)))
    if not expected:
        return []
    await ledger_accounts.ensure_ledger_accounts(
        session, (line.ledger_account for item in expected for line in item.lines), now=now
    )
    ids = [new_id("pe") for _ in expected]
    today = accounting_date(now.date(), now)
    opened_on = [item.opened_on or today for item in expected]
    await repository.insert_pendings(
        session,
        [
            {
                "id": pending_id,
                "kind": item.kind.value,
                "status": PendingStatus.OPEN.value,
                "expected_date": item.expected_date,
                "description": item.description,
                "source_type": item.source_type,
                "source_id": item.source_id,
                "opened_on": day,
                "created_at": now,
                "created_by": actor.key_id,
            }
            for pending_id, item, day in zip(ids, expected, opened_on, strict=True)
        ],
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
    deltas: Deltas = defaultdict(Totals)
    for item, day in zip(expected, opened_on, strict=True):
        _merge(deltas, _pending_deltas(item.lines, day, +1))
    await _move_balances(session, deltas, into=into, now=now)
    return ids


async def lock_pendings(session: AsyncSession, ids: Sequence[str]) -> dict[str, LockedPending]:
    """Lock pending entries, in id order, until the transaction ends. NotFound names the first
    id that does not exist."""
    return await repository.lock_pendings(session, ids)


async def lock_pending(session: AsyncSession, pending_id: str) -> LockedPending:
    return (await lock_pendings(session, [pending_id]))[pending_id]


async def pending_lines(session: AsyncSession, pending_id: str) -> list[Line]:
    return (await repository.pending_lines_of(session, [pending_id]))[pending_id]


async def resolve_pendings(
    session: AsyncSession,
    pendings: Sequence[LockedPending],
    *,
    event: PendingEvent,
    actor: Actor,
    now: datetime,
    void_reason: str | None = None,
    effective_on: Mapping[str, date] | None = None,
    into: Deltas | None = None,
) -> dict[str, list[Line]]:
    """Close locked pending entries (each exactly once: the transition table refuses a second
    time) and take their amounts out of the projected balances: from the day given per pending
    entry in ``effective_on`` (a settlement's value date; never before the day it was opened),
    else from today (``into`` as for ``post``). Returns their lines."""
    today = accounting_date(now.date(), now)
    resolved_on: dict[str, date] = {}
    by_status_and_day: dict[tuple[str, date], list[str]] = defaultdict(list)
    for pending in pendings:
        resolved = next_state(PENDING_TRANSITIONS, PendingStatus(pending.status), event)
        day = (effective_on or {}).get(pending.id)
        resolved_on[pending.id] = today if day is None else max(day, pending.opened_on)
        by_status_and_day[(resolved.value, resolved_on[pending.id])].append(pending.id)
    await repository.mark_resolved(
        session, by_status_and_day, resolved_by=actor.key_id, now=now, void_reason=void_reason
    )
    lines = await repository.pending_lines_of(session, [pending.id for pending in pendings])
    deltas: Deltas = defaultdict(Totals)
    for pending_id, entry_lines in lines.items():
        _merge(deltas, _pending_deltas(entry_lines, resolved_on[pending_id], -1))
    await _move_balances(session, deltas, into=into, now=now)
    return lines


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


async def link_remainders(session: AsyncSession, remainders: Mapping[str, str]) -> None:
    """Record, per posted pending entry, the entry opened for what its posting left."""
    if remainders:
        await repository.link_remainders(session, remainders.items())


# The journal as it is read ---------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    entry: JournalEntry
    postings: list[Posting]
    # The entry that reversed this one, if any.
    reversed_by: str | None


async def _views(session: AsyncSession, entries: Sequence[JournalEntry]) -> list[EntryView]:
    if not entries:
        return []
    ids = [entry.id for entry in entries]
    postings = await repository.postings_by_entry(session, ids)
    reversals = await repository.reversing_entry_ids(session, ids)
    return [EntryView(entry, postings[entry.id], reversals.get(entry.id)) for entry in entries]


async def journal_entries(
    session: AsyncSession, *, page: PageRequest, wanted: EntryFilter
) -> tuple[list[EntryView], str | None]:
    """A page of the entries ``wanted`` selects, each with its postings and the entry that
    reversed it."""
    entries, cursor = await repository.page_of_entries(session, page=page, wanted=wanted)
    return await _views(session, entries), cursor


async def journal_entry(session: AsyncSession, *, entry_id: str) -> EntryView:
    [view] = await _views(session, [await repository.get_entry(session, entry_id)])
    return view


async def moved_after(
    session: AsyncSession,
    *,
    source_type: str,
    source_ids: Sequence[str],
    prefix: str,
    after: date,
) -> list[Any]:
    """(``source_id``, ``asset``, ``amount``) of the live postings of these sources' entries
    value-dated after ``after`` on accounts starting with ``prefix`` (see the repository)."""
    return await repository.moved_after(
        session, source_type=source_type, source_ids=source_ids, prefix=prefix, after=after
    )
