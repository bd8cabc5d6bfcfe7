"""Trade state changes: lock the row, apply the transition table, audit. Used by capture,
confirmation and the later stages alike."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_change, record_changes
from app.core.auth import Actor
from app.core.errors import NotFound
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.trades.models import Trade
from app.trades.states import TRANSITIONS, TradeEvent, TradeStatus

ENTITY = "trade"


async def lock_trade(session: AsyncSession, trade_id: str) -> Trade:
    # Sessions do not autoflush: without this, populate_existing would overwrite a change made
    # earlier in the same unit of work (two transitions in one transaction lost the first).
    await session.flush()
    trade = await session.get(Trade, trade_id, with_for_update=True, populate_existing=True)
    if trade is None:
        raise NotFound(f"No trade '{trade_id}'.")
    return trade


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
    trade = await lock_trade(session, trade_id)
    new_status = next_state(TRANSITIONS, TradeStatus(trade.status), event)
    before = row_snapshot(trade)
    for name, value in changes.items():
        setattr(trade, name, value)
    trade.status = new_status.value
    trade.version += 1
    trade.updated_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=trade.id,
        action=event.value,
        before=before,
        after=row_snapshot(trade),
        now=now,
    )
    return trade
