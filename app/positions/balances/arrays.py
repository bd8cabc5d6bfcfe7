"""The running totals and daily rows of many balances written by one statement over arrays
(PostgreSQL): built and compiled once, one parameter a column whatever the number of rows. An
executemany sends, and processes in Python, every row's parameters one by one: for the
thousands of balances a batch run moves, that cost more than the writes themselves. They go
to asyncpg itself (``driver``): a capture group runs one a group. The totals, days and times go
as the text of array literals (``driver.arrays_of``): asyncpg's binary encoding of a decimal
costs several times writing it (about 1 us a value; a capture group writes some 50 a trade)."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import driver
from app.core.db import table_of
from app.core.types import UTCDateTime
from app.positions.balances.models import LedgerBalance, LedgerBalanceDay
from app.positions.balances.totals import Totals

TOTALS = tuple(Totals().as_columns())


_HEAD_KEYS = ("id", *TOTALS, "last_date", "last_trade_at")
_DAY_KEYS = ("balance_id", "as_of_date", *TOTALS)


def _unnested(name: str, table: Table, keys: Sequence[str], prefix: str = "a") -> Any:
    # Parameters named apart from the columns (an UPDATE reserves the columns' names), each
    # typed as its column (``driver.array_parameter``).
    return (
        func.unnest(*(driver.array_parameter(table.c[key], prefix) for key in keys))
        .table_valued(*keys)
        .render_derived(name=name)
    )


def _heads_statement() -> Any:
    table = table_of(LedgerBalance)
    moved = _unnested("moved", table, _HEAD_KEYS)
    return (
        update(table)
        .where(table.c.id == moved.c.id)
        .values(
            {
                **{name: moved.c[name] for name in (*TOTALS, "last_date", "last_trade_at")},
                "updated_at": bindparam("now", type_=UTCDateTime()),
            }
        )
    )


def _days_statement(prefix: str = "a") -> Any:
    table = table_of(LedgerBalanceDay)
    days = _unnested("days", table, _DAY_KEYS, prefix)
    columns = list(_DAY_KEYS)
    upsert = postgresql_insert(table).from_select(
        columns, select(*(days.c[name] for name in columns))
    )
    return upsert.on_conflict_do_update(
        index_elements=["balance_id", "as_of_date"],
        set_={name: upsert.excluded[name] for name in TOTALS},
    )


def _heads_arrays(session: AsyncSession, rows: Sequence["HeadRow"]) -> dict[str, Any]:
    dialect = session.get_bind().dialect
    return driver.arrays_of(dialect, table_of(LedgerBalance), _head_columns(rows), prefix="a")


def _days_arrays(
    session: AsyncSession, rows: Sequence[dict[str, Any]], prefix: str = "a"
) -> dict[str, Any]:
    dialect = session.get_bind().dialect
    columns = {name: [row[name] for row in rows] for name in _DAY_KEYS}
    return driver.arrays_of(dialect, table_of(LedgerBalanceDay), columns, prefix=prefix)


_HEADS = _heads_statement()
_DAYS = _days_statement()
# Both in one statement (one round trip): the UPDATE as a data-modifying CTE of the upsert.
_HEADS_AND_DAYS = _days_statement("d").add_cte(
    _heads_statement().returning(table_of(LedgerBalance).c.id).cte("moved_heads")
)


HeadRow = tuple[int, Totals, date | None, datetime | None]


async def update_heads(session: AsyncSession, rows: Sequence[HeadRow], *, now: datetime) -> None:
    """Each balance row (id, totals, last date, last trade time) to its new values."""
    await driver.fetch(session, _HEADS, {**_heads_arrays(session, rows), "now": now})


async def update_heads_and_days(
    session: AsyncSession,
    heads: Sequence[HeadRow],
    days: Sequence[dict[str, Any]],
    *,
    now: datetime,
) -> None:
    """``update_heads`` and ``upsert_days`` in one statement."""
    await driver.fetch(
        session,
        _HEADS_AND_DAYS,
        {**_heads_arrays(session, heads), "now": now, **_days_arrays(session, days, "d")},
    )


def _head_columns(rows: Sequence[HeadRow]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in _HEAD_KEYS}
    for balance_id, totals, last_date, last_trade_at in rows:
        columns["id"].append(balance_id)
        for name, value in totals.as_columns().items():
            columns[name].append(value)
        columns["last_date"].append(last_date)
        columns["last_trade_at"].append(last_trade_at)
    return columns


async def upsert_days(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """The daily rows (balance id, day, totals), replacing those of the same day (one row per
    balance and day)."""
    await driver.fetch(session, _DAYS, _days_arrays(session, rows))
