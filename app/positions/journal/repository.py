"""Every query and lock of the journal: Core inserts of entries, postings and pending entries,
pending entries locked in id order, their batched UPDATEs, and the journal's reads."""

import operator
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from app.core import bulk, driver
from app.core.db import table_of
from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.positions.journal.entries import Line
from app.positions.journal.filters import EntryFilter
from app.positions.journal.models import JournalEntry, PendingEntry, PendingPosting, Posting

_CHUNK = 500
# Rows a streamed read holds at a time: a busy cash account's day is a million postings.
_STREAMED = 10_000


# Entries and postings --------------------------------------------------------------------------


def _write_entries(
    session: Session, entries: Mapping[str, Sequence[Any]], postings: Mapping[str, Sequence[Any]]
) -> None:
    bulk.write_tables(session, [(table_of(JournalEntry), entries), (table_of(Posting), postings)])


async def insert_entries(
    session: AsyncSession,
    entries: Mapping[str, Sequence[Any]],
    postings: Mapping[str, Sequence[Any]],
) -> None:
    """Entries and their postings, column by column: on PostgreSQL one statement over arrays
    for a few hundred postings (a capture group's), COPY for more (a batch of trades posts
    thousands); executemany INSERTs on SQLite. Postings are numbered in the order given."""
    count = len(postings["entry_id"])
    if session.get_bind().dialect.name == "postgresql" and 0 < count <= ARRAYS_AT_MOST:
        statement = _entries_and_postings(tuple(entries), tuple(postings))
        dialect = session.get_bind().dialect
        arrays = {
            **driver.arrays_of(dialect, table_of(JournalEntry), entries, prefix="e"),
            **driver.arrays_of(dialect, table_of(Posting), postings, prefix="p"),
        }
        await driver.fetch(session, statement, arrays)
        return
    await session.run_sync(_write_entries, entries, postings)


# Postings written by one statement over arrays at most (a capture group's are a few hundred);
# more go by COPY, as a batch's thousands did before.
ARRAYS_AT_MOST = 1000


def streams(session: AsyncSession, postings: int) -> bool:
    """Whether entries with this many postings are written by COPY (``insert_entries``), and
    so may have their postings streamed (``stream_postings``): more than a statement over
    arrays takes."""
    return session.get_bind().dialect.name == "postgresql" and postings > ARRAYS_AT_MOST


async def insert_entry_rows(session: AsyncSession, entries: Mapping[str, Sequence[Any]]) -> None:
    """Entries without their postings, column by column (``stream_postings`` follows)."""
    await session.run_sync(bulk.write_columns, table_of(JournalEntry), entries)


async def stream_postings(
    session: AsyncSession,
    keys: Sequence[str],
    parts: AsyncIterator[Mapping[str, Sequence[Any]]],
    *,
    most: int,
) -> None:
    """Postings of entries written already (``insert_entry_rows``), made a part at a time,
    column by column (``keys``): one COPY takes each part while the next is made
    (``bulk.stream_columns``), numbered in the order given. ``most``: the postings the parts
    hold at most."""
    await bulk.stream_columns(session, table_of(Posting), keys, parts, most=most)


_BOTH: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}


def _entries_and_postings(entry_keys: tuple[str, ...], posting_keys: tuple[str, ...]) -> Any:
    """Entries and their postings in one statement: the entries' INSERT a data-modifying CTE
    of the postings' (the postings' foreign key is checked at the statement's end)."""
    key = (entry_keys, posting_keys)
    if key not in _BOTH:
        entries = driver.insert_from_arrays(table_of(JournalEntry), entry_keys, prefix="e")
        _BOTH[key] = driver.insert_from_arrays(table_of(Posting), posting_keys, prefix="p").add_cte(
            entries.returning(table_of(JournalEntry).c.id).cte("new_entries")
        )
    return _BOTH[key]


async def get_entry(session: AsyncSession, entry_id: str) -> JournalEntry:
    entry = await session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"No journal entry '{entry_id}'.")
    return entry


async def entry_lines(session: AsyncSession, entry_id: str) -> list[Line]:
    postings = (
        await session.scalars(
            select(Posting).where(Posting.entry_id == entry_id).order_by(Posting.id)
        )
    ).all()
    return [Line(p.ledger_account, p.asset, p.amount, p.cost, p.realized_pnl) for p in postings]


async def reversing_entry_id(session: AsyncSession, entry_id: str) -> str | None:
    """The entry that reversed this one, if any."""
    return await session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id))


async def reversing_entry_ids(session: AsyncSession, entry_ids: Sequence[str]) -> dict[str, str]:
    """For each of these entries that was reversed, the reversing entry's id."""
    rows = await session.execute(
        select(JournalEntry.reverses_id, JournalEntry.id).where(
            JournalEntry.reverses_id.in_(list(entry_ids))
        )
    )
    return {original: reversal for original, reversal in rows.all() if original}


async def live_entry(
    session: AsyncSession, *, source_type: str, source_id: str, kind: str
) -> JournalEntry | None:
    """The entry of ``kind`` from this source that no reversal has undone."""
    reversed_ids = select(JournalEntry.reverses_id).where(
        JournalEntry.source_type == source_type,
        JournalEntry.source_id == source_id,
        JournalEntry.reverses_id.is_not(None),
    )
    statement = select(JournalEntry).where(
        JournalEntry.source_type == source_type,
        JournalEntry.source_id == source_id,
        JournalEntry.kind == kind,
        JournalEntry.id.not_in(reversed_ids),
    )
    return (await session.scalars(statement)).one_or_none()


async def live_postings_of_position(
    session: AsyncSession, *, ledger_account: str, asset: str, kinds: Sequence[str]
) -> dict[str, list[Any]]:
    """Per entry, in journal order: the postings on ``ledger_account`` of every entry of
    ``kinds`` that touches (``ledger_account``, ``asset``) and was not reversed, each with its
    entry's ``value_date``, ``effective_at`` and ``created_at`` and its ``posting_id`` (which
    grows in insertion order)."""
    touching = select(Posting.entry_id).where(
        Posting.ledger_account == ledger_account, Posting.asset == asset
    )
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    statement = (
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.value_date,
            JournalEntry.effective_at,
            JournalEntry.created_at,
            Posting.id.label("posting_id"),
            Posting.asset,
            Posting.amount,
            Posting.cost,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(
            Posting.ledger_account == ledger_account,
            JournalEntry.id.in_(touching),
            JournalEntry.kind.in_(list(kinds)),
            JournalEntry.id.not_in(reversed_ids),
        )
        .order_by(JournalEntry.accounting_date, JournalEntry.id, Posting.id)
    )
    by_entry: dict[str, list[Any]] = {}
    for row in (await session.execute(statement)).all():
        by_entry.setdefault(row.id, []).append(row)
    return by_entry


async def cost_by_value_date(
    session: AsyncSession, *, ledger_account: str, asset: str
) -> list[Any]:
    """The cost and realised P&L of every posting on (``ledger_account``, ``asset``) that
    carries them, with its entry's value date (``value_date``, ``cost``, ``realized_pnl``)."""
    statement = (
        select(JournalEntry.value_date, Posting.cost, Posting.realized_pnl)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(
            Posting.ledger_account == ledger_account,
            Posting.asset == asset,
            (Posting.cost.is_not(None)) | (Posting.realized_pnl.is_not(None)),
        )
    )
    return list((await session.execute(statement)).all())


async def live_postings_on(
    session: AsyncSession, *, ledger_account: str, value_date: date, partner_prefix: str
) -> AsyncIterator[Sequence[Any]]:
    """The postings on ``ledger_account`` of entries with this value date that neither reverse
    nor were reversed (a movement and its reversal never happened), ``_STREAMED`` rows at a
    time: ``entry_id``, ``kind``, ``source_type``, ``source_id``, ``asset``, ``amount`` and
    as ``partner`` the ledger account of the entry's first posting (by id) on an account
    starting with ``partner_prefix`` (None when it has none)."""
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    partner = aliased(Posting)
    first_partner = (
        select(partner.ledger_account)
        .where(
            partner.entry_id == JournalEntry.id, partner.ledger_account.startswith(partner_prefix)
        )
        .order_by(partner.id)
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        select(
            JournalEntry.id.label("entry_id"),
            JournalEntry.kind,
            JournalEntry.source_type,
            JournalEntry.source_id,
            Posting.asset,
            Posting.amount,
            first_partner.label("partner"),
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(
            JournalEntry.value_date == value_date,
            Posting.ledger_account == ledger_account,
            JournalEntry.reverses_id.is_(None),
            JournalEntry.id.not_in(reversed_ids),
        )
        .order_by(JournalEntry.id, Posting.id)
        .execution_options(yield_per=_STREAMED)
    )
    result = await session.stream(statement)
    async for part in result.partitions():
        yield part


def _filtered(statement: Any, wanted: EntryFilter) -> Any:
    if wanted.ledger_account is not None or wanted.asset is not None:
        touching = select(Posting.entry_id)
        if wanted.ledger_account is not None:
            touching = touching.where(Posting.ledger_account == wanted.ledger_account)
        if wanted.asset is not None:
            touching = touching.where(Posting.asset == wanted.asset)
        statement = statement.where(JournalEntry.id.in_(touching))
    bounds: tuple[tuple[Any, Callable[[Any, Any], Any], Any], ...] = (
        (JournalEntry.kind, operator.eq, wanted.kind),
        (JournalEntry.source_id, operator.eq, wanted.source_id),
        (JournalEntry.accounting_date, operator.ge, wanted.from_date),
        (JournalEntry.accounting_date, operator.le, wanted.to_date),
        (JournalEntry.value_date, operator.ge, wanted.value_from),
        (JournalEntry.value_date, operator.le, wanted.value_to),
        (JournalEntry.created_at, operator.gt, wanted.booked_after),
        (JournalEntry.created_at, operator.le, wanted.booked_to),
    )
    for column, compare, given in bounds:
        if given is not None:
            statement = statement.where(compare(column, given))
    return statement


async def page_of_entries(
    session: AsyncSession, *, page: PageRequest, wanted: EntryFilter
) -> tuple[Sequence[JournalEntry], str | None]:
    return await fetch_page(session, _filtered(select(JournalEntry), wanted), JournalEntry.id, page)


async def postings_by_entry(
    session: AsyncSession, entry_ids: Sequence[str]
) -> dict[str, list[Posting]]:
    by_entry: dict[str, list[Posting]] = defaultdict(list)
    postings = await session.scalars(
        select(Posting).where(Posting.entry_id.in_(list(entry_ids))).order_by(Posting.id)
    )
    for posting in postings.all():
        by_entry[posting.entry_id].append(posting)
    return by_entry


# Pending entries -------------------------------------------------------------------------------


async def insert_pendings(
    session: AsyncSession, entries: Sequence[dict[str, Any]], postings: Sequence[dict[str, Any]]
) -> None:
    """Pending entries and their postings as plain rows: two executemany INSERTs."""
    await session.execute(insert(table_of(PendingEntry)), entries)
    await session.execute(insert(table_of(PendingPosting)), postings)


@dataclass(frozen=True)
class LockedPending:
    """A pending entry locked until the transaction ends, as it stood when locked."""

    id: str
    status: str
    expected_date: date
    source_type: str | None
    source_id: str | None
    opened_on: date


async def lock_pendings(session: AsyncSession, ids: Sequence[str]) -> dict[str, LockedPending]:
    """Lock pending entries, in id order, until the transaction ends. NotFound names the first
    id that does not exist."""
    await session.flush()
    wanted = sorted(set(ids))
    found: dict[str, LockedPending] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(
                PendingEntry.id,
                PendingEntry.status,
                PendingEntry.expected_date,
                PendingEntry.source_type,
                PendingEntry.source_id,
                PendingEntry.opened_on,
            )
            .where(PendingEntry.id.in_(wanted[start : start + _CHUNK]))
            .order_by(PendingEntry.id)
            .with_for_update()
        )
        found |= {row.id: LockedPending(*row) for row in rows}
    for pending_id in wanted:
        if pending_id not in found:
            raise NotFound(f"No pending entry '{pending_id}'.")
    return found


async def pending_lines_of(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[Line]]:
    """The lines of each pending entry, in posting order."""
    found: dict[str, list[Line]] = {pending_id: [] for pending_id in ids}
    wanted = list(found)
    rows: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        # Sorted here, not in SQL: ORDER BY id tempts PostgreSQL to walk the whole primary key
        # in order instead of probing the pending_id index for each entry.
        rows += await session.execute(
            select(
                PendingPosting.id,
                PendingPosting.pending_id,
                PendingPosting.ledger_account,
                PendingPosting.asset,
                PendingPosting.amount,
            ).where(PendingPosting.pending_id.in_(wanted[start : start + _CHUNK]))
        )
    for _, pending_id, account, asset, amount in sorted(rows, key=lambda row: row.id):
        found[pending_id].append(Line(account, asset, amount))
    return found


async def mark_resolved(
    session: AsyncSession,
    by_status_and_day: Mapping[tuple[str, date], Sequence[str]],
    *,
    resolved_by: str,
    now: datetime,
    void_reason: str | None,
) -> None:
    """Set the new status and effective day of resolved pending entries: one UPDATE per status,
    day and 500 ids."""
    table = table_of(PendingEntry)
    for (status, resolved_on), ids in by_status_and_day.items():
        for start in range(0, len(ids), _CHUNK):
            await session.execute(
                update(table)
                .where(table.c.id.in_(ids[start : start + _CHUNK]))
                .values(
                    status=status,
                    resolved_on=resolved_on,
                    resolved_at=now,
                    resolved_by=resolved_by,
                    void_reason=void_reason,
                )
            )


async def link_remainders(session: AsyncSession, remainders: Iterable[tuple[str, str]]) -> None:
    """Record (pending entry, remainder) pairs: one executemany UPDATE."""
    table = table_of(PendingEntry)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(remainder_id=bindparam("p_remainder_id")),
        [{"p_id": pending_id, "p_remainder_id": rest} for pending_id, rest in remainders],
    )


async def moved_after(
    session: AsyncSession,
    *,
    source_type: str,
    source_ids: Sequence[str],
    prefix: str,
    after: date,
) -> list[Any]:
    """Per posting of the live entries of these sources value-dated after ``after`` on ledger
    accounts starting with ``prefix``: (``source_id``, ``asset``, ``amount``)."""
    rows: list[Any] = []
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    for start in range(0, len(source_ids), _CHUNK):
        statement = (
            select(JournalEntry.source_id, Posting.asset, Posting.amount)
            .join(Posting, Posting.entry_id == JournalEntry.id)
            .where(
                JournalEntry.source_type == source_type,
                JournalEntry.source_id.in_(source_ids[start : start + _CHUNK]),
                JournalEntry.value_date > after,
                JournalEntry.reverses_id.is_(None),
                JournalEntry.id.not_in(reversed_ids),
                Posting.ledger_account.startswith(prefix),
            )
        )
        rows.extend((await session.execute(statement)).all())
    return rows
