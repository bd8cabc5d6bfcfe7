"""Fixtures for the trade-capture tests: book a trade over HTTP, move it along its lifecycle."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import SYSTEM_ACTOR
from app.trades.capture.lifecycle import transition_trade
from app.trades.capture.states import TradeEvent
from tests.factories import trade_payload
from tests.support import Api, FrozenClock

BookTrade = Callable[..., Awaitable[dict[str, Any]]]
AdvanceTrade = Callable[..., Awaitable[None]]


@pytest.fixture
def book_trade(api: Api, reference: None) -> BookTrade:
    """``await book_trade(**overrides)``: POST a valid trade as the trader, return the 201 body."""

    async def book(**overrides: Any) -> dict[str, Any]:
        response = await api.post("/trades", json=trade_payload(**overrides), role="trader")
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return book


@pytest.fixture
def advance_trade(session: AsyncSession, clock: FrozenClock) -> AdvanceTrade:
    """``await advance_trade(trade_id, TradeEvent.CONFIRMATION_MATCHED, ...)``: apply lifecycle
    events as the system would (confirmation matching, clearing), one committed transaction."""

    async def advance(trade_id: str, *events: TradeEvent) -> None:
        for event in events:
            await transition_trade(
                session, trade_id=trade_id, event=event, actor=SYSTEM_ACTOR, now=clock()
            )
        await session.commit()

    return advance
