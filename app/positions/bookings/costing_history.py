"""A book position's cost and realised P&L replayed in execution order (not booking order), and
what the journal must add on each trade date to agree with it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.positions.costing import ZERO, Holding, trade_effect
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind
from app.positions.ledger_accounts import codes as accounts

Key = tuple[str, str]
# When an entry took effect, then when it was booked and its first posting (insertion order):
# ties keep booking order.
Order = tuple[datetime, datetime, int]


@dataclass(frozen=True)
class Effect:
    """What one live trade or adjustment did to a position, replayed in execution order."""

    order: Order
    value_date: date
    holding: Holding


def _moment(value_date: date, effective_at: datetime | None) -> datetime:
    """An entry without an execution time (an adjustment) takes effect as its day begins."""
    return effective_at or datetime.combine(value_date, time.min, tzinfo=UTC)


def _order(rows: list[Any]) -> Order:
    first = rows[0]
    return (
        _moment(first.value_date, first.effective_at),
        first.created_at,
        min(row.posting_id for row in rows),
    )


async def replayed(session: AsyncSession, key: Key) -> list[Effect]:
    """The effect of each live trade and adjustment on the position at ``key`` (a book's
    securities balance), computed one after the other in execution order."""
    isin = key[1]
    by_entry = await journal.live_postings_of_position(
        session, key, kinds=[EntryKind.TRADE, EntryKind.ADJUSTMENT]
    )
    ordered = sorted(by_entry.values(), key=_order)
    holding = Holding()
    effects = []
    for rows in ordered:
        [position] = [row for row in rows if row.asset == isin]
        if position.kind == EntryKind.TRADE.value:
            [principal] = [row for row in rows if not accounts.is_security(row.asset)]
            effect = trade_effect(
                holding,
                quantity=-position.amount,
                principal=abs(principal.amount),
                currency=principal.asset,
            )
        else:
            effect = Holding(-position.amount, position.cost or ZERO, ZERO)
        holding = holding + effect
        effects.append(Effect(_order(rows), position.value_date, effect))
    return effects


async def restatements(
    session: AsyncSession, key: Key, effects: list[Effect]
) -> dict[date, tuple[Decimal, Decimal]]:
    """Per value date, the cost and realised P&L to post so that what the journal holds for
    that date equals what the replayed effects make it (dates where they agree left out)."""
    should: dict[date, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    for effect in effects:
        cost, pnl = should[effect.value_date]
        should[effect.value_date] = (cost + effect.holding.cost, pnl + effect.holding.realized_pnl)
    booked = await journal.cost_by_value_date(session, key)
    differences = {}
    for day in sorted(should.keys() | booked.keys()):
        cost = should.get(day, (ZERO, ZERO))[0] - booked.get(day, (ZERO, ZERO))[0]
        pnl = should.get(day, (ZERO, ZERO))[1] - booked.get(day, (ZERO, ZERO))[1]
        if cost or pnl:
            differences[day] = (cost, pnl)
    return differences
