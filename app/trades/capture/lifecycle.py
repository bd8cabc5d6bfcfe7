"""Trade state changes: lock the row, apply the transition table, audit. Used by capture,
confirmation matching and the post-trade stages alike."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes, transition
from app.core.auth import Actor
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.trades.capture import repository
from app.trades.capture.models import Trade
from app.trades.capture.states import TRANSITIONS, TradeEvent, TradeStatus

ENTITY = "trade"


async def transition_many(
    session: AsyncSession,
    trades: Sequence[Trade],
    *,
    event: TradeEvent,
    actor: Actor,
    now: datetime,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """``transition_trade`` for many locked trades at once: one audit batch, and one batched
    UPDATE per set of columns that change. ``changes`` gives per trade id the fields the event
    sets."""
    kinds: dict[frozenset[str], list[tuple[int, Trade, TradeStatus, dict[str, Any]]]] = {}
    for index, trade in enumerate(trades):
        new_status = next_state(TRANSITIONS, TradeStatus(trade.status), event)
        changed = {
            name: value
            for name, value in (changes or {}).get(trade.id, {}).items()
            if getattr(trade, name) != value
        }
        columns = frozenset(changed) | ({"status"} if new_status != trade.status else set())
        kinds.setdefault(columns, []).append((index, trade, new_status, changed))
    audit: list[tuple[int, Change]] = []
    for alike in kinds.values():
        for index, trade, new_status, changed in alike:
            before = row_snapshot(trade)
            for name, value in changed.items():
                setattr(trade, name, value)
            trade.status = new_status.value
            trade.version += 1
            trade.updated_at = now
            audit.append(
                (index, Change(ENTITY, trade.id, event.value, before, row_snapshot(trade)))
            )
        # The ORM batches only consecutive rows changing the same columns: a flush per kind.
        await session.flush()
    await record_changes(session, [change for _, change in sorted(audit)], actor=actor, now=now)


async def transition_trade(
    session: AsyncSession,
    *,
    trade_id: str,
    event: TradeEvent,
    actor: Actor,
    now: datetime,
    **changes: Any,
) -> Trade:
    """Apply one lifecycle event (and any field changes it carries) to a trade, audited."""
    trade = await repository.lock(session, trade_id)
    await transition(
        session,
        trade,
        transitions=TRANSITIONS,
        event=event,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        version=trade.version + 1,
        updated_at=now,
        **changes,
    )
    return trade


async def flag_affirmation_overdue(
    session: AsyncSession, trades: Sequence[Trade], *, actor: Actor, now: datetime
) -> None:
    """Stamp locked trades whose affirmation cutoff passed unconfirmed, one audit batch and a
    ``trade.affirmation_overdue`` event each. The status does not change."""
    changes = []
    for trade in trades:
        before = row_snapshot(trade)
        trade.affirmation_overdue_at = now
        changes.append(
            Change(
                ENTITY,
                trade.id,
                "affirmation_overdue",
                before,
                row_snapshot(trade),
                event_type="trade.affirmation_overdue",
            )
        )
    await record_changes(session, changes, actor=actor, now=now)
