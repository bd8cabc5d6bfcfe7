"""Penalties: booked (each with its journal entry), reversed by a reversing entry (never edited),
read, and netted per counterparty for the month as the depository reports them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes
from app.core.auth import Actor
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.penalties.calculation import Party, PenaltyLine
from app.penalties.penalties import repository
from app.penalties.penalties.models import Penalty
from app.penalties.penalties.monthly import MonthlyLine
from app.penalties.penalties.repository import PenaltyFilter
from app.penalties.penalties.states import TRANSITIONS, PenaltyEvent, PenaltyStatus
from app.positions.bookings import service as bookings

ENTITY = "penalty"

__all__ = ["PenaltyFilter"]


@dataclass(frozen=True)
class NewPenalty:
    """A line of the calculation and the instruction it penalises."""

    line: PenaltyLine
    instruction_id: str
    counterparty_lei: str
    isin: str
    reason: str
    fail_reason: str | None
    quantity: Decimal
    reference_price: Decimal | None


def _row(new: NewPenalty, *, run_id: str | None, now: datetime) -> Penalty:
    line = new.line
    return Penalty(
        id=new_id("pen"),
        instruction_id=new.instruction_id,
        day=line.day,
        kind=line.kind.value,
        payer=line.payer.value,
        counterparty_lei=new.counterparty_lei,
        isin=new.isin,
        reason=new.reason,
        fail_reason=new.fail_reason,
        quantity=new.quantity,
        reference_price=new.reference_price,
        basis=line.basis,
        rate=line.rate,
        rate_divisor=line.rate_divisor,
        amount=line.amount,
        currency=line.currency,
        status=PenaltyStatus.ACTIVE.value,
        run_id=run_id,
        journal_entry_id="",
        created_at=now,
        version=1,
    )


def _booking(penalty: Penalty) -> bookings.PenaltyBooking:
    kind = penalty.kind.replace("_", "-")
    return bookings.PenaltyBooking(
        penalty_id=penalty.id,
        counterparty=penalty.counterparty_lei,
        currency=penalty.currency,
        amount=penalty.amount,
        we_pay=penalty.payer == Party.US.value,
        day=penalty.day,
        description=f"CSDR {kind} penalty {penalty.day} on {penalty.instruction_id}",
    )


async def book(
    session: AsyncSession,
    penalties: Sequence[NewPenalty],
    *,
    run_id: str | None,
    actor: Actor,
    now: datetime,
) -> list[Penalty]:
    """Each penalty a row and one journal entry (expense and payable when we fail, receivable
    and income when the counterparty does), audited as created."""
    rows = [_row(new, run_id=run_id, now=now) for new in penalties]
    if not rows:
        return []
    entry_ids = await bookings.post_penalties(
        session, [_booking(row) for row in rows], actor=actor, now=now
    )
    for row, entry_id in zip(rows, entry_ids, strict=True):
        row.journal_entry_id = entry_id
    repository.add_all(session, rows)
    await session.flush()
    changes = [Change(ENTITY, row.id, "booked", None, row_snapshot(row)) for row in rows]
    await record_changes(session, changes, actor=actor, now=now)
    return rows


async def _reverse(
    session: AsyncSession, penalty: Penalty, *, reason: str, actor: Actor, now: datetime
) -> Penalty:
    before = row_snapshot(penalty)
    penalty.status = next_state(
        TRANSITIONS, PenaltyStatus(penalty.status), PenaltyEvent.REVERSED
    ).value
    penalty.reversal_entry_id = await bookings.reverse_penalty(
        session,
        entry_id=penalty.journal_entry_id,
        description=f"Reversal of penalty {penalty.id}: {reason}"[:500],
        actor=actor,
        now=now,
    )
    penalty.reversal_reason = reason[:200]
    penalty.reversed_at = now
    penalty.version += 1
    await session.flush()
    await record_changes(
        session,
        [Change(ENTITY, penalty.id, PenaltyEvent.REVERSED.value, before, row_snapshot(penalty))],
        actor=actor,
        now=now,
    )
    return penalty


async def reverse_penalty(
    session: AsyncSession, *, penalty_id: str, reason: str, actor: Actor, now: datetime
) -> Penalty:
    """Reverse one penalty (409 if reversed already): status ``reversed`` and a reversing
    journal entry, audited; the penalty itself is never edited otherwise."""
    penalty = await repository.get_for_update(session, penalty_id)
    return await _reverse(session, penalty, reason=reason, actor=actor, now=now)


async def reverse_many(
    session: AsyncSession,
    penalties: Sequence[tuple[Penalty, str]],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Reverse locked active penalties, each with its reason."""
    for penalty, reason in penalties:
        await _reverse(session, penalty, reason=reason, actor=actor, now=now)


async def active_between(
    session: AsyncSession, *, day_from: date, day_to: date, lock: bool
) -> list[Penalty]:
    """The active penalties of these days (locked for a run): what a run re-examines."""
    return await repository.active_between(session, day_from=day_from, day_to=day_to, lock=lock)


async def active_on(session: AsyncSession, *, days: Sequence[date]) -> list[Penalty]:
    """The active penalties of these business days (what a depository's report is compared
    with)."""
    return await repository.active_on(session, days=days) if days else []


async def get_penalty(session: AsyncSession, *, penalty_id: str) -> Penalty:
    return await repository.get(session, penalty_id)


async def list_penalties(
    session: AsyncSession, *, page: PageRequest, wanted: PenaltyFilter
) -> tuple[Sequence[Penalty], str | None]:
    return await repository.page_of(session, page, wanted)


async def month_lines(session: AsyncSession, *, first: date, last: date) -> list[MonthlyLine]:
    """The active penalties of the month as the monthly report nets them."""
    return [
        MonthlyLine(
            counterparty_lei=row.counterparty_lei,
            currency=row.currency,
            amount=row.amount,
            we_pay=row.payer == Party.US.value,
        )
        for row in await repository.active_of_month(session, first=first, last=last)
    ]
