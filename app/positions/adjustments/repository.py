"""Every query and lock of adjustments."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.positions.adjustments.models import Adjustment


def add(session: AsyncSession, adjustment: Adjustment) -> None:
    session.add(adjustment)


async def get(session: AsyncSession, adjustment_id: str) -> Adjustment:
    adjustment = await session.get(Adjustment, adjustment_id)
    if adjustment is None:
        raise NotFound(f"No adjustment '{adjustment_id}'.")
    return adjustment


async def by_ids(session: AsyncSession, adjustment_ids: Sequence[str]) -> dict[str, Adjustment]:
    """The adjustments of these ids that exist, by id: one statement per 500."""
    wanted = sorted(set(adjustment_ids))
    found: dict[str, Adjustment] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.scalars(
            select(Adjustment).where(Adjustment.id.in_(wanted[start : start + 500]))
        )
        found |= {row.id: row for row in rows.all()}
    return found


async def get_for_update(session: AsyncSession, adjustment_id: str) -> Adjustment:
    """The adjustment, locked until the transaction ends and read afresh under the lock."""
    await session.flush()
    adjustment = await session.get(
        Adjustment, adjustment_id, with_for_update=True, populate_existing=True
    )
    if adjustment is None:
        raise NotFound(f"No adjustment '{adjustment_id}'.")
    return adjustment


async def page_of_adjustments(
    session: AsyncSession, *, page: PageRequest, status: str | None
) -> tuple[Sequence[Adjustment], str | None]:
    statement = select(Adjustment)
    if status is not None:
        statement = statement.where(Adjustment.status == status)
    return await fetch_page(session, statement, Adjustment.id, page)


async def id_with_reason(session: AsyncSession, reason: str) -> str | None:
    """An adjustment proposed with this reason, if there is one."""
    return await session.scalar(select(Adjustment.id).where(Adjustment.reason == reason))
