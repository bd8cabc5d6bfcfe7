"""ExactDecimal and UTCDateTime through a real table, on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import ExactDecimal, UTCDateTime
from app.reference.rates.models import PenaltyRate
from tests.conftest import Database

SCRATCH = MetaData()
EXACT = Table(
    "core_test_exact_values",
    SCRATCH,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("amount", ExactDecimal(), nullable=True),
    Column("at", UTCDateTime(), nullable=True),
)

AMOUNTS = [
    "123456789012345678.123456789",
    "-123456789012345678.123456789",
    "1234.50",
    "1234.500000000000",
    "-0.01",
    "0",
    "0.00",
    "0.000000000001",
    "100",
    "9999999999999999999999999999",
    "-9999999999999999999999999999.999999999999",
]


@pytest.fixture
async def scratch(db: Database) -> AsyncIterator[Table]:
    async with db.engine.begin() as connection:
        await connection.run_sync(SCRATCH.drop_all)
        await connection.run_sync(SCRATCH.create_all)
    yield EXACT
    async with db.engine.begin() as connection:
        await connection.run_sync(SCRATCH.drop_all)


async def _insert(db: Database, rows: list[dict[str, Any]]) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(EXACT.insert(), rows)


async def _amounts(db: Database) -> list[Decimal | None]:
    async with db.engine.connect() as connection:
        result = await connection.execute(select(EXACT.c.amount).order_by(EXACT.c.id))
        return list(result.scalars())


async def test_decimals_come_back_exactly_with_their_scale(db: Database, scratch: Table) -> None:
    await _insert(db, [{"id": i, "amount": Decimal(v)} for i, v in enumerate(AMOUNTS)])
    back = await _amounts(db)
    assert all(isinstance(value, Decimal) for value in back)
    assert [str(value) for value in back] == [str(Decimal(v)) for v in AMOUNTS]
    assert [value.as_tuple() for value in back if value is not None] == [
        Decimal(v).as_tuple() for v in AMOUNTS
    ]


async def test_the_database_holds_the_digits_not_a_float(db: Database, scratch: Table) -> None:
    await _insert(db, [{"id": 1, "amount": Decimal("123456789012345678.123456789")}])
    async with db.engine.connect() as connection:
        stored = (
            await connection.execute(
                text("SELECT CAST(amount AS TEXT) FROM core_test_exact_values")
            )
        ).scalar_one()
    assert stored == "123456789012345678.123456789"


async def test_point_one_plus_point_two_is_point_three(db: Database, scratch: Table) -> None:
    await _insert(
        db,
        [
            {"id": 1, "amount": Decimal("0.1") + Decimal("0.2")},
            {"id": 2, "amount": Decimal("0.1")},
            {"id": 3, "amount": Decimal("0.2")},
        ],
    )
    total, point_one, point_two = await _amounts(db)
    assert total == Decimal("0.3")
    assert str(total) == "0.3"
    assert point_one is not None
    assert point_two is not None
    assert point_one + point_two == Decimal("0.3")


async def test_null_stays_null(db: Database, scratch: Table) -> None:
    await _insert(db, [{"id": 1, "amount": None, "at": None}])
    async with db.engine.connect() as connection:
        row = (await connection.execute(select(EXACT.c.amount, EXACT.c.at))).one()
    assert tuple(row) == (None, None)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1.5, TypeError, "ExactDecimal takes Decimal, not float"),
        (0.3, TypeError, "ExactDecimal takes Decimal, not float"),
        (2, TypeError, "ExactDecimal takes Decimal, not int"),
        ("1.50", TypeError, "ExactDecimal takes Decimal, not str"),
        (Decimal("NaN"), ValueError, "ExactDecimal refuses NaN and infinity"),
        (Decimal("Infinity"), ValueError, "ExactDecimal refuses NaN and infinity"),
        (Decimal("-Infinity"), ValueError, "ExactDecimal refuses NaN and infinity"),
    ],
)
async def test_exact_decimal_refuses_floats_and_non_finite_values(
    db: Database, scratch: Table, value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(StatementError) as caught:
        await _insert(db, [{"id": 1, "amount": value}])
    assert isinstance(caught.value.orig, error)
    assert str(caught.value.orig) == message
    assert await _amounts(db) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (datetime(2026, 11, 25, 15, 0, tzinfo=UTC), datetime(2026, 11, 25, 15, 0, tzinfo=UTC)),
        (
            datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 11, 25, 15, 0, 0, 123456, tzinfo=UTC),
        ),
        (
            datetime(2026, 11, 26, 1, 30, tzinfo=timezone(timedelta(hours=10, minutes=30))),
            datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        ),
    ],
)
async def test_utc_datetime_returns_aware_utc(
    db: Database, scratch: Table, given: datetime, expected: datetime
) -> None:
    await _insert(db, [{"id": 1, "at": given}])
    async with db.engine.connect() as connection:
        back = (await connection.execute(select(EXACT.c.at))).scalar_one()
    assert back == expected
    assert back.utcoffset() == timedelta(0)
    assert back.tzinfo is UTC
    assert back.isoformat() == expected.isoformat()


async def test_utc_datetime_refuses_naive_datetimes(db: Database, scratch: Table) -> None:
    with pytest.raises(StatementError) as caught:
        await _insert(db, [{"id": 1, "at": datetime(2026, 11, 25, 15, 0)}])
    assert isinstance(caught.value.orig, ValueError)
    assert str(caught.value.orig) == "UTCDateTime takes timezone-aware datetimes only"


async def test_utc_datetime_refuses_a_date(db: Database, scratch: Table) -> None:
    with pytest.raises(StatementError) as caught:
        await _insert(db, [{"id": 1, "at": date(2026, 11, 25)}])
    assert isinstance(caught.value.orig, ValueError)


async def test_utc_datetime_orders_by_instant_across_offsets(db: Database, scratch: Table) -> None:
    new_york = timezone(timedelta(hours=-5))
    await _insert(
        db,
        [
            {"id": 1, "at": datetime(2026, 11, 25, 11, 0, tzinfo=new_york)},  # 16:00Z
            {"id": 2, "at": datetime(2026, 11, 25, 15, 30, tzinfo=UTC)},
            {"id": 3, "at": datetime(2026, 11, 25, 9, 0, tzinfo=new_york)},  # 14:00Z
        ],
    )
    async with db.engine.connect() as connection:
        ids = (await connection.execute(select(EXACT.c.id).order_by(EXACT.c.at))).scalars().all()
    assert list(ids) == [3, 2, 1]


async def test_an_orm_model_column_round_trips_exact_values(
    db: Database, session: AsyncSession
) -> None:
    """The penalty_rates table, built by the migration, keeps 18-digit values exact."""
    values = {
        "core_big": Decimal("123456789012345678.123456789"),
        "core_scale": Decimal("1234.50"),
        "core_negative": Decimal("-0.000000000001"),
        "core_sum": Decimal("0.1") + Decimal("0.2"),
    }
    created = datetime(2026, 11, 25, 15, 0, 0, 1, tzinfo=UTC)
    for offset, (key, rate) in enumerate(values.items()):
        session.add(
            PenaltyRate(
                id=key,
                csdr_class=key,
                rate=rate,
                effective_from=date(2026, 1, 1) + timedelta(days=offset),
                created_at=created,
            )
        )
    await session.commit()

    async with db.sessionmaker() as fresh:
        rows = (
            await fresh.scalars(select(PenaltyRate).where(PenaltyRate.id.in_(list(values))))
        ).all()
        back = {row.id: row.rate for row in rows}
        stamps = {row.created_at for row in rows}
    assert {key: str(rate) for key, rate in back.items()} == {
        "core_big": "123456789012345678.123456789",
        "core_scale": "1234.50",
        "core_negative": "-1E-12",
        "core_sum": "0.3",
    }
    assert back == values
    assert stamps == {created}


async def test_seeded_penalty_rates_keep_their_scale(session: AsyncSession) -> None:
    rows = (await session.scalars(select(PenaltyRate).order_by(PenaltyRate.id))).all()
    assert {row.csdr_class: str(row.rate) for row in rows} == {
        "cash:EUR": "0.0240",
        "illiquid_share": "0.00005",
        "liquid_share": "0.0001",
        "other": "0.00005",
        "other_debt": "0.000020",
        "sme_debt": "0.000015",
        "sme_share": "0.000025",
        "sovereign_debt": "0.000010",
    }
    assert {row.created_at for row in rows} == {datetime(2026, 11, 25, tzinfo=UTC)}
