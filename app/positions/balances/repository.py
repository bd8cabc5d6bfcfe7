"""Every query and lock of the balances: the balance rows locked in key order (one statement
per 500 keys, an unnest join on PostgreSQL), the batched update of the running totals, the
upsert of the daily rows, and the as-of reads."""

import secrets
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    delete,
    exists,
    func,
    null,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core import driver
from app.core.db import dialect_insert, table_of
from app.core.pagination import PageRequest, fetch_row_page
from app.core.types import ExactDecimal, UTCDateTime
from app.positions.balances import arrays
from app.positions.balances.models import LedgerBalance, LedgerBalanceDay
from app.positions.balances.totals import ZERO, Key, Totals
from app.positions.journal.models import JournalEntry, PendingEntry, PendingPosting, Posting
from app.positions.ledger_accounts.models import LedgerAccount

_CHUNK = 500
LOCK_AT_MOST = _CHUNK  # keys ``lock_heads_when_all_exist`` locks in one statement at most
_MAX_STRIPE = 2**31 - 2


@dataclass
class Head:
    """A locked balance row, as this transaction sees and changes it."""

    id: int
    totals: Totals
    last_date: date | None
    last_trade_at: datetime | None = None


@dataclass(frozen=True)
class BalanceRow:
    balance_id: int
    ledger_account: str
    asset: str
    totals: Totals


def _totals(row: Any) -> Totals:
    return Totals(row.posted, row.pending, row.cost, row.realized_pnl)


_COLUMNS = (
    LedgerBalance.id,
    LedgerBalance.ledger_account,
    LedgerBalance.asset,
    LedgerBalance.posted,
    LedgerBalance.pending,
    LedgerBalance.cost,
    LedgerBalance.realized_pnl,
    LedgerBalance.last_date,
    LedgerBalance.last_trade_at,
)


Build = Callable[[Callable[[Any], Any]], Any]


def _unnested() -> Any:
    return (
        func.unnest(
            bindparam("accounts", type_=ARRAY(String)), bindparam("assets", type_=ARRAY(String))
        )
        .table_valued("account", "asset")
        .render_derived(name="wanted")
    )


def _joined_to_keys(statement: Any) -> Any:
    wanted = _unnested()
    return statement.join(
        wanted,
        and_(
            LedgerBalance.ledger_account == wanted.c.account,
            LedgerBalance.asset == wanted.c.asset,
        ),
    )


_BUILT: dict[Build, Any] = {}


async def _execute_for_keys(
    session: AsyncSession, build: Build, keys: Sequence[Key], **values: Any
) -> Sequence[Any]:
    """The rows of the statement ``build`` makes (over balance rows, given how to keep them to
    some keys), kept to ``keys``. On PostgreSQL a join to the unnested key arrays, built once
    and prepared once whatever the number of keys (a row-value IN list is a new statement, with
    two parameters per key, for every count; building a statement costs as much as running
    it)."""
    if session.get_bind().dialect.name != "postgresql":
        in_keys = tuple_(LedgerBalance.ledger_account, LedgerBalance.asset).in_(keys)
        statement = build(lambda statement: statement.where(in_keys))
        return (await session.execute(statement, values)).all()
    if build not in _BUILT:
        _BUILT[build] = build(_joined_to_keys)
    parameters = {
        "accounts": [account for account, _ in keys],
        "assets": [asset for _, asset in keys],
        **values,
    }
    # Straight to asyncpg: these run several times a capture group (``driver``).
    return _named_rows(build, await driver.fetch(session, _BUILT[build], parameters))


_ROW_TYPES: dict[Build, Any] = {}


def _named_rows(build: Build, records: Sequence[Any]) -> list[Any]:
    """asyncpg's records as rows read by column name, as ``session.execute`` gives them."""
    if not records:
        return []
    row_type = _ROW_TYPES.get(build)
    if row_type is None:
        row_type = _ROW_TYPES[build] = namedtuple("Row", list(records[0].keys()))
    return [row_type(*record) for record in records]


def _stripe_zero(keep: Callable[[Any], Any]) -> Any:
    """The stripe-0 rows: the row every balance has, and the one a writer that must see the
    whole balance locks."""
    return keep(select(*_COLUMNS).where(LedgerBalance.stripe == 0))


def _stripe_zero_locked(keep: Callable[[Any], Any]) -> Any:
    return (
        _stripe_zero(keep)
        .order_by(LedgerBalance.ledger_account, LedgerBalance.asset)
        .with_for_update(of=LedgerBalance)
    )


def _stripe_zero_free(keep: Callable[[Any], Any]) -> Any:
    return (
        _stripe_zero(keep)
        .order_by(LedgerBalance.ledger_account, LedgerBalance.asset)
        .with_for_update(of=LedgerBalance, skip_locked=True)
    )


def _stripe_zero_locked_when_all_exist(keep: Callable[[Any], Any]) -> Any:
    """``_stripe_zero_locked``, but only when every key has its row: else no row, and so no
    lock (the count is the statement's own, over the same keys)."""
    present = select(func.count()).select_from(
        keep(select(LedgerBalance.id).where(LedgerBalance.stripe == 0)).subquery()
    )
    return _stripe_zero_locked(keep).where(present.scalar_subquery() == bindparam("wanted"))


def _head(row: Any) -> Head:
    return Head(row.id, _totals(row), row.last_date, row.last_trade_at)


async def existing_keys(session: AsyncSession, keys: Sequence[Key]) -> set[Key]:
    """Which of ``keys`` have their (stripe-0) balance row, without locking any."""
    found: set[Key] = set()
    for start in range(0, len(keys), _CHUNK):
        rows = await _execute_for_keys(session, _stripe_zero, keys[start : start + _CHUNK])
        found.update((row.ledger_account, row.asset) for row in rows)
    return found


async def lock_heads(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Head]:
    """Lock the stripe-0 rows of ``keys`` (sorted) that exist, in key order, until the
    transaction ends."""
    found: dict[Key, Head] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for row in await _execute_for_keys(session, _stripe_zero_locked, chunk):
            found[(row.ledger_account, row.asset)] = _head(row)
    return found


async def lock_heads_when_all_exist(
    session: AsyncSession, keys: Sequence[Key]
) -> dict[Key, Head] | None:
    """``lock_heads`` in one statement when every one of ``keys`` (sorted, distinct) has its
    stripe-0 row; None, with nothing locked, when one has not (or they are too many)."""
    if len(keys) > _CHUNK:
        return None
    rows = await _execute_for_keys(
        session, _stripe_zero_locked_when_all_exist, keys, wanted=len(keys)
    )
    if len(rows) != len(keys):
        return None
    return {(row.ledger_account, row.asset): _head(row) for row in rows}


# ``lock_heads_when_all_exist`` of some keys and ``claim_stripes`` of others in one statement
# (one round trip: a capture group takes both). The stripe-0 rows are locked first, in key
# order, as ``lock_heads_when_all_exist`` locks them (none when one has no row); then, for each
# other key, its lowest stripe no transaction holds, held ones skipped (never waits), as
# ``claim_stripes``. ``whole`` tells a locked row from a claimed one.
_LOCK_AND_CLAIM = text(
    """
WITH locked AS (
    SELECT b.id, b.ledger_account, b.asset, b.posted, b.pending, b.cost, b.realized_pnl,
           b.last_date, b.last_trade_at
    FROM ledger_balances AS b
    JOIN unnest(CAST(:accounts AS text[]), CAST(:assets AS text[])) AS wanted(account, asset)
      ON b.ledger_account = wanted.account AND b.asset = wanted.asset
    WHERE b.stripe = 0
      AND (SELECT count(*)
           FROM ledger_balances AS c
           JOIN unnest(CAST(:accounts AS text[]), CAST(:assets AS text[]))
                AS present(account, asset)
             ON c.ledger_account = present.account AND c.asset = present.asset
           WHERE c.stripe = 0) = :wanted
    ORDER BY b.ledger_account, b.asset
    FOR UPDATE OF b
), free AS (
    SELECT f.id, f.ledger_account, f.asset, f.posted, f.pending, f.cost, f.realized_pnl,
           f.last_date, f.last_trade_at
    FROM unnest(CAST(:spread_accounts AS text[]), CAST(:spread_assets AS text[]))
         AS spread(account, asset)
    JOIN LATERAL (
        SELECT x.id, x.ledger_account, x.asset, x.posted, x.pending, x.cost, x.realized_pnl,
               x.last_date, x.last_trade_at
        FROM ledger_balances AS x
        WHERE x.ledger_account = spread.account AND x.asset = spread.asset
        ORDER BY x.stripe
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    ) AS f ON true
)
SELECT true AS whole, * FROM locked
UNION ALL
SELECT false AS whole, * FROM free
"""
)


async def lock_heads_and_claim_stripes(
    session: AsyncSession, keys: Sequence[Key], spread: Sequence[Key]
) -> tuple[dict[Key, Head] | None, dict[Key, Head]]:
    """``lock_heads_when_all_exist(keys)`` and ``claim_stripes(spread)`` in one statement
    (PostgreSQL; ``keys`` sorted and distinct, at most ``_CHUNK``): the heads locked, or None
    when one of ``keys`` has no row (nothing locked then), and the stripes claimed."""
    parameters = {
        "accounts": [account for account, _ in keys],
        "assets": [asset for _, asset in keys],
        "wanted": len(keys),
        "spread_accounts": [account for account, _ in spread],
        "spread_assets": [asset for _, asset in spread],
    }
    locked: dict[Key, Head] = {}
    claimed: dict[Key, Head] = {}
    for row in await driver.fetch(session, _LOCK_AND_CLAIM, parameters):
        head = Head(
            row["id"],
            Totals(row["posted"], row["pending"], row["cost"], row["realized_pnl"]),
            row["last_date"],
            row["last_trade_at"],
        )
        (locked if row["whole"] else claimed)[(row["ledger_account"], row["asset"])] = head
    return (locked if len(locked) == len(keys) else None), claimed


async def insert_empty(session: AsyncSession, keys: Iterable[Key], *, now: datetime) -> None:
    """Zero stripe-0 rows for ``keys``, leaving alone any that another writer inserted
    meanwhile."""
    empty = Totals().as_columns()
    rows = [
        {
            "ledger_account": account,
            "asset": asset,
            **empty,
            "last_date": None,
            "updated_at": now,
        }
        for account, asset in keys
    ]
    statement = dialect_insert(session, LedgerBalance).on_conflict_do_nothing(
        index_elements=["ledger_account", "asset", "stripe"]
    )
    await session.execute(statement, rows)


async def update_heads(session: AsyncSession, heads: Iterable[Head], *, now: datetime) -> None:
    """Write the running totals of locked rows: one UPDATE over arrays on PostgreSQL, else one
    executemany UPDATE."""
    if session.get_bind().dialect.name == "postgresql":
        rows = [(head.id, head.totals, head.last_date, head.last_trade_at) for head in heads]
        if rows:
            await arrays.update_heads(session, rows, now=now)
        return
    table = table_of(LedgerBalance)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            posted=bindparam("b_posted"),
            pending=bindparam("b_pending"),
            cost=bindparam("b_cost"),
            realized_pnl=bindparam("b_realized_pnl"),
            last_date=bindparam("b_last_date"),
            last_trade_at=bindparam("b_last_trade_at"),
            updated_at=bindparam("b_updated_at"),
        ),
        [
            {
                "b_id": head.id,
                **{f"b_{name}": value for name, value in head.totals.as_columns().items()},
                "b_last_date": head.last_date,
                "b_last_trade_at": head.last_trade_at,
                "b_updated_at": now,
            }
            for head in heads
        ],
    )


async def update_heads_and_days(
    session: AsyncSession, heads: Sequence[Head], days: Sequence[dict[str, Any]], *, now: datetime
) -> None:
    """``update_heads`` then ``upsert_days``: in one statement on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql" and heads and days:
        rows = [(head.id, head.totals, head.last_date, head.last_trade_at) for head in heads]
        await arrays.update_heads_and_days(session, rows, days, now=now)
        return
    await update_heads(session, heads, now=now)
    if days:
        await upsert_days(session, days)


async def upsert_days(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write the daily rows (balance id, day, totals), replacing those of the same day (one
    statement over arrays on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        if rows:
            await arrays.upsert_days(session, rows)
        return
    upsert = dialect_insert(session, LedgerBalanceDay)
    upsert = upsert.on_conflict_do_update(
        index_elements=["balance_id", "as_of_date"],
        set_={name: upsert.excluded[name] for name in Totals().as_columns()},
    )
    await session.execute(upsert, list(rows))


async def backdate(session: AsyncSession, changes: Sequence[tuple[int, date, Totals]]) -> None:
    """Changes (balance id, day, delta; a balance's in ascending day order) dated before their
    balance's latest daily row: that day's row and every later one move. Done in Python
    because decimals are never added in SQL on SQLite; the daily rows read in one statement
    per ``_CHUNK`` balances, not two a change (a batch of trades dated before its balances'
    latest day backdates dozens)."""
    if not changes:
        return
    ids = sorted({balance_id for balance_id, _, _ in changes})
    since = min(day for _, day, _ in changes)
    # Every daily row of these balances from ``since`` on, by balance, in date order.
    days: dict[int, list[LedgerBalanceDay]] = {balance_id: [] for balance_id in ids}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.scalars(
            select(LedgerBalanceDay)
            .where(
                LedgerBalanceDay.balance_id.in_(ids[start : start + _CHUNK]),
                LedgerBalanceDay.as_of_date >= since,
            )
            .order_by(LedgerBalanceDay.balance_id, LedgerBalanceDay.as_of_date)
        )
        for row in rows:
            days[row.balance_id].append(row)
    for balance_id, day, delta in changes:
        known = days[balance_id]
        later = [row for row in known if row.as_of_date >= day]
        if not later or later[0].as_of_date != day:
            earlier = [row for row in known if row.as_of_date < day]
            previous = earlier[-1] if earlier else await _day_before(session, balance_id, day)
            start_totals = _totals(previous) if previous is not None else Totals()
            added = LedgerBalanceDay(
                balance_id=balance_id, as_of_date=day, **(start_totals + delta).as_columns()
            )
            session.add(added)
            known.insert(len(earlier), added)
        for row in later:
            moved = _totals(row) + delta
            row.posted, row.pending = moved.posted, moved.pending
            row.cost, row.realized_pnl = moved.cost, moved.realized_pnl
    await session.flush()


_DAY_COLUMNS = (
    LedgerBalanceDay.balance_id,
    LedgerBalanceDay.as_of_date,
    LedgerBalanceDay.posted,
    LedgerBalanceDay.pending,
    LedgerBalanceDay.cost,
    LedgerBalanceDay.realized_pnl,
)
_DAYS_SINCE = (
    select(*_DAY_COLUMNS)
    .where(
        LedgerBalanceDay.balance_id == any_(bindparam("ids", type_=ARRAY(Integer))),
        LedgerBalanceDay.as_of_date >= bindparam("since", type_=Date()),
    )
    .order_by(LedgerBalanceDay.balance_id, LedgerBalanceDay.as_of_date)
)
_DAY_BEFORE = (
    select(*_DAY_COLUMNS)
    .where(
        LedgerBalanceDay.balance_id == bindparam("balance_id", type_=Integer()),
        LedgerBalanceDay.as_of_date < bindparam("day", type_=Date()),
    )
    .order_by(LedgerBalanceDay.as_of_date.desc())
    .limit(1)
)


async def backdated_days(
    session: AsyncSession, changes: Sequence[tuple[int, date, Totals]]
) -> list[dict[str, Any]]:
    """``backdate`` on PostgreSQL, but the daily rows it moves or adds returned (balance id,
    day, totals) for the caller to write with the day's others (``update_heads_and_days``):
    read as values, no ORM object made, flushed or compared (a capture group backdates on
    every group when its trades are dated before their balances' latest day)."""
    if not changes:
        return []
    ids = sorted({balance_id for balance_id, _, _ in changes})
    since = min(day for _, day, _ in changes)
    # Per balance, [day, totals] of each daily row from ``since`` on, in date order.
    days: dict[int, list[list[Any]]] = {balance_id: [] for balance_id in ids}
    for row in await driver.fetch(session, _DAYS_SINCE, {"ids": ids, "since": since}):
        days[row[0]].append([row[1], Totals(*row[2:])])
    written: dict[tuple[int, date], Totals] = {}
    for balance_id, day, delta in changes:
        known = days[balance_id]
        at = next((n for n, (known_day, _) in enumerate(known) if known_day >= day), len(known))
        if at == len(known) or known[at][0] != day:
            if at:
                start = known[at - 1][1]
            else:
                before = await driver.fetch(
                    session, _DAY_BEFORE, {"balance_id": balance_id, "day": day}
                )
                start = Totals(*before[0][2:]) if before else Totals()
            known.insert(at, [day, start])
        for entry in known[at:]:
            entry[1] = entry[1] + delta
            written[(balance_id, entry[0])] = entry[1]
    return [
        {"balance_id": balance_id, "as_of_date": day, **totals.as_columns()}
        for (balance_id, day), totals in written.items()
    ]


async def _day_before(session: AsyncSession, balance_id: int, day: date) -> Any:
    """A balance's latest daily row before ``day``, if any."""
    return await session.scalar(
        select(LedgerBalanceDay)
        .where(LedgerBalanceDay.balance_id == balance_id, LedgerBalanceDay.as_of_date < day)
        .order_by(LedgerBalanceDay.as_of_date.desc())
        .limit(1)
    )


def _posted(keep: Callable[[Any], Any]) -> Any:
    return keep(select(LedgerBalance.ledger_account, LedgerBalance.asset, LedgerBalance.posted))


async def posted_of(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Any]:
    """The posted totals of the balances of ``keys`` that exist (every stripe), without
    locking."""
    found: dict[Key, Any] = {}
    for start in range(0, len(keys), _CHUNK):
        for account, asset, posted in await _execute_for_keys(
            session, _posted, keys[start : start + _CHUNK]
        ):
            key = (account, asset)
            found[key] = posted if key not in found else found[key] + posted
    return found


# Stripes ---------------------------------------------------------------------------------------


def _free_stripes(_: Callable[[Any], Any]) -> Any:
    """For each key, its lowest stripe no transaction holds, locked (PostgreSQL only: it joins
    the unnested keys itself)."""
    stripe = aliased(LedgerBalance)
    wanted = _unnested()
    free = (
        select(*(getattr(stripe, column.key) for column in _COLUMNS))
        .where(stripe.ledger_account == wanted.c.account, stripe.asset == wanted.c.asset)
        .order_by(stripe.stripe)
        .limit(1)
        .with_for_update(skip_locked=True)
        .lateral("free")
    )
    return select(free).select_from(wanted).join(free, true())


async def claim_stripes(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Head]:
    """Lock, for each of ``keys``, one of its stripes that no transaction holds (the lowest),
    skipping those that are held: never waits (PostgreSQL). Keys whose every stripe is held, or
    that have none, are left out."""
    rows = await _execute_for_keys(session, _free_stripes, keys)
    return {(row.ledger_account, row.asset): _head(row) for row in rows}


def _stripe_rows(keys: Sequence[Key], numbers: Sequence[int], *, now: datetime) -> list[Any]:
    empty = Totals().as_columns()
    return [
        {
            "ledger_account": account,
            "asset": asset,
            "stripe": number,
            **empty,
            "last_date": None,
            "updated_at": now,
        }
        for (account, asset), number in zip(keys, numbers, strict=True)
    ]


def _stripes_from_arrays() -> Any:
    """New stripes from arrays of accounts, assets and stripe numbers (PostgreSQL): one
    statement, built and compiled once, whatever the number of keys (a multi-row VALUES is a new
    statement, compiled anew with nine parameters a row, for every call)."""
    table = table_of(LedgerBalance)
    new = (
        func.unnest(
            bindparam("accounts", type_=ARRAY(String)),
            bindparam("assets", type_=ARRAY(String)),
            bindparam("stripes", type_=ARRAY(Integer)),
        )
        .table_valued("account", "asset", "stripe")
        .render_derived(name="new")
    )
    zero = bindparam("zero", ZERO, type_=ExactDecimal())
    rows = select(
        new.c.account,
        new.c.asset,
        new.c.stripe,
        *(zero for _ in Totals().as_columns()),
        null(),
        bindparam("now", type_=UTCDateTime()),
    )
    columns = ["ledger_account", "asset", "stripe", *Totals().as_columns(), "last_date"]
    return (
        postgresql_insert(table)
        .from_select([*columns, "updated_at"], rows)
        .on_conflict_do_nothing(index_elements=["ledger_account", "asset", "stripe"])
        .returning(*(table.c[column.key] for column in _COLUMNS))
    )


_STRIPES_FROM_ARRAYS = _stripes_from_arrays()


async def _insert_stripes(
    session: AsyncSession, keys: Sequence[Key], numbers: Sequence[int], *, now: datetime
) -> Sequence[Any]:
    """New stripes, leaving out those another writer inserted meanwhile: the inserted rows. On
    PostgreSQL one statement from arrays; elsewhere a multi-row INSERT per ``_CHUNK`` keys (nine
    parameters a row, under the drivers' limit of 32,767)."""
    if session.get_bind().dialect.name == "postgresql":
        parameters = {
            "accounts": [account for account, _ in keys],
            "assets": [asset for _, asset in keys],
            "stripes": list(numbers),
            "now": now,
        }
        return (await session.execute(_STRIPES_FROM_ARRAYS, parameters)).all()
    inserted: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        rows = _stripe_rows(keys[start : start + _CHUNK], numbers[start : start + _CHUNK], now=now)
        statement = (
            dialect_insert(session, LedgerBalance)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["ledger_account", "asset", "stripe"])
            .returning(*_COLUMNS)
        )
        inserted += (await session.execute(statement)).all()
    return inserted


async def open_first_stripes(
    session: AsyncSession, keys: Sequence[Key], *, now: datetime
) -> dict[Key, Head]:
    """Stripe 0 of each of ``keys`` that no writer has opened, held by this transaction; keys
    another writer opened meanwhile are left out (its commit is waited for, as for any new
    row)."""
    rows = await _insert_stripes(session, keys, [0] * len(keys), now=now)
    return {(row.ledger_account, row.asset): _head(row) for row in rows}


async def open_stripes(
    session: AsyncSession, keys: Sequence[Key], *, now: datetime
) -> dict[Key, Head]:
    """A new, empty stripe of each of ``keys``, held by this transaction (no other sees it
    before the commit). Stripe numbers are drawn at random so that two writers opening a stripe
    of the same balance at once do not collide (if they ever do, the loser draws again)."""
    opened: dict[Key, Head] = {}
    while missing := [key for key in keys if key not in opened]:
        numbers = [1 + secrets.randbelow(_MAX_STRIPE) for _ in missing]
        for row in await _insert_stripes(session, missing, numbers, now=now):
            opened[row.ledger_account, row.asset] = _head(row)
    return opened


def _as_of_rows(keep: Callable[[Any], Any]) -> Any:
    """Each stripe's daily row at ``:as_of``: the latest on or before it (one index probe per
    stripe). Stripes with no row by then are left out."""
    day = aliased(LedgerBalanceDay)
    as_of = bindparam("as_of", type_=Date)
    latest = (
        select(func.max(day.as_of_date))
        .where(day.balance_id == LedgerBalance.id, day.as_of_date <= as_of)
        .correlate(LedgerBalance)
        .scalar_subquery()
    )
    return keep(
        select(
            LedgerBalance.id,
            LedgerBalance.ledger_account,
            LedgerBalance.asset,
            LedgerBalanceDay.posted,
            LedgerBalanceDay.pending,
            LedgerBalanceDay.cost,
            LedgerBalanceDay.realized_pnl,
        ).join(
            LedgerBalanceDay,
            and_(
                LedgerBalanceDay.balance_id == LedgerBalance.id,
                LedgerBalanceDay.as_of_date == latest,
            ),
        )
    )


def _counted_by(as_of: date) -> Any:
    """Whether any stripe of the balance had a daily row by the end of ``as_of``."""
    stripe = aliased(LedgerBalance)
    day = aliased(LedgerBalanceDay)
    return (
        exists()
        .where(
            stripe.ledger_account == LedgerBalance.ledger_account,
            stripe.asset == LedgerBalance.asset,
            day.balance_id == stripe.id,
            day.as_of_date <= as_of,
        )
        .correlate(LedgerBalance)
    )


async def as_of_totals(
    session: AsyncSession, keys: Sequence[Key], as_of: date
) -> dict[Key, Totals]:
    """The totals of the balances of ``keys`` at the end of ``as_of``: their stripes' daily
    rows, read in one statement (so no writer's commit falls between two stripes) and added."""
    found: dict[Key, Totals] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for row in await _execute_for_keys(session, _as_of_rows, chunk, as_of=as_of):
            key = (row.ledger_account, row.asset)
            totals = _totals(row)
            found[key] = totals if key not in found else found[key] + totals
    return found


async def page_as_of(
    session: AsyncSession,
    *,
    kind: str,
    as_of: date,
    reference: str | None,
    asset: str | None,
    securities: bool,
    page: PageRequest,
) -> tuple[list[BalanceRow], str | None]:
    """A page of the balances of one kind of ledger account, in securities or in cash, as they
    stood at the end of ``as_of`` (paged by their stripe-0 row)."""
    statement = (
        select(LedgerBalance.id, LedgerBalance.ledger_account, LedgerBalance.asset)
        .join(LedgerAccount, LedgerAccount.code == LedgerBalance.ledger_account)
        .where(
            LedgerBalance.stripe == 0,
            LedgerAccount.kind == kind,
            func.length(LedgerBalance.asset) == (12 if securities else 3),
            _counted_by(as_of),
        )
    )
    if reference is not None:
        statement = statement.where(LedgerAccount.reference == reference)
    if asset is not None:
        statement = statement.where(LedgerBalance.asset == asset)
    rows, cursor = await fetch_row_page(session, statement, LedgerBalance.id, page)
    keys = [(row.ledger_account, row.asset) for row in rows]
    totals = await as_of_totals(session, keys, as_of) if keys else {}
    return [
        BalanceRow(row.id, row.ledger_account, row.asset, totals[key])
        for row, key in zip(rows, keys, strict=True)
    ], cursor


async def booked_after(
    session: AsyncSession, keys: Sequence[Key], *, known_at: datetime, as_of: date
) -> dict[Key, Totals]:
    """What entries booked after ``known_at`` with an effective date on or before ``as_of`` add
    to the balances of ``keys``: the part of an as-of answer that was not known then. Reads the
    postings of entries booked since (by the booking-time index), so it costs what was booked
    after the moment asked about."""
    found: dict[Key, Totals] = {}
    for start in range(0, len(keys), _CHUNK):
        statement = (
            select(
                Posting.ledger_account,
                Posting.asset,
                Posting.amount,
                Posting.cost,
                Posting.realized_pnl,
            )
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(
                JournalEntry.created_at > known_at,
                JournalEntry.value_date <= as_of,
                tuple_(Posting.ledger_account, Posting.asset).in_(keys[start : start + _CHUNK]),
            )
        )
        for row in (await session.execute(statement)).all():
            key = (row.ledger_account, row.asset)
            found[key] = found.get(key, Totals()) + Totals(
                posted=row.amount, cost=row.cost or ZERO, realized_pnl=row.realized_pnl or ZERO
            )
    return found


async def pending_changed_after(
    session: AsyncSession, keys: Sequence[Key], *, known_at: datetime, as_of: date
) -> list[Any]:
    """The pending postings on ``keys`` whose entry was opened or resolved after ``known_at``
    and counts from a day on or before ``as_of``, with what a known-at view needs to tell
    whether it counted then and counts now."""
    rows: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        statement = (
            select(
                PendingPosting.ledger_account,
                PendingPosting.asset,
                PendingPosting.amount,
                PendingEntry.status,
                PendingEntry.created_at,
                PendingEntry.resolved_at,
                PendingEntry.resolved_on,
            )
            .join(PendingEntry, PendingEntry.id == PendingPosting.pending_id)
            .where(
                (PendingEntry.created_at > known_at) | (PendingEntry.resolved_at > known_at),
                PendingEntry.opened_on <= as_of,
                tuple_(PendingPosting.ledger_account, PendingPosting.asset).in_(
                    keys[start : start + _CHUNK]
                ),
            )
        )
        rows.extend((await session.execute(statement)).all())
    return rows


# Folding stripes -------------------------------------------------------------------------------


async def lock_spare_stripes(session: AsyncSession, *, limit: int) -> list[Any]:
    """Up to ``limit`` stripes other than 0 that no transaction holds, locked, in key order."""
    statement = (
        select(*_COLUMNS)
        .where(LedgerBalance.stripe != 0)
        .order_by(LedgerBalance.ledger_account, LedgerBalance.asset, LedgerBalance.stripe)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(statement)).all())


async def lock_free_heads(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Head]:
    """``lock_heads`` of the stripe-0 rows no transaction holds; the others are left out."""
    rows = await _execute_for_keys(session, _stripe_zero_free, keys)
    return {(row.ledger_account, row.asset): _head(row) for row in rows}


async def days_of(
    session: AsyncSession, balance_ids: Sequence[int]
) -> dict[int, dict[date, Totals]]:
    """The daily rows of these stripes, by stripe."""
    found: dict[int, dict[date, Totals]] = {balance_id: {} for balance_id in balance_ids}
    statement = select(LedgerBalanceDay).where(LedgerBalanceDay.balance_id.in_(balance_ids))
    for row in (await session.scalars(statement)).all():
        found[row.balance_id][row.as_of_date] = _totals(row)
    return found


async def delete_stripes(session: AsyncSession, balance_ids: Sequence[int]) -> None:
    await session.execute(
        delete(LedgerBalanceDay).where(LedgerBalanceDay.balance_id.in_(balance_ids))
    )
    await session.execute(delete(LedgerBalance).where(LedgerBalance.id.in_(balance_ids)))
