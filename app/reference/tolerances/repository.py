"""Every query and lock of matching tolerances."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.tolerances.models import MatchingTolerance


async def get(
    session: AsyncSession, currency: str, *, lock: bool = False
) -> MatchingTolerance | None:
    return await session.get(MatchingTolerance, currency, with_for_update=lock or None)


async def page(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[MatchingTolerance], str | None]:
    return await fetch_page(session, select(MatchingTolerance), MatchingTolerance.currency, page)
