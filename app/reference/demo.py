"""Loading the demo reference data through the service layer (skipping what exists already)."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.reference import demo_data, service
from app.reference.models import Market
from app.reference.schemas import (
    AccountIn,
    BookIn,
    CounterpartyIn,
    InstrumentIn,
    MarketIn,
    MatchingToleranceIn,
    PriceIn,
    SsiIn,
)


async def load_demo_reference(session: AsyncSession, *, actor: Actor, now: datetime) -> bool:
    """Load markets, instruments, counterparties, books, accounts, SSIs, prices and tolerances.

    Returns False (and loads nothing) when the demo markets are there already.
    """
    if await session.scalar(select(Market.mic).where(Market.mic == "XNYS")) is not None:
        return False
    steps: list[tuple[type[BaseModel], list[dict[str, object]], object]] = [
        (MarketIn, demo_data.MARKETS, service.create_market),
        (InstrumentIn, demo_data.INSTRUMENTS, service.create_instrument),
        (CounterpartyIn, demo_data.COUNTERPARTIES, service.create_counterparty),
        (BookIn, demo_data.BOOKS, service.create_book),
        (AccountIn, demo_data.ACCOUNTS, service.create_account),
        (SsiIn, demo_data.SSIS, service.create_ssi),
        (PriceIn, demo_data.PRICES, service.create_price),
        (MatchingToleranceIn, demo_data.MATCHING_TOLERANCES, service.create_matching_tolerance),
    ]
    for schema, rows, create in steps:
        for row in rows:
            await create(session, data=schema.model_validate(row), actor=actor, now=now)  # type: ignore[operator]
        await session.flush()
    return True
