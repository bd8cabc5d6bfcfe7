"""Outbound messages in the database."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.settlement.outbound.models import OutboundMessage


async def by_reference(session: AsyncSession, reference: str) -> OutboundMessage | None:
    return (
        await session.execute(select(OutboundMessage).where(OutboundMessage.reference == reference))
    ).scalar_one_or_none()


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
