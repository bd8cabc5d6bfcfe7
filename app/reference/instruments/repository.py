"""Every query and lock of instruments."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.instruments.models import Instrument


async def get(session: AsyncSession, isin: str, *, lock: bool = False) -> Instrument | None:
    return await session.get(Instrument, isin, with_for_update=lock or None)


async def page(
    session: AsyncSession,
    page: PageRequest,
    *,
    mic: str | None,
    type_: str | None,
    currency: str | None,
) -> tuple[Sequence[Instrument], str | None]:
    statement = select(Instrument)
    if mic:
        statement = statement.where(Instrument.mic == mic)
    if type_:
        statement = statement.where(Instrument.type == type_)
    if currency:
        statement = statement.where(Instrument.currency == currency)
    return await fetch_page(session, statement, Instrument.isin, page)


async def by_isin(session: AsyncSession, isins: list[str]) -> Sequence[Instrument]:
    return (await session.scalars(select(Instrument).where(Instrument.isin.in_(isins)))).all()
