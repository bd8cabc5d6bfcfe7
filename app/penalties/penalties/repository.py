"""Every query and lock of penalties."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.penalties.penalties.models import Penalty
from app.penalties.penalties.states import PenaltyStatus

_ACTIVE = PenaltyStatus.ACTIVE.value


@dataclass(frozen=True)
class PenaltyFilter:
    day_from: date | None = None
    day_to: date | None = None
    instruction_id: str | None = None
    counterparty_lei: str | None = None
    payer: str | None = None
    status: str | None = None
    kind: str | None = None


async def get(session: AsyncSession, penalty_id: str) -> Penalty:
    penalty = await session.get(Penalty, penalty_id)
    if penalty is None:
        raise NotFound(f"No penalty '{penalty_id}'.")
    return penalty


async def get_for_update(session: AsyncSession, penalty_id: str) -> Penalty:
    penalty = await session.get(Penalty, penalty_id, with_for_update=True, populate_existing=True)
    if penalty is None:
        raise NotFound(f"No penalty '{penalty_id}'.")
    return penalty


def add_all(session: AsyncSession, penalties: Sequence[Penalty]) -> None:
    session.add_all(penalties)


async def active_between(
    session: AsyncSession, *, day_from: date, day_to: date, lock: bool = False
) -> list[Penalty]:
    """The active penalties of these days, oldest first (locked for a run's re-examination)."""
    statement = (
        select(Penalty)
        .where(Penalty.status == _ACTIVE, Penalty.day >= day_from, Penalty.day <= day_to)
        .order_by(Penalty.day, Penalty.id)
    )
    if lock:
        statement = statement.with_for_update()
    return list((await session.scalars(statement)).all())


async def active_on(session: AsyncSession, *, days: Sequence[date]) -> list[Penalty]:
    """The active penalties of these business days, by day and id."""
    statement = (
        select(Penalty)
        .where(Penalty.status == _ACTIVE, Penalty.day.in_(list(days)))
        .order_by(Penalty.day, Penalty.id)
    )
    return list((await session.scalars(statement)).all())


async def page_of(
    session: AsyncSession, page: PageRequest, wanted: PenaltyFilter
) -> tuple[Sequence[Penalty], str | None]:
    statement = select(Penalty)
    if wanted.day_from is not None:
        statement = statement.where(Penalty.day >= wanted.day_from)
    if wanted.day_to is not None:
        statement = statement.where(Penalty.day <= wanted.day_to)
    for column, value in (
        (Penalty.instruction_id, wanted.instruction_id),
        (Penalty.counterparty_lei, wanted.counterparty_lei),
        (Penalty.payer, wanted.payer),
        (Penalty.status, wanted.status),
        (Penalty.kind, wanted.kind),
    ):
        if value is not None:
            statement = statement.where(column == value)
    return await fetch_page(session, statement, Penalty.id, page)


async def active_of_month(session: AsyncSession, *, first: date, last: date) -> list[Penalty]:
    statement = (
        select(Penalty)
        .where(Penalty.status == _ACTIVE, Penalty.day >= first, Penalty.day <= last)
        .order_by(Penalty.counterparty_lei, Penalty.currency, Penalty.id)
    )
    return list((await session.scalars(statement)).all())
