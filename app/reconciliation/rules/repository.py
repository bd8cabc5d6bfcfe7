"""Every query and lock of reconciliation rules."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.rules.models import ReconciliationRule


async def get(session: AsyncSession, name: str, *, lock: bool = False) -> ReconciliationRule | None:
    return await session.get(ReconciliationRule, name, with_for_update=lock or None)


async def page(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[ReconciliationRule], str | None]:
    return await fetch_page(session, select(ReconciliationRule), ReconciliationRule.name, page)


async def enabled_in_priority_order(session: AsyncSession) -> Sequence[ReconciliationRule]:
    statement = (
        select(ReconciliationRule)
        .where(ReconciliationRule.enabled.is_(True))
        .order_by(ReconciliationRule.priority, ReconciliationRule.name)
    )
    return (await session.scalars(statement)).all()
