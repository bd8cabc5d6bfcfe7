"""Every query of closing prices."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.prices.models import Price


async def get(session: AsyncSession, isin: str, on: date) -> Price | None:
    return await session.get(Price, (isin, on))


async def page_on(
    session: AsyncSession, page: PageRequest, *, on: date, isin: str | None
) -> tuple[Sequence[Price], str | None]:
    """The prices of one date by ISIN (of one ISIN too: at most one row)."""
    statement = select(Price).where(Price.date == on)
    if isin is not None:
        statement = statement.where(Price.isin == isin)
    return await fetch_page(session, statement, Price.isin, page)


async def page_of(
    session: AsyncSession, page: PageRequest, *, isin: str
) -> tuple[Sequence[Price], str | None]:
    """The prices of one ISIN by date."""
    return await fetch_page(session, select(Price).where(Price.isin == isin), Price.date, page)


async def prices_on(session: AsyncSession, *, isins: Sequence[str], on: date) -> list[Price]:
    """The closing prices of these ISINs on one date (those recorded)."""
    if not isins:
        return []
    statement = select(Price).where(Price.date == on, Price.isin.in_(sorted(set(isins))))
    return list((await session.scalars(statement)).all())
