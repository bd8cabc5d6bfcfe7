"""Loading the demo reference data through the service layer (skipping what exists already)."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.reference import demo_data
from app.reference.accounts.schemas import AccountIn
from app.reference.accounts.service import create_account
from app.reference.books.schemas import BookIn
from app.reference.books.service import create_book
from app.reference.counterparties.schemas import CounterpartyIn
from app.reference.counterparties.service import create_counterparty
from app.reference.instruments.schemas import InstrumentIn
from app.reference.instruments.service import create_instrument
from app.reference.markets.schemas import MarketIn
from app.reference.markets.service import create_market, market_exists
from app.reference.prices.schemas import PriceIn
from app.reference.prices.service import create_price
from app.reference.ssis.schemas import SsiIn
from app.reference.ssis.service import create_ssi
from app.reference.tolerances.schemas import MatchingToleranceIn
from app.reference.tolerances.service import create_matching_tolerance


async def load_demo_reference(session: AsyncSession, *, actor: Actor, now: datetime) -> bool:
    """Load markets, instruments, counterparties, books, accounts, SSIs, prices and tolerances.

    Returns False (and loads nothing) when the demo markets are there already.
    """
    if await market_exists(session, mic="XNYS"):
        return False
    steps: list[tuple[type[BaseModel], list[dict[str, object]], object]] = [
        (MarketIn, demo_data.MARKETS, create_market),
        (InstrumentIn, demo_data.INSTRUMENTS, create_instrument),
        (CounterpartyIn, demo_data.COUNTERPARTIES, create_counterparty),
        (BookIn, demo_data.BOOKS, create_book),
        (AccountIn, demo_data.ACCOUNTS, create_account),
        (SsiIn, demo_data.SSIS, create_ssi),
        (PriceIn, demo_data.PRICES, create_price),
        (MatchingToleranceIn, demo_data.MATCHING_TOLERANCES, create_matching_tolerance),
    ]
    for schema, rows, create in steps:
        for row in rows:
            await create(session, data=schema.model_validate(row), actor=actor, now=now)  # type: ignore[operator]
        await session.flush()
    return True
