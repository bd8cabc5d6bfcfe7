"""What the other stages post, as plain values: a trade on its trade date, a settlement, a
novation to the CCP, and the journal lines each makes. Pure: no database."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from app.core.values import quick_init
from app.positions.journal.entries import ZERO, Line, without_zeros
from app.positions.ledger_accounts import codes as accounts


class Direction(StrEnum):
    """Seen from us: ``receive`` securities against payment, or ``deliver`` them against it."""

    RECEIVE = "receive"
    DELIVER = "deliver"


@quick_init
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
    trade_time: datetime  # execution time: the order of cost and realised P&L
    gross_amount: Decimal
    commission: Decimal
    fees: Decimal
    accrued_interest: Decimal | None
    net_amount: Decimal

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity


def trade_lines(
    trade: TradeEconomics, *, cost: Decimal | None = None, realized_pnl: Decimal | None = None
) -> tuple[Line, ...]:
    """The book takes the position (a credit: ownership) against the counterparty's unsettled
    account (a debit: it owes us the securities), and the cash the other way; commission, fees
    and accrued interest go to their own accounts. The book's securities line carries the
    position's ``cost`` and ``realized_pnl`` when the caller, holding the position's lock, has
    them. Lines that move nothing are left out (``without_zeros``)."""
    sign = 1 if trade.side == "buy" else -1
    book = accounts.book(trade.book)
    party = accounts.counterparty(trade.counterparty_lei)
    ccy = trade.currency
    quantity = sign * trade.quantity
    # Built line by line rather than filtered afterwards: a batch makes thousands of them.
    lines: list[Line] = []
    if quantity or cost or realized_pnl:
        lines.append(Line(book, trade.isin, -quantity, cost, realized_pnl))
    if quantity:
        lines.append(Line(party, trade.isin, quantity))
    cash = (
        (party, -sign * trade.net_amount),
        (book, sign * trade.gross_amount),
        (accounts.COMMISSION.code, trade.commission),
        (accounts.FEES.code, trade.fees),
        (accounts.ACCRUED_INTEREST.code, sign * (trade.accrued_interest or ZERO)),
    )
    lines += [Line(account, ccy, amount) for account, amount in cash if amount]
    return tuple(lines)


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
