"""Every query of buy-in extension periods."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.buy_in_periods.models import BuyInExtensionPeriod


async def effective_from(
    session: AsyncSession, *, csdr_class: str, effective_from: date
) -> BuyInExtensionPeriod | None:
    """The period of a class that takes effect on a date, if there is one."""
    return await session.scalar(
        select(BuyInExtensionPeriod).where(
            BuyInExtensionPeriod.csdr_class == csdr_class,
            BuyInExtensionPeriod.effective_from == effective_from,
        )
    )


async def every(session: AsyncSession) -> Sequence[BuyInExtensionPeriod]:
    """All of them: a handful per class at most."""
    return (await session.scalars(select(BuyInExtensionPeriod))).all()


async def page(
    session: AsyncSession, page: PageRequest, *, csdr_class: str | None
) -> tuple[Sequence[BuyInExtensionPeriod], str | None]:
    statement = select(BuyInExtensionPeriod)
    if csdr_class:
        statement = statement.where(BuyInExtensionPeriod.csdr_class == csdr_class)
    return await fetch_page(session, statement, BuyInExtensionPeriod.id, page)
