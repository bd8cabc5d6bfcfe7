"""Journal entries as plain values: what a trade, a settlement or a reversal posts, and the
zero-sum rule every entry obeys. Pure: no database."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from app.positions import accounts

ZERO = Decimal(0)


class EntryKind(StrEnum):
    TRADE = "trade"
    SETTLEMENT = "settlement"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    NOVATION = "novation"
    # Cost and realised P&L brought back in line with the live trades after a correction.
    RESTATEMENT = "restatement"


class Direction(StrEnum):
    """Seen from us: ``receive`` securities against payment, or ``deliver`` them against it."""

    RECEIVE = "receive"
    DELIVER = "deliver"


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


def accounting_date(value_date: date, now: datetime, not_before: date | None = None) -> date:
    """The day an entry counts in the book: its value date, unless that day has already begun
    (a late booking counts today, so an answer as of an earlier day never changes)."""
    return max(value_date, now.astimezone(UTC).date(), not_before or value_date)


def imbalances(lines: Iterable[Line]) -> dict[str, Decimal]:
    """Per asset, what the lines fail to balance by (empty when the entry is zero-sum)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line.asset] += line.amount
    return {asset: total for asset, total in totals.items() if total != 0}


def without_zeros(lines: Iterable[Line]) -> tuple[Line, ...]:
    return tuple(
        line
        for line in lines
        if line.amount != 0 or line.cost not in (None, 0) or line.realized_pnl not in (None, 0)
    )


@dataclass(frozen=True)
class TradeEconomics:
    """What the trade-date booking of a trade needs to know about it."""

    trade_id: str
    book: str
    counterparty_lei: str
    isin: str
    side: str  # "buy" or "sell"
    quantity: Decimal
    currency: str
    trade_date: date
    gross_amount: Decimal
    commission: Decimal
    fees: Decimal
    accrued_interest: Decimal | None
    net_amount: Decimal

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity


def trade_lines(trade: TradeEconomics) -> tuple[Line, ...]:
    """The book takes the position (a credit: ownership) against the counterparty's unsettled
    account (a debit: it owes us the securities), and the cash the other way; commission, fees
    and accrued interest go to their own accounts. The book's securities line carries no cost
    yet: the caller adds it once it holds the position's lock."""
    sign = 1 if trade.side == "buy" else -1
    book = accounts.book(trade.book)
    party = accounts.counterparty(trade.counterparty_lei)
    ccy = trade.currency
    return without_zeros(
        (
            Line(book, trade.isin, -sign * trade.quantity),
            Line(party, trade.isin, sign * trade.quantity),
            Line(party, ccy, -sign * trade.net_amount),
            Line(book, ccy, sign * trade.gross_amount),
            Line(accounts.COMMISSION.code, ccy, trade.commission),
            Line(accounts.FEES.code, ccy, trade.fees),
            Line(accounts.ACCRUED_INTEREST.code, ccy, sign * (trade.accrued_interest or ZERO)),
        )
    )


@dataclass(frozen=True)
class SettlementMovement:
    """A settlement as the settlement stage reports it: what moved, between which of our
    accounts and whose unsettled account, and on which day."""

    reference: str  # the instruction (or trade) that settled
    counterparty: str  # an LEI, or the CCP after novation
    direction: Direction
    isin: str
    quantity: Decimal
    currency: str
    amount: Decimal
    securities_account: str
    cash_account: str
    settlement_date: date


def settlement_lines(movement: SettlementMovement) -> tuple[Line, ...]:
    """Securities and cash leave the counterparty's unsettled account for our safekeeping and
    cash accounts (or the other way for a delivery)."""
    sign = 1 if movement.direction is Direction.RECEIVE else -1
    party = accounts.counterparty(movement.counterparty)
    return without_zeros(
        (
            Line(
                accounts.securities(movement.securities_account),
                movement.isin,
                sign * movement.quantity,
            ),
            Line(party, movement.isin, -sign * movement.quantity),
            Line(accounts.cash(movement.cash_account), movement.currency, -sign * movement.amount),
            Line(party, movement.currency, sign * movement.amount),
        )
    )


@dataclass(frozen=True)
class Novation:
    """Unsettled securities and cash moving from the counterparty a trade was done with to the
    CCP that stepped in, as the counterparty's account holds them (positive: owed to us)."""

    from_party: str
    to_party: str
    isin: str
    quantity: Decimal
    currency: str
    amount: Decimal


def novation_lines(novations: Sequence[Novation]) -> tuple[Line, ...]:
    lines: list[Line] = []
    for move in novations:
        source = accounts.counterparty(move.from_party)
        target = accounts.counterparty(move.to_party)
        lines += [
            Line(source, move.isin, -move.quantity),
            Line(target, move.isin, move.quantity),
            Line(source, move.currency, -move.amount),
            Line(target, move.currency, move.amount),
        ]
    return without_zeros(lines)


def reversal_lines(lines: Sequence[Line]) -> tuple[Line, ...]:
    return tuple(line.reversed() for line in lines)
