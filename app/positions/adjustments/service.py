"""Manual entries under four-eyes: one operations key proposes, another approves or rejects;
only approval posts, as one journal entry."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited, row_as_of, transition
from app.core.auth import Actor
from app.core.errors import Forbidden, NotFound
from app.core.ids import new_id
from app.core.money import format_decimal
from app.core.pagination import PageRequest
from app.core.states import next_state
from app.positions.adjustments import repository
from app.positions.adjustments.models import Adjustment
from app.positions.adjustments.resolution import resolve
from app.positions.adjustments.schemas import AdjustmentIn
from app.positions.adjustments.states import (
    ADJUSTMENT_TRANSITIONS,
    AdjustmentEvent,
    AdjustmentStatus,
)
from app.positions.bookings import service as bookings
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind, Line, NewEntry
from app.positions.ledger_accounts import codes as accounts

ENTITY = "adjustment"
SOURCE = "adjustment"


def _posting(line: Line) -> dict[str, Any]:
    return {
        "ledger_account": line.ledger_account,
        "asset": line.asset,
        "amount": format_decimal(line.amount),
        "cost": None if line.cost is None else format_decimal(line.cost),
        "realized_pnl": None if line.realized_pnl is None else format_decimal(line.realized_pnl),
    }


def _line(posting: dict[str, Any]) -> Line:
    def optional(name: str) -> Decimal | None:
        value = posting.get(name)
        return None if value is None else Decimal(value)

    return Line(
        posting["ledger_account"],
        posting["asset"],
        Decimal(posting["amount"]),
        optional("cost"),
        optional("realized_pnl"),
    )


async def propose(
    session: AsyncSession, *, data: AdjustmentIn, actor: Actor, now: datetime
) -> Adjustment:
    lines = await resolve(session, data, now.date())
    adjustment = Adjustment(
        id=new_id("adj"),
        kind=data.kind.value,
        status=AdjustmentStatus.PROPOSED.value,
        reason=data.reason,
        value_date=data.value_date or now.date(),
        lines=[
            {
                "account": line.account,
                "asset": line.asset,
                "amount": format_decimal(line.amount),
                "cost": None if line.cost is None else format_decimal(line.cost),
            }
            for line in data.lines
        ],
        postings=[_posting(line) for line in lines],
        proposed_by=actor.key_id,
        proposed_by_name=actor.name,
        proposed_at=now,
        version=1,
    )
    async with audited(
        session,
        adjustment,
        entity_type=ENTITY,
        action="proposed",
        actor=actor,
        now=now,
        created=True,
    ):
        repository.add(session, adjustment)
    return adjustment


async def _post(
    session: AsyncSession, adjustment: Adjustment, *, actor: Actor, now: datetime
) -> str:
    """Post an approved adjustment's lines as one journal entry; its id."""
    entry = NewEntry(
        kind=EntryKind.ADJUSTMENT,
        value_date=adjustment.value_date,
        description=f"{adjustment.kind.replace('_', ' ').capitalize()}: {adjustment.reason}",
        lines=tuple(_line(posting) for posting in adjustment.postings),
        source_type=SOURCE,
        source_id=adjustment.id,
    )
    [entry_id] = await journal.post(session, [entry], actor=actor, now=now)
    positions = {
        (line.ledger_account, line.asset)
        for line in entry.lines
        if line.ledger_account.startswith(accounts.book("")) and accounts.is_security(line.asset)
    }
    if positions:
        # Trades executed after the adjustment's date were costed without it.
        await bookings.restate_positions(
            session, positions, source=(SOURCE, adjustment.id), actor=actor, now=now
        )
    return entry_id


async def _decide(
    session: AsyncSession,
    *,
    adjustment_id: str,
    event: AdjustmentEvent,
    actor: Actor,
    now: datetime,
    rejection_reason: str | None = None,
) -> Adjustment:
    adjustment = await repository.get_for_update(session, adjustment_id)
    # A decided adjustment is refused as such (409) before four-eyes is asked (403).
    next_state(ADJUSTMENT_TRANSITIONS, AdjustmentStatus(adjustment.status), event)
    if adjustment.proposed_by == actor.key_id:
        raise Forbidden(
            f"Four-eyes: adjustment {adjustment_id} must be {event} by another operations key."
        )
    entry_id = None
    if event is AdjustmentEvent.APPROVED:
        entry_id = await _post(session, adjustment, actor=actor, now=now)
    await transition(
        session,
        adjustment,
        transitions=ADJUSTMENT_TRANSITIONS,
        event=event,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        entry_id=entry_id,
        decided_by=actor.key_id,
        decided_by_name=actor.name,
        decided_at=now,
        rejection_reason=rejection_reason,
        version=adjustment.version + 1,
    )
    return adjustment


async def approve(
    session: AsyncSession, *, adjustment_id: str, actor: Actor, now: datetime
) -> Adjustment:
    return await _decide(
        session, adjustment_id=adjustment_id, event=AdjustmentEvent.APPROVED, actor=actor, now=now
    )


async def reject(
    session: AsyncSession, *, adjustment_id: str, reason: str, actor: Actor, now: datetime
) -> Adjustment:
    return await _decide(
        session,
        adjustment_id=adjustment_id,
        event=AdjustmentEvent.REJECTED,
        actor=actor,
        now=now,
        rejection_reason=reason,
    )


async def get(
    session: AsyncSession, *, adjustment_id: str, as_of: datetime | None = None
) -> Adjustment:
    """The adjustment now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await row_as_of(
            session, Adjustment, entity_type=ENTITY, entity_id=adjustment_id, as_of=as_of
        )
    return await repository.get(session, adjustment_id)


async def get_many(
    session: AsyncSession, *, adjustment_ids: Sequence[str]
) -> dict[str, Adjustment]:
    """The adjustments of these ids, by id; NotFound names the first id that does not exist."""
    found = await repository.by_ids(session, adjustment_ids)
    for adjustment_id in adjustment_ids:
        if adjustment_id not in found:
            raise NotFound(f"No adjustment '{adjustment_id}'.")
    return found


async def list_adjustments(
    session: AsyncSession, *, page: PageRequest, status: AdjustmentStatus | None = None
) -> tuple[Sequence[Adjustment], str | None]:
    return await repository.page_of_adjustments(
        session, page=page, status=None if status is None else status.value
    )
