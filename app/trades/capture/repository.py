"""Every query and lock on the trades table, named for what it fetches."""

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, func, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.core import bulk, driver
from app.core.any_of import any_of
from app.core.db import insert_or_nothing, table_of
from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.core.runs.framework import claim
from app.trades.capture.images import TRADE_IMAGES, image
from app.trades.capture.models import Trade
from app.trades.capture.states import TradeStatus

# Ids per IN (...) list: keeps statements well under the drivers' parameter limits.
IN_CHUNK = 500
UNCONFIRMED = (TradeStatus.CAPTURED.value, TradeStatus.MISMATCHED.value)
_TRADES = table_of(Trade)
_INSERT_UNLESS_BOOKED = insert_or_nothing(_TRADES, ("book", "external_id"), _TRADES.c.id)


# One trade ----------------------------------------------------------------------------------


async def find(session: AsyncSession, trade_id: str) -> Trade | None:
    return await session.get(Trade, trade_id)


async def get(session: AsyncSession, trade_id: str) -> Trade:
    trade = await find(session, trade_id)
    if trade is None:
        raise NotFound(f"No trade '{trade_id}'.")
    return trade


async def lock(session: AsyncSession, trade_id: str) -> Trade:
    """The trade, locked (FOR UPDATE) and read afresh."""
    # Sessions do not autoflush: without this, populate_existing would overwrite a change made
    # earlier in the same unit of work (two transitions in one transaction lost the first).
    await session.flush()
    trade = await session.get(Trade, trade_id, with_for_update=True, populate_existing=True)
    if trade is None:
        raise NotFound(f"No trade '{trade_id}'.")
    return trade


# Capture ------------------------------------------------------------------------------------


async def insert_unless_booked(session: AsyncSession, row: dict[str, Any]) -> Trade | None:
    """Insert one new trade, unless its (book, external_id) is booked already (None then).

    One statement: the unique index decides, so a concurrent twin waits for the first to end
    instead of failing; no ORM flush. The answer is the trade as the session's own object, its
    columns those just written (no read back)."""
    if (await session.execute(_INSERT_UNLESS_BOOKED(session), row)).first() is None:
        return None
    trade = Trade(**row)
    make_transient_to_detached(trade)  # as if loaded: persistent once added, nothing to insert
    session.add(trade)
    return trade


async def insert_many_unless_booked(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> set[str]:
    """``insert_unless_booked`` for many new trades in one statement (rows with distinct
    (book, external_id), inserted in the order given): the ids of the trades inserted; those
    whose (book, external_id) is booked already are left out. No ORM object is made (a
    capture group made one a trade): a later step of the transaction that changes a trade
    reads it afresh, locked (``lock``)."""
    if not rows:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        columns = {c.key: [row[c.key] for row in rows] for c in _TRADES.columns}
        arrays = driver.arrays_of(session.get_bind().dialect, _TRADES, columns)
        return {row[0] for row in await driver.fetch(session, _unnested_insert(), arrays)}
    result = await session.execute(_INSERT_UNLESS_BOOKED(session), list(rows))
    return set(result.scalars().all())


_UNNESTED_INSERT: list[Any] = []


def _unnested_insert() -> Any:
    """New trades from one array per column, unless booked (PostgreSQL): one statement,
    prepared once, whatever the number of trades. Built at first use (``insert_from_arrays``)."""
    if not _UNNESTED_INSERT:
        _UNNESTED_INSERT.append(
            driver.insert_from_arrays(_TRADES, _TRADES.columns.keys())
            .on_conflict_do_nothing(index_elements=["book", "external_id"])
            .returning(_TRADES.c.id)
        )
    return _UNNESTED_INSERT[0]


# One index probe per key, whatever the statistics say: a correlated subquery on the unique
# (book, external_id) index. As ``book = :book AND external_id IN (...)`` the planner, short of
# statistics on a table a batch has just grown by thousands of rows, scanned the whole book and
# filtered it against the list (95 ms for 500 keys against a book of 4,300 trades, and more as
# the book grows, against 1 ms here).
_BOOKED_POSTGRESQL = text(
    """SELECT wanted.book, wanted.external_id,
       (SELECT t.id FROM trades AS t
         WHERE t.book = wanted.book AND t.external_id = wanted.external_id) AS id
  FROM unnest(CAST(:books AS text[]), CAST(:external_ids AS text[])) AS wanted(book, external_id)"""
)


async def booked_ids(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Trade ids already booked under these (book, external_id) pairs.

    On PostgreSQL one statement, an index probe per pair; elsewhere one query per book and
    chunk, so the (book, external_id) unique index answers it.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        books = [book for book, _ in wanted]
        external_ids = [external_id for _, external_id in wanted]
        rows = await session.execute(
            _BOOKED_POSTGRESQL, {"books": books, "external_ids": external_ids}
        )
        return {(book, external_id): trade_id for book, external_id, trade_id in rows if trade_id}
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for book in sorted({book for book, _ in chunk}):
            statement = select(Trade.external_id, Trade.id).where(
                Trade.book == book,
                Trade.external_id.in_([e for b, e in chunk if b == book]),
            )
            for external_id, trade_id in (await session.execute(statement)).all():
                found[(book, external_id)] = trade_id
    return found


_COLUMNS = tuple(column.key for column in Trade.__table__.columns)


async def insert_streamed(
    session: AsyncSession, parts: AsyncIterator[Sequence[dict[str, Any]]], *, most: int
) -> None:
    """Insert new trades (plain rows, each with every column) made a part at a time: each part
    is written while the next is made (``bulk.stream_columns``). ``most``: the rows the parts
    can hold at most."""

    async def columns() -> AsyncIterator[dict[str, list[Any]]]:
        async for rows in parts:
            yield {key: list(map(itemgetter(key), rows)) for key in _COLUMNS}

    await bulk.stream_columns(session, table_of(Trade), _COLUMNS, columns(), most=most)


async def page(
    session: AsyncSession, *, page: PageRequest, filters: dict[str, Any]
) -> tuple[Sequence[Trade], str | None]:
    """A page of trades in id order, each of ``filters`` (column name -> value) equal."""
    statement = select(Trade)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(Trade, name) == value)
    return await fetch_page(session, statement, Trade.id, page)


# What confirmations look for ----------------------------------------------------------------


async def live_by_reference(
    session: AsyncSession, *, counterparty_lei: str, external_id: str
) -> Sequence[Trade]:
    """Trades with this counterparty booked under ``external_id`` (any book), not cancelled."""
    statement = select(Trade).where(
        Trade.counterparty_lei == counterparty_lei,
        Trade.external_id == external_id,
        Trade.status != TradeStatus.CANCELLED.value,
    )
    return (await session.scalars(statement)).all()


async def unconfirmed_same_day(
    session: AsyncSession, *, counterparty_lei: str, isin: str, trade_date: date, side: str
) -> Sequence[Trade]:
    """Unconfirmed trades with this counterparty in this security on this trade date."""
    statement = select(Trade).where(
        Trade.counterparty_lei == counterparty_lei,
        Trade.isin == isin,
        Trade.trade_date == trade_date,
        Trade.side == side,
        Trade.status.in_(UNCONFIRMED),
    )
    return (await session.scalars(statement)).all()


async def unconfirmed(
    session: AsyncSession, *, venue: str | None, book: str | None
) -> Sequence[Trade]:
    statement = select(Trade).where(Trade.status.in_(UNCONFIRMED))
    if venue:
        statement = statement.where(Trade.venue == venue)
    if book:
        statement = statement.where(Trade.book == book)
    return (await session.scalars(statement)).all()


_UNFLAGGED_UNCONFIRMED = (Trade.status.in_(UNCONFIRMED), Trade.affirmation_overdue_at.is_(None))


async def claim_unflagged_unconfirmed(
    session: AsyncSession, *, after_id: str | None, limit: int
) -> Sequence[Trade]:
    """The next ``limit`` unconfirmed trades not yet flagged overdue, in id order after
    ``after_id``, locked; rows another transaction holds are skipped, so concurrent runs never
    flag a trade twice."""
    statement = select(Trade).where(*_UNFLAGGED_UNCONFIRMED).order_by(Trade.id)
    if after_id is not None:
        statement = statement.where(Trade.id > after_id)
    return (await session.scalars(claim(statement, limit=limit))).all()


async def count_unflagged_unconfirmed(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(Trade).where(*_UNFLAGGED_UNCONFIRMED)
    return int(await session.scalar(statement) or 0)


# What clearing and settlement move on -------------------------------------------------------


def _clearable(settlement_date: date) -> tuple[ColumnElement[bool], ...]:
    return (
        Trade.status == TradeStatus.CONFIRMED.value,
        Trade.settlement_date == settlement_date,
    )


async def count_clearable(session: AsyncSession, *, settlement_date: date) -> int:
    statement = select(func.count()).select_from(Trade).where(*_clearable(settlement_date))
    return int(await session.scalar(statement) or 0)


def _per_statement(session: AsyncSession, ids: Sequence[str]) -> list[Sequence[str]]:
    """``ids`` split as the database needs: all in one array on PostgreSQL (``any_of``), else
    ``IN_CHUNK`` per IN list."""
    if session.get_bind().dialect.name == "postgresql":
        return [ids]
    return [ids[start : start + IN_CHUNK] for start in range(0, len(ids), IN_CHUNK)]


_TRADES = table_of(Trade)
_SETTLEABLE = (TradeStatus.INSTRUCTED.value, TradeStatus.PARTIALLY_SETTLED.value)


async def lock_settleable(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The instructed or partially settled trades of these obligations, locked, in id order
    (per ``IN_CHUNK`` obligations off PostgreSQL), as their audit images (read with Core, as
    ``row_snapshot`` gives them): a set-based move needs no ORM object. What the session holds
    unflushed is flushed first, so the move goes on top of it."""
    await session.flush()
    plan = TRADE_IMAGES.plan(session)
    images: list[dict[str, Any]] = []
    for chunk in _per_statement(session, obligation_ids):
        statement = (
            select(*plan.columns)
            .where(any_of(_TRADES.c.obligation_id, chunk), _TRADES.c.status.in_(_SETTLEABLE))
            .order_by(_TRADES.c.id)
            .with_for_update()
        )
        images += [image(row, plan) for row in await session.execute(statement)]
    return images


async def move_to(
    session: AsyncSession, trade_ids: Sequence[str], *, status: str, now: datetime
) -> None:
    """Set ``status`` on these trades (locked by the caller), a version on, updated ``now``: one
    UPDATE on PostgreSQL. Trades the session holds as ORM objects are given the new values."""
    for chunk in _per_statement(session, trade_ids):
        await session.execute(
            update(_TRADES)
            .where(any_of(_TRADES.c.id, chunk))
            .values(status=status, version=_TRADES.c.version + 1, updated_at=now)
        )
    for trade in _loaded(session, trade_ids):
        if "version" in inspect(trade).unloaded:  # expired: it reads the row afresh anyway
            continue
        set_committed_value(trade, "status", status)
        set_committed_value(trade, "version", trade.version + 1)
        set_committed_value(trade, "updated_at", now)


def _loaded(session: AsyncSession, trade_ids: Sequence[str]) -> list[Trade]:
    """Those of the trades the session holds as ORM objects."""
    identities = session.sync_session.identity_map
    if not identities:
        return []
    # The identity map's keys: (class, primary key tuple, identity token).
    found = (identities.get((Trade, (trade_id,), None)) for trade_id in trade_ids)
    return [trade for trade in found if isinstance(trade, Trade)]


async def obligations_with(
    session: AsyncSession, obligation_ids: Sequence[str], *, status: TradeStatus
) -> set[str]:
    """Those of the obligations that have a trade in ``status``."""
    found: set[str] = set()
    for start in range(0, len(obligation_ids), IN_CHUNK):
        statement = (
            select(Trade.obligation_id)
            .where(
                Trade.obligation_id.in_(obligation_ids[start : start + IN_CHUNK]),
                Trade.status == status.value,
            )
            .distinct()
        )
        found.update(str(o) for o in (await session.scalars(statement)).all())
    return found


async def count_of_obligations(
    session: AsyncSession, obligation_ids: Sequence[str], *, status: TradeStatus
) -> int:
    count = 0
    for start in range(0, len(obligation_ids), IN_CHUNK):
        statement = (
            select(func.count())
            .select_from(Trade)
            .where(
                Trade.obligation_id.in_(obligation_ids[start : start + IN_CHUNK]),
                Trade.status == status.value,
            )
        )
        count += int(await session.scalar(statement) or 0)
    return count


async def terms_of_obligations(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> list[tuple[str, date, Decimal, str]]:
    """``(obligation_id, trade_date, price, currency)`` of every trade of these obligations,
    distinct (prices are compared in Python: on SQLite decimals are text)."""
    found: list[tuple[str, date, Decimal, str]] = []
    for start in range(0, len(obligation_ids), IN_CHUNK):
        statement = (
            select(Trade.obligation_id, Trade.trade_date, Trade.price, Trade.currency)
            .where(Trade.obligation_id.in_(obligation_ids[start : start + IN_CHUNK]))
            .distinct()
        )
        found.extend(
            (str(o), trade_date, price, currency)
            for o, trade_date, price, currency in (await session.execute(statement)).all()
        )
    return found


async def ids_of_obligations(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> list[tuple[str, str]]:
    """``(obligation_id, trade_id)`` of every trade of these obligations."""
    found: list[tuple[str, str]] = []
    for start in range(0, len(obligation_ids), IN_CHUNK):
        statement = select(Trade.obligation_id, Trade.id).where(
            Trade.obligation_id.in_(obligation_ids[start : start + IN_CHUNK])
        )
        found.extend((str(o), str(t)) for o, t in (await session.execute(statement)).all())
    return found


# Reports ------------------------------------------------------------------------------------

REPORT_CHUNK = 1000


async def chunk_by_trade_date(
    session: AsyncSession, *, start: date, end: date, after: str | None, limit: int = REPORT_CHUNK
) -> list[Trade]:
    """Up to ``limit`` trades dated ``start`` to ``end`` (inclusive), in id order after
    ``after``."""
    statement = (
        select(Trade)
        .where(Trade.trade_date >= start, Trade.trade_date <= end)
        .order_by(Trade.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(Trade.id > after)
    return list((await session.scalars(statement)).all())


async def chunk_unsettled(
    session: AsyncSession, *, as_of: date, after: str | None, limit: int = REPORT_CHUNK
) -> list[Trade]:
    """Up to ``limit`` trades dated on or before ``as_of``, neither settled nor cancelled, in
    id order after ``after``."""
    closed = (TradeStatus.SETTLED.value, TradeStatus.CANCELLED.value)
    statement = (
        select(Trade)
        .where(Trade.trade_date <= as_of, Trade.status.not_in(closed))
        .order_by(Trade.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(Trade.id > after)
    return list((await session.scalars(statement)).all())
