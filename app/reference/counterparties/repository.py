"""Every query and lock of counterparties."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.counterparties.models import Counterparty


async def get(session: AsyncSession, lei: str, *, lock: bool = False) -> Counterparty | None:
    return await session.get(Counterparty, lei, with_for_update=lock or None)


async def page(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[Counterparty], str | None]:
    return await fetch_page(session, select(Counterparty), Counterparty.lei, page)


async def existing_leis(session: AsyncSession, leis: list[str]) -> set[str]:
    statement = select(Counterparty.lei).where(Counterparty.lei.in_(leis))
    return set((await session.scalars(statement)).all())


async def every_counterparty(session: AsyncSession) -> Sequence[Counterparty]:
    return (await session.scalars(select(Counterparty))).all()
