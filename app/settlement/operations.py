"""What operations do to an instruction by hand: hold it, release it, cancel it, change its
priority. Each change is locked, checked against the lifecycle table, versioned and audited."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change
from app.core.auth import Actor
from app.core.errors import Conflict
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.core.versioning import check_version
from app.settlement.models import SettlementInstruction
from app.settlement.movements import withdraw
from app.settlement.service import ENTITY, lock_instruction
from app.settlement.states import HOLDABLE, TRANSITIONS, InstructionEvent, InstructionStatus


async def _change(
    session: AsyncSession,
    instruction: SettlementInstruction,
    action: str,
    before: dict[str, object],
    *,
    actor: Actor,
    now: datetime,
) -> SettlementInstruction:
    instruction.version += 1
    instruction.updated_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=instruction.id,
        action=action,
        before=before,
        after=row_snapshot(instruction),
        now=now,
    )
    return instruction


async def hold(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> SettlementInstruction:
    """Park an instruction: runs skip it (reporting it as held, not failed) until released."""
    instruction = await lock_instruction(session, instruction_id)
    before = row_snapshot(instruction)
    current = InstructionStatus(instruction.status)
    instruction.status = next_state(TRANSITIONS, current, InstructionEvent.HELD).value
    instruction.held_from = current.value
    return await _change(session, instruction, "held", before, actor=actor, now=now)


async def release(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> SettlementInstruction:
    """Back to the state it was held in."""
    instruction = await lock_instruction(session, instruction_id)
    if instruction.status != InstructionStatus.ON_HOLD or instruction.held_from is None:
        raise Conflict(
            f"Settlement instruction '{instruction_id}' is {instruction.status}, not on_hold: "
            "there is nothing to release."
        )
    before = row_snapshot(instruction)
    held_from = InstructionStatus(instruction.held_from)
    assert held_from in HOLDABLE, held_from
    instruction.status = held_from.value
    instruction.held_from = None
    return await _change(session, instruction, "released", before, actor=actor, now=now)


async def cancel(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> SettlementInstruction:
    """Withdraw an instruction that has settled nothing yet."""
    instruction = await lock_instruction(session, instruction_id)
    if instruction.settled_quantity or instruction.settled_amount:
        raise Conflict(
            f"Settlement instruction '{instruction_id}' has settled "
            f"{instruction.settled_quantity} and {instruction.settled_amount} already: what "
            "settled cannot be cancelled."
        )
    before = row_snapshot(instruction)
    instruction.status = next_state(
        TRANSITIONS, InstructionStatus(instruction.status), InstructionEvent.CANCELLED
    ).value
    instruction.held_from = None
    await withdraw(session, instruction, reason="instruction cancelled", actor=actor, now=now)
    return await _change(session, instruction, "cancelled", before, actor=actor, now=now)


async def set_priority(
    session: AsyncSession,
    *,
    instruction_id: str,
    priority: int,
    version: int,
    actor: Actor,
    now: datetime,
) -> SettlementInstruction:
    """Runs take lower numbers first (then older instructions)."""
    instruction = await lock_instruction(session, instruction_id)
    check_version(
        current=instruction.version,
        expected=version,
        what=f"settlement instruction '{instruction_id}'",
    )
    if instruction.status in (InstructionStatus.SETTLED, InstructionStatus.CANCELLED):
        raise Conflict(
            f"Settlement instruction '{instruction_id}' is {instruction.status}: its priority "
            "no longer matters."
        )
    before = row_snapshot(instruction)
    instruction.priority = priority
    return await _change(session, instruction, "reprioritised", before, actor=actor, now=now)
