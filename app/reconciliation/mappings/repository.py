"""Every query and lock of statement mappings."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.mappings.models import StatementMapping


async def get(session: AsyncSession, name: str, *, lock: bool = False) -> StatementMapping | None:
    return await session.get(StatementMapping, name, with_for_update=lock or None)


async def add(session: AsyncSession, mapping: StatementMapping) -> None:
    session.add(mapping)
    await session.flush()


async def page(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[StatementMapping], str | None]:
    return await fetch_page(session, select(StatementMapping), StatementMapping.name, page)
