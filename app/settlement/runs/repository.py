"""What a settlement run reads of the instructions: what is due by a date, in run order."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.runs.framework import claim
from app.settlement.models import SettlementInstruction
from app.settlement.states import SETTLEABLE, InstructionStatus

_SETTLEABLE = [state.value for state in SETTLEABLE]
# Runs take lower priorities first, then older instructions.
_ORDER = (
    SettlementInstruction.priority,
    SettlementInstruction.created_at,
    SettlementInstruction.id,
)


def _due(settlement_date: date) -> Any:
    # The statuses are written into the SQL, not bound: PostgreSQL uses the partial index of
    # settleable instructions only when it can prove the query asks for no other status.
    settleable: Any = bindparam("settleable", _SETTLEABLE, expanding=True, literal_execute=True)
    return (
        SettlementInstruction.status.in_(settleable),
        SettlementInstruction.intended_settlement_date <= settlement_date,
    )


async def count_due(session: AsyncSession, *, settlement_date: date) -> int:
    statement = (
        select(func.count()).select_from(SettlementInstruction).where(*_due(settlement_date))
    )
    return int(await session.scalar(statement) or 0)


async def held(session: AsyncSession, *, settlement_date: date) -> list[str]:
    """Instructions due by the date but on hold, in run order."""
    statement = (
        select(SettlementInstruction.id)
        .where(
            SettlementInstruction.status == InstructionStatus.ON_HOLD.value,
            SettlementInstruction.intended_settlement_date <= settlement_date,
        )
        .order_by(*_ORDER)
    )
    return list((await session.scalars(statement)).all())


async def claim_due(
    session: AsyncSession, *, settlement_date: date, run_id: str, limit: int
) -> Sequence[SettlementInstruction]:
    """The next instructions due that this run has not tried yet, locked (``SKIP LOCKED``:
    another run takes others)."""
    statement = (
        select(SettlementInstruction)
        .where(
            *_due(settlement_date),
            or_(
                SettlementInstruction.last_run_id.is_(None),
                SettlementInstruction.last_run_id != run_id,
            ),
        )
        .order_by(*_ORDER)
    )
    return (await session.scalars(claim(statement, limit=limit))).all()


async def due_after(
    session: AsyncSession, *, settlement_date: date, after: tuple[Any, ...] | None, limit: int
) -> Sequence[SettlementInstruction]:
    """A dry run's next page of what is due, unlocked, after the run-order key ``after``."""
    statement = select(SettlementInstruction).where(*_due(settlement_date)).order_by(*_ORDER)
    if after is not None:
        statement = statement.where(tuple_(*_ORDER) > after)
    return (await session.scalars(statement.limit(limit))).all()


def run_order_key(instruction: SettlementInstruction) -> tuple[Any, ...]:
    return (instruction.priority, instruction.created_at, instruction.id)


def instructed_obligations() -> Any:
    return select(SettlementInstruction.obligation_id)
