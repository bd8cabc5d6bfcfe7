"""app.core.driver: statements sent to asyncpg itself, in the session's transaction (PostgreSQL):
rows inserted from arrays read back as written, what an INSERT refuses refused, errors and
statements seen as SQLAlchemy's own."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, event, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import driver
from app.core.types import ExactDecimal, UTCDateTime
from tests.conftest import Database

PROBE = Table(
    "driver_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("label", String(40)),
    Column("amount", ExactDecimal()),
    Column("at", UTCDateTime()),
    Column("day", Date),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
KEYS = ("id", "label", "amount", "at", "day")
CET = timezone(timedelta(hours=1))
SHARED = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ROWS = [
    (1, 'comma, "quote" {brace} \\back', Decimal("1.50"), SHARED, date(2026, 11, 24)),
    (2, "NULL", Decimal("-0.000001"), SHARED, date(2026, 1, 1)),
    (3, "", Decimal("123456789012.1234567890"), datetime(2026, 11, 25, 16, 0, 0, 7, CET), None),
    (4, None, None, None, date(2026, 12, 31)),
    (5, "ünïcødé €", Decimal("0"), datetime(2026, 11, 25, 14, 59, 59, 999999, UTC), None),
]


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    if db.backend != "postgres":
        pytest.skip("the driver is asyncpg's: PostgreSQL only")
    async with db.sessionmaker() as session:
        await session.run_sync(lambda sync: PROBE.create(sync.connection()))
        yield session
        await session.rollback()


def columns(rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    return {key: [row[n] for row in rows] for n, key in enumerate(KEYS)}


async def insert(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
    dialect = session.get_bind().dialect
    statement = driver.insert_from_arrays(PROBE, KEYS)
    await driver.fetch(session, statement, driver.arrays_of(dialect, PROBE, columns(rows)))


async def test_rows_inserted_from_arrays_read_back_as_written(session: AsyncSession) -> None:
    await insert(session, ROWS)

    found = (await session.execute(select(PROBE).order_by(PROBE.c.id))).all()
    assert [tuple(row) for row in found] == ROWS
    # Exact decimals keep their scale; times come back in UTC, to the microsecond.
    assert [str(row.amount) for row in found] == [
        "1.50",
        "-0.000001",
        "123456789012.1234567890",
        "None",
        "0",
    ]
    assert found[2].at == datetime(2026, 11, 25, 15, 0, 0, 7, UTC)
    assert found[2].at.tzinfo == UTC


async def test_rows_are_inserted_in_the_order_given(session: AsyncSession) -> None:
    await insert(session, list(reversed(ROWS)))

    statement = select(PROBE.c.id).order_by(PROBE.c.id)
    assert (await session.scalars(statement)).all() == [1, 2, 3, 4, 5]
    physical = await session.scalars(select(PROBE.c.id))  # a fresh temporary table: heap order
    assert physical.all() == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("amount", "at", "refusal"),
    [
        (Decimal("NaN"), SHARED, "NaN"),
        (Decimal("1"), datetime(2026, 11, 25, 15, 0), "timezone-aware"),
        (1.5, SHARED, "takes Decimal"),
    ],
)
async def test_what_an_insert_refuses_is_refused(
    session: AsyncSession, amount: Any, at: datetime, refusal: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=refusal):
        await insert(session, [(1, "x", amount, at, None)])


async def test_an_error_is_raised_as_sqlalchemy_raises_it(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match="driver_probe_pkey"):
        await insert(session, [ROWS[0], ROWS[0]])


async def test_statements_are_seen_by_the_engines_listeners(session: AsyncSession) -> None:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()[:3]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        await insert(session, ROWS[:1])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen == ["INSERT INTO driver_probe"]


def _array_text(key: str, values: list[Any]) -> Any:
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    return driver.arrays_of(dialect, PROBE, {key: values})[f"n_{key}"]


@pytest.mark.parametrize(
    ("key", "values", "text"),
    [
        ("amount", [Decimal("1.50"), Decimal("-0"), Decimal("1E+3")], "{1.50,-0,1E+3}"),
        ("amount", [None, Decimal("0.000001"), None], "{NULL,0.000001,NULL}"),
        ("amount", [None], "{NULL}"),
        ("amount", [], "{}"),
        ("day", [date(2026, 1, 2), None], "{2026-01-02,NULL}"),
        # A time where a day goes is written as the time, as its bind processor leaves it.
        ("day", [datetime(2026, 1, 2, 3, 4, tzinfo=UTC)], "{2026-01-02T03:04:00+00:00}"),
    ],
)
def test_a_columns_array_is_the_text_of_its_values(key: str, values: list[Any], text: str) -> None:
    assert _array_text(key, values) == text


@pytest.mark.parametrize(
    ("values", "refusal"),
    [
        ([Decimal("1"), Decimal("Infinity")], "NaN and infinity"),
        ([None, Decimal("sNaN")], "NaN and infinity"),
        ([Decimal("1"), 1], "takes Decimal"),
        ([1.5], "takes Decimal"),
    ],
)
def test_a_decimal_column_refuses_what_its_type_refuses(values: list[Any], refusal: str) -> None:
    with pytest.raises((ValueError, TypeError), match=refusal):
        _array_text("amount", values)
