"""Every query and lock of settlement instructions that this package makes."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.instructions.states import OPEN, InstructionStatus

_OPEN = [state.value for state in OPEN]
_BY_OBLIGATIONS_CHUNK = 500
_FAILING_CHUNK = 1000


async def get(session: AsyncSession, instruction_id: str) -> SettlementInstruction | None:
    return await session.get(SettlementInstruction, instruction_id)


async def get_for_update(
    session: AsyncSession, instruction_id: str
) -> SettlementInstruction | None:
    """The instruction locked (``FOR UPDATE``) and read afresh; what the session holds unflushed
    is flushed first, so that reading afresh loses nothing."""
    await session.flush()
    return await session.get(
        SettlementInstruction, instruction_id, with_for_update=True, populate_existing=True
    )


async def by_obligation_ids(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> dict[str, SettlementInstruction]:
    """The instructions of these obligations, by obligation id."""
    found: dict[str, SettlementInstruction] = {}
    for start in range(0, len(obligation_ids), _BY_OBLIGATIONS_CHUNK):
        rows = await session.scalars(
            select(SettlementInstruction).where(
                SettlementInstruction.obligation_id.in_(
                    obligation_ids[start : start + _BY_OBLIGATIONS_CHUNK]
                )
            )
        )
        found.update({row.obligation_id: row for row in rows.all()})
    return found


async def add_all(session: AsyncSession, instructions: Sequence[SettlementInstruction]) -> None:
    session.add_all(instructions)
    await session.flush()


def _failing_on(today: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Open and past its intended settlement date."""
    return (
        SettlementInstruction.status.in_(_OPEN),
        SettlementInstruction.intended_settlement_date < today,
    )


async def failing_in_chunks(
    session: AsyncSession, *, today: date
) -> list[list[SettlementInstruction]]:
    """Every instruction failing on ``today``, in id order, read a chunk at a time."""
    after: str | None = None
    chunks: list[list[SettlementInstruction]] = []
    while True:
        statement = (
            select(SettlementInstruction)
            .where(*_failing_on(today))
            .order_by(SettlementInstruction.id)
            .limit(_FAILING_CHUNK)
        )
        if after is not None:
            statement = statement.where(SettlementInstruction.id > after)
        rows = list((await session.scalars(statement)).all())
        if not rows:
            return chunks
        chunks.append(rows)
        after = rows[-1].id


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    status: InstructionStatus | None,
    intended_settlement_date: date | None,
    isin: str | None,
    counterparty_lei: str | None,
    obligation_id: str | None,
    failing_on: date | None,
    intended_before: date | None,
) -> tuple[Sequence[SettlementInstruction], str | None]:
    """A page of instructions in id order, filtered by whichever of these are given."""
    statement = select(SettlementInstruction)
    if failing_on is not None:
        statement = statement.where(*_failing_on(failing_on))
    if intended_before is not None:
        statement = statement.where(
            SettlementInstruction.intended_settlement_date < intended_before
        )
    filters = {
        SettlementInstruction.status: status.value if status else None,
        SettlementInstruction.intended_settlement_date: intended_settlement_date,
        SettlementInstruction.isin: isin,
        SettlementInstruction.counterparty_lei: counterparty_lei,
        SettlementInstruction.obligation_id: obligation_id,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    return await fetch_page(session, statement, SettlementInstruction.id, page)
