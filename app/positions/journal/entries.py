"""Journal entries as plain values: their lines, their dates, reversals, and the zero-sum rule
every entry obeys. Pure: no database.

The book is bitemporal. An entry counts from its ``value_date`` (the effective date: trade date
for a trade, settlement date for a settlement), whenever it was booked; its ``created_at`` (the
booking time) says from when the book knew it. ``accounting_date`` is the first day on whose
close the book showed it: the later of the two days."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from app.core.values import quick_init

ZERO = Decimal(0)


class EntryKind(StrEnum):
    TRADE = "trade"
    SETTLEMENT = "settlement"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    NOVATION = "novation"
    # Cost and realised P&L brought back in line with the live trades after a correction.
    RESTATEMENT = "restatement"
    # A CSDR cash penalty: expense and payable, or receivable and income.
    PENALTY = "penalty"


@quick_init
@dataclass(frozen=True)
class Line:
    ledger_account: str
    asset: str
    amount: Decimal
    cost: Decimal | None = None
    realized_pnl: Decimal | None = None

    def reversed(self) -> "Line":
        return Line(
            self.ledger_account,
            self.asset,
            -self.amount,
            None if self.cost is None else -self.cost,
            None if self.realized_pnl is None else -self.realized_pnl,
        )


@quick_init
@dataclass(frozen=True)
class NewEntry:
    kind: EntryKind
    value_date: date
    description: str
    lines: tuple[Line, ...]
    source_type: str | None = None
    source_id: str | None = None
    reverses_id: str | None = None
    pending_id: str | None = None
    # Set only to keep a reversal on or after the day of the entry it reverses.
    not_before: date | None = field(default=None)
    # When within its value date the entry took effect (a trade's execution time): the order in
    # which cost and realised P&L are computed.
    effective_at: datetime | None = field(default=None)


def accounting_date(value_date: date, now: datetime, not_before: date | None = None) -> date:
    """The first day on whose close the book showed an entry: its value date, or the day it was
    booked when that is later (an as-of trade, a settlement confirmed late)."""
    return max(value_date, now.astimezone(UTC).date(), not_before or value_date)


def imbalances(lines: Iterable[Line]) -> dict[str, Decimal]:
    """Per asset, what the lines fail to balance by (empty when the entry is zero-sum)."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        asset = line.asset
        totals[asset] = totals.get(asset, ZERO) + line.amount
    return {asset: total for asset, total in totals.items() if total != 0}


def without_zeros(lines: Iterable[Line]) -> tuple[Line, ...]:
    return tuple(
        line
        for line in lines
        if line.amount != 0 or line.cost not in (None, 0) or line.realized_pnl not in (None, 0)
    )


def reversal_lines(lines: Sequence[Line]) -> tuple[Line, ...]:
    return tuple(line.reversed() for line in lines)
