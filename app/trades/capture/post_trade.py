"""The trade's post-trade lifecycle: what clearing and settlement ask of trades.

Confirmed trades are handed to clearing (``set_based.claim_clearable``), then move ``cleared`` ->
``instructed`` -> ``settled`` / ``partially_settled`` as their obligation is cleared,
instructed and settled, or settle with the netting when their obligation nets out to nothing.
Each step locks its trades in one query per chunk and moves them with one batched UPDATE per
set of changed columns (``lifecycle.transition_many``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes, recorded_by
from app.core.auth import Actor
from app.core.lookups import by_key
from app.core.snapshots import jsonable
from app.core.states import next_state
from app.trades.capture import repository
from app.trades.capture.lifecycle import ENTITY
from app.trades.capture.models import Trade
from app.trades.capture.states import TRANSITIONS, TradeEvent, TradeStatus

# Clearing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClearableTrade:
    """What clearing needs of a confirmed trade."""

    id: str
    isin: str
    venue: str
    counterparty_lei: str
    currency: str
    settlement_date: date
    side: str
    quantity: Decimal
    net_amount: Decimal

    @classmethod
    def of(cls, trade: Trade) -> "ClearableTrade":
        return cls(
            id=trade.id,
            isin=trade.isin,
            venue=trade.venue,
            counterparty_lei=trade.counterparty_lei,
            currency=trade.currency,
            settlement_date=trade.settlement_date,
            side=trade.side,
            quantity=trade.quantity,
            net_amount=trade.net_amount,
        )


async def count_clearable(session: AsyncSession, *, settlement_date: date) -> int:
    return await repository.count_clearable(session, settlement_date=settlement_date)


async def cleared_by(
    session: AsyncSession, *, trade_ids: Sequence[str], as_of: datetime
) -> set[str]:
    """Those of the trades that were cleared at or before ``as_of`` (their audit records say
    when)."""
    return await recorded_by(
        session,
        entity_type=ENTITY,
        entity_ids=trade_ids,
        action=TradeEvent.CLEARED.value,
        as_of=as_of,
    )


# Settlement --------------------------------------------------------------------------------


async def mark_settled(
    session: AsyncSession,
    *,
    obligation_id: str,
    in_full: bool,
    actor: Actor,
    now: datetime,
) -> None:
    """The trades of an obligation whose instruction settled: ``settled`` when in full, else
    ``partially_settled``."""
    await mark_settled_many(session, in_full={obligation_id: in_full}, actor=actor, now=now)


async def mark_settled_many(
    session: AsyncSession, *, in_full: Mapping[str, bool], actor: Actor, now: datetime
) -> None:
    """``mark_settled`` for many obligations at once (``in_full`` per obligation id), set-based:
    the trades are locked and read as Core rows, moved by one UPDATE per new status, and
    audited from those rows (the images ``row_snapshot`` gives), one record per trade: those
    settled in full first, then those settled in part, each in lock order."""
    async with by_key(session):
        trades = await repository.lock_settleable(session, sorted(in_full))
    stamp = jsonable(now)
    for full in (True, False):
        event = TradeEvent.SETTLED if full else TradeEvent.PARTIALLY_SETTLED
        befores = [trade for trade in trades if in_full[trade["obligation_id"]] is full]
        moved: dict[str, list[str]] = {}
        changes = []
        for before in befores:
            status = next_state(TRANSITIONS, TradeStatus(before["status"]), event).value
            moved.setdefault(status, []).append(before["id"])
            after = before | {
                "status": status,
                "version": before["version"] + 1,
                "updated_at": stamp,
            }
            changes.append(Change(ENTITY, before["id"], event.value, before, after))
        async with by_key(session):
            for status, trade_ids in moved.items():
                await repository.move_to(session, trade_ids, status=status, now=now)
        await record_changes(session, changes, actor=actor, now=now)


@dataclass(frozen=True)
class NettedOutSettled:
    trades: int  # how many trades settled
    unsettled: set[str]  # obligations with trades still ``instructed`` (beyond the limit)
    waiting: set[str]  # obligations with trades not yet handed to settlement (``cleared``)


async def count_netted_out(session: AsyncSession, *, obligation_ids: Sequence[str]) -> int:
    """How many trades ``settle_netted_out`` would settle now."""
    return await repository.count_of_obligations(
        session, obligation_ids, status=TradeStatus.INSTRUCTED
    )


# What a settlement instruction message says of its trades -------------------------------


@dataclass(frozen=True, slots=True)
class SettlementTerms:
    """The trade date and deal price an instruction message gives for an obligation: the
    latest trade date of its trades, and their price only when they all share one (with its
    currency); a netting of trades at several prices has no single deal price."""

    trade_date: date
    price: Decimal | None
    currency: str | None


async def settlement_terms(
    session: AsyncSession, *, obligation_ids: Sequence[str]
) -> dict[str, SettlementTerms]:
    """Per obligation with trades, its ``SettlementTerms``."""
    rows = await repository.terms_of_obligations(session, obligation_ids)
    dates: dict[str, date] = {}
    prices: dict[str, set[tuple[Decimal, str]]] = {}
    for obligation_id, trade_date, price, currency in rows:
        dates[obligation_id] = max(trade_date, dates.get(obligation_id, trade_date))
        # 189.25 and 189.2500 are one price.
        prices.setdefault(obligation_id, set()).add((price.normalize(), currency))
    terms: dict[str, SettlementTerms] = {}
    for obligation_id, trade_date in dates.items():
        single = prices[obligation_id]
        if len(single) == 1:
            price, currency = next(iter(single))
            terms[obligation_id] = SettlementTerms(trade_date, price, currency)
        else:
            terms[obligation_id] = SettlementTerms(trade_date, None, None)
    return terms


async def trade_ids(
    session: AsyncSession, *, obligation_ids: Sequence[str]
) -> dict[str, list[str]]:
    """Per obligation with trades, their ids in order."""
    found: dict[str, list[str]] = {}
    for obligation_id, trade_id in await repository.ids_of_obligations(session, obligation_ids):
        found.setdefault(obligation_id, []).append(trade_id)
    return {obligation_id: sorted(ids) for obligation_id, ids in found.items()}
