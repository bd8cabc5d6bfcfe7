"""Every query and lock of markets and their closed days."""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.markets.models import Market, MarketClosedDay


async def get(session: AsyncSession, mic: str, *, lock: bool = False) -> Market | None:
    return await session.get(Market, mic, with_for_update=lock or None)


async def page(session: AsyncSession, page: PageRequest) -> tuple[Sequence[Market], str | None]:
    return await fetch_page(session, select(Market), Market.mic, page)


async def by_mic(session: AsyncSession, mics: Iterable[str]) -> Sequence[Market]:
    return (await session.scalars(select(Market).where(Market.mic.in_(list(set(mics)))))).all()


async def get_closed_day(session: AsyncSession, mic: str, day: date) -> MarketClosedDay | None:
    return await session.get(MarketClosedDay, (mic, day))


async def closed_days_of_market(session: AsyncSession, mic: str) -> Sequence[MarketClosedDay]:
    statement = (
        select(MarketClosedDay).where(MarketClosedDay.mic == mic).order_by(MarketClosedDay.day)
    )
    return (await session.scalars(statement)).all()


async def closed_days_by_mic(session: AsyncSession, mics: Iterable[str]) -> dict[str, list[date]]:
    statement = select(MarketClosedDay.mic, MarketClosedDay.day).where(
        MarketClosedDay.mic.in_(list(mics))
    )
    closed: dict[str, list[date]] = {}
    for mic, day in (await session.execute(statement)).all():
        closed.setdefault(mic, []).append(day)
    return closed
