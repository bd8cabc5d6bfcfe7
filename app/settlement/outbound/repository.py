"""Outbound messages in the database: every query and lock of the queue."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.core.runs.framework import claim
from app.settlement.outbound.models import OutboundMessage
from app.settlement.outbound.states import MessageStatus

_IN_CHUNK = 500


async def add(session: AsyncSession, message: OutboundMessage) -> None:
    session.add(message)
    await session.flush()


async def add_all(session: AsyncSession, messages: Sequence[OutboundMessage]) -> None:
    session.add_all(messages)
    await session.flush()


async def get(session: AsyncSession, message_id: str) -> OutboundMessage | None:
    return await session.get(OutboundMessage, message_id)


async def get_for_update(session: AsyncSession, message_id: str) -> OutboundMessage | None:
    await session.flush()
    return await session.get(
        OutboundMessage, message_id, with_for_update=True, populate_existing=True
    )


async def by_reference(session: AsyncSession, reference: str) -> OutboundMessage | None:
    return (
        await session.execute(select(OutboundMessage).where(OutboundMessage.reference == reference))
    ).scalar_one_or_none()


async def by_references(session: AsyncSession, references: Sequence[str]) -> list[OutboundMessage]:
    found: list[OutboundMessage] = []
    for start in range(0, len(references), _IN_CHUNK):
        rows = await session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.reference.in_(references[start : start + _IN_CHUNK])
            )
        )
        found.extend(rows.all())
    return found


async def lock_by_reference(session: AsyncSession, reference: str) -> OutboundMessage | None:
    await session.flush()
    statement = (
        select(OutboundMessage)
        .where(OutboundMessage.reference == reference)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def of_instruction(session: AsyncSession, instruction_id: str) -> Sequence[OutboundMessage]:
    """Every message of one instruction, oldest first."""
    return (
        (
            await session.execute(
                select(OutboundMessage)
                .where(OutboundMessage.instruction_id == instruction_id)
                .order_by(OutboundMessage.created_at, OutboundMessage.id)
            )
        )
        .scalars()
        .all()
    )


async def of_instructions(
    session: AsyncSession, instruction_ids: Sequence[str]
) -> dict[str, list[OutboundMessage]]:
    """The messages of each of these instructions, oldest first (an empty list for none)."""
    found: dict[str, list[OutboundMessage]] = {i: [] for i in instruction_ids}
    for start in range(0, len(instruction_ids), _IN_CHUNK):
        rows = await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.instruction_id.in_(instruction_ids[start : start + _IN_CHUNK]))
            .order_by(OutboundMessage.created_at, OutboundMessage.id)
        )
        for row in rows.all():
            found[row.instruction_id].append(row)
    return found


async def claim_next(
    session: AsyncSession, *, expired_before: datetime, limit: int
) -> Sequence[OutboundMessage]:
    """Up to ``limit`` messages to send, oldest first: pending ones, and claimed ones whose
    claim is older than ``expired_before``. Locked, ``SKIP LOCKED``: two gateways claiming at
    once never take the same message."""
    statement = (
        select(OutboundMessage)
        .where(
            or_(
                OutboundMessage.status == MessageStatus.PENDING.value,
                and_(
                    OutboundMessage.status == MessageStatus.CLAIMED.value,
                    OutboundMessage.claimed_at < expired_before,
                ),
            )
        )
        .order_by(OutboundMessage.created_at, OutboundMessage.id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(claim(statement, limit=limit))).all()


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    status: str | None,
    message_format: str | None,
    instruction_id: str | None,
) -> tuple[Sequence[OutboundMessage], str | None]:
    """A page of messages in id order (the order they were made), filtered by those given."""
    statement = select(OutboundMessage)
    filters = {
        OutboundMessage.status: status,
        OutboundMessage.format: message_format,
        OutboundMessage.instruction_id: instruction_id,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    return await fetch_page(session, statement, OutboundMessage.id, page)


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """Outbound messages per status."""
    statement = select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
    return {status: int(count) for status, count in (await session.execute(statement)).all()}
