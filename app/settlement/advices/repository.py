"""Every query of status advices."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.settlement.advices.models import StatusAdvice


async def get(session: AsyncSession, advice_id: str) -> StatusAdvice | None:
    return await session.get(StatusAdvice, advice_id)


async def by_message_id(session: AsyncSession, message_id: str) -> StatusAdvice | None:
    """The advice received with this message id, read afresh."""
    statement = (
        select(StatusAdvice)
        .where(StatusAdvice.message_id == message_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def add(session: AsyncSession, advice: StatusAdvice) -> None:
    session.add(advice)
    await session.flush()


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    instruction_id: str | None,
    message_type: str | None,
) -> tuple[Sequence[StatusAdvice], str | None]:
    """A page of advices in id order (the order received), filtered by whichever is given."""
    statement = select(StatusAdvice)
    if instruction_id is not None:
        statement = statement.where(StatusAdvice.instruction_id == instruction_id)
    if message_type is not None:
        statement = statement.where(StatusAdvice.message_type == message_type)
    return await fetch_page(session, statement, StatusAdvice.id, page)
