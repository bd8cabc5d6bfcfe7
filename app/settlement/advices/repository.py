"""Every query of status advices (and the lock of the outbound message an advice updates)."""

import hashlib
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.settlement.advices.models import StatusAdvice


async def get(session: AsyncSession, advice_id: str) -> StatusAdvice | None:
    return await session.get(StatusAdvice, advice_id)


async def get_for_update(session: AsyncSession, advice_id: str) -> StatusAdvice | None:
    return await session.get(StatusAdvice, advice_id, with_for_update=True, populate_existing=True)


async def by_message_id(
    session: AsyncSession, *, sender: str, message_id: str
) -> StatusAdvice | None:
    """The advice received from this sender with this message id, read afresh."""
    statement = (
        select(StatusAdvice)
        .where(StatusAdvice.sender == sender, StatusAdvice.message_id == message_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def lock_message_id(session: AsyncSession, *, sender: str, message_id: str) -> None:
    """One sender's message, taken in turns: the same advice posted twice at once would both
    find no earlier copy (an exception advice has no instruction row to lock), and the second
    would then lose on the unique key instead of answering as a replay. PostgreSQL: a
    transaction advisory lock; SQLite serialises writers already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"status-advice:{sender}:{message_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def add(session: AsyncSession, advice: StatusAdvice) -> None:
    session.add(advice)
    await session.flush()


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    instruction_id: str | None,
    message_type: str | None,
    status: str | None = None,
) -> tuple[Sequence[StatusAdvice], str | None]:
    """A page of advices in id order (the order received), filtered by whichever is given."""
    statement = select(StatusAdvice)
    if instruction_id is not None:
        statement = statement.where(StatusAdvice.instruction_id == instruction_id)
    if message_type is not None:
        statement = statement.where(StatusAdvice.message_type == message_type)
    if status is not None:
        statement = statement.where(StatusAdvice.status == status)
    return await fetch_page(session, statement, StatusAdvice.id, page)
