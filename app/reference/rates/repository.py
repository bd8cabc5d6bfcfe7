"""Every query of CSDR penalty rates."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.rates.models import PenaltyRate


async def get(session: AsyncSession, rate_id: str) -> PenaltyRate | None:
    return await session.get(PenaltyRate, rate_id)


async def effective_from(
    session: AsyncSession, *, csdr_class: str, effective_from: date
) -> PenaltyRate | None:
    """The rate of a class that takes effect on a date, if there is one."""
    return await session.scalar(
        select(PenaltyRate).where(
            PenaltyRate.csdr_class == csdr_class,
            PenaltyRate.effective_from == effective_from,
        )
    )


async def page(
    session: AsyncSession, page: PageRequest, *, csdr_class: str | None
) -> tuple[Sequence[PenaltyRate], str | None]:
    statement = select(PenaltyRate)
    if csdr_class:
        statement = statement.where(PenaltyRate.csdr_class == csdr_class)
    return await fetch_page(session, statement, PenaltyRate.id, page)


async def every_rate(session: AsyncSession) -> list[PenaltyRate]:
    """The whole (small) rate table, oldest first per class."""
    statement = select(PenaltyRate).order_by(PenaltyRate.csdr_class, PenaltyRate.effective_from)
    return list((await session.scalars(statement)).all())
