"""Every query of closing prices."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
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


IN_CHUNK = 500


async def latest_on_or_before(
    session: AsyncSession, isins: Sequence[str], on: date
) -> dict[str, tuple[date, Decimal]]:
    """The last closing price of each ISIN dated on or before ``on``: ``{isin: (date, price)}``
    (an ISIN without one is absent)."""
    found: dict[str, tuple[date, Decimal]] = {}
    for start in range(0, len(isins), IN_CHUNK):
        latest = (
            select(Price.isin, func.max(Price.date).label("day"))
            .where(Price.isin.in_(isins[start : start + IN_CHUNK]), Price.date <= on)
            .group_by(Price.isin)
            .subquery()
        )
        statement = select(Price.isin, Price.date, Price.price).join(
            latest, (Price.isin == latest.c.isin) & (Price.date == latest.c.day)
        )
        for isin, day, price in (await session.execute(statement)).all():
            found[isin] = (day, price)
    return found


async def prices_on(session: AsyncSession, *, isins: Sequence[str], on: date) -> list[Price]:
    """The closing prices of these ISINs on one date (those recorded)."""
    if not isins:
        return []
    statement = select(Price).where(Price.date == on, Price.isin.in_(sorted(set(isins))))
    return list((await session.scalars(statement)).all())
