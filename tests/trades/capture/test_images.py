"""A trade's audit image read with Core (PostgreSQL writing decimals and times as text itself)
is its ORM row snapshot, value for value."""

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.snapshots import row_snapshot
from app.trades.capture.images import Images, image
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
