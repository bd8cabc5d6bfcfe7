"""A trade's audit image read with Core (PostgreSQL writing decimals and times as text itself)
is its ORM row snapshot, value for value."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.snapshots import jsonable, row_snapshot
from app.trades.capture.images import Images, image, new_trade_image
from app.trades.capture.models import Trade
from tests.trades.conftest import BookTrade


async def test_a_core_image_is_the_row_snapshot(
    session: AsyncSession, book_trade: BookTrade
) -> None:
    booked = [
        await book_trade(quantity="100.000", price="189.2500", trade_time="2026-11-24T14:31:05Z"),
        await book_trade(quantity="7", price="12.3400", trade_time="2026-11-24T14:31:05.000120Z"),
        await book_trade(side="sell", quantity="1E+2", commission="0", fees="0.00"),
    ]
    ids = [trade["id"] for trade in booked]
    plan = Images([attr.columns[0].label(attr.key) for attr in inspect(Trade).column_attrs]).plan(
        session
    )
    statement = select(*plan.columns).where(Trade.id.in_(ids)).order_by(Trade.id)
    images: list[dict[str, Any]] = [image(row, plan) for row in await session.execute(statement)]
    trades = (
        await session.scalars(select(Trade).where(Trade.id.in_(ids)).order_by(Trade.id))
    ).all()
    assert images == [row_snapshot(trade) for trade in trades]
    assert images[1]["trade_time"] == "2026-11-24T14:31:05.000120+00:00"


def test_a_new_trades_image_is_what_jsonable_gives() -> None:
    """Decimals as written (no exponent, no negative zero), times in UTC, each time and day
    written once per batch (``texts``) and the same for every row that has it."""
    paris = timezone(timedelta(hours=1))
    first = {
        "id": "trd_1",
        "external_id": "FO-1",
        "book": "EQ-FLOW",
        "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
        "isin": "US46625H1005",
        "side": "buy",
        "quantity": Decimal("1E+2"),
        "price": Decimal("189.2500"),
        "currency": "USD",
        "trade_date": date(2026, 11, 24),
        "trade_time": datetime(2026, 11, 24, 15, 31, 5, 120, tzinfo=paris),
        "venue": "XNYS",
        "settlement_date": date(2026, 11, 25),
        "commission": Decimal("-0.00"),
        "fees": Decimal("0.02"),
        "accrued_interest": None,
        "gross_amount": Decimal("18925.00"),
        "net_amount": Decimal("18925.02"),
        "status": "captured",
        "version": 1,
        "created_at": datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        "created_by": "key_1",
        "cancel_reason": None,
        "affirmation_overdue_at": None,
        "counterparty_of_record": None,
        "obligation_id": None,
    }
    second = {**first, "id": "trd_2", "quantity": Decimal("100"), "accrued_interest": Decimal(0)}
    texts: dict[Any, Any] = {}
    images = [new_trade_image(row, texts) for row in (first, second)]
    assert images == [jsonable(first), jsonable(second)]
    assert images[0]["quantity"] == "100"
    assert images[0]["commission"] == "0.00"
    assert images[0]["trade_time"] == "2026-11-24T14:31:05.000120+00:00"
    assert images[1]["accrued_interest"] == "0"
    assert texts == {
        date(2026, 11, 24): "2026-11-24",
        date(2026, 11, 25): "2026-11-25",
        first["trade_time"]: "2026-11-24T14:31:05.000120+00:00",
        first["created_at"]: "2026-11-25T15:00:00+00:00",
    }
