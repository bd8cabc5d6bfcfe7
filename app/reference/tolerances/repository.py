"""Every query and lock of matching tolerances."""

from collections.abc import Sequence
from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.tolerances.models import MatchingTolerance
from app.reference.values import MatchingToleranceRef

# Other domains get values read straight from the columns: no ORM row to build, track or expire.
_REF_COLUMNS = [getattr(MatchingTolerance, field.name) for field in fields(MatchingToleranceRef)]


async def get(
    session: AsyncSession, currency: str, *, lock: bool = False
) -> MatchingTolerance | None:
    return await session.get(MatchingTolerance, currency, with_for_update=lock or None)


async def page(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[MatchingTolerance], str | None]:
    return await fetch_page(session, select(MatchingTolerance), MatchingTolerance.currency, page)


async def ref(session: AsyncSession, currency: str) -> MatchingToleranceRef | None:
    statement = select(*_REF_COLUMNS).where(MatchingTolerance.currency == currency)
    row = (await session.execute(statement)).first()
    return None if row is None else MatchingToleranceRef(**row._mapping)
