"""Netting trades into settlement obligations. Pure: plain values in, plain values out.

Trades on a venue with a CCP are novated to it and netted per CCP; trades with a counterparty
whose agreement says bilateral netting are netted per counterparty; every other trade settles
gross, one obligation each. Netting is per (counterparty of record, our safekeeping account, our
cash account, ISIN, currency, settlement date). Quantities and amounts are seen from us:
positive is received, negative delivered or paid.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class NettingSet(StrEnum):
    CCP = "ccp"
    BILATERAL = "bilateral"
    GROSS = "gross"


class Direction(StrEnum):
    RECEIVE = "receive"  # securities in (against payment, or free)
    DELIVER = "deliver"  # securities out
    CASH_ONLY = "cash_only"  # net flat in securities, a cash residue
    NONE = "none"  # flat in securities and cash: nothing to settle


@dataclass(frozen=True)
class ClearingTrade:
    trade_id: str
    netting_set: NettingSet
    counterparty: str  # of record: the CCP after novation, else the trade's counterparty
    securities_account: str
    cash_account: str
    isin: str
    currency: str
    settlement_date: date
    side: str  # "buy" or "sell"
    quantity: Decimal
    net_amount: Decimal

    def __post_init__(self) -> None:
        if self.side not in ("buy", "sell"):
            raise ValueError(f"side is 'buy' or 'sell', not {self.side!r}")

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity

    @property
    def signed_amount(self) -> Decimal:
        """Cash from our side: a buy pays, a sell receives."""
        return -self.net_amount if self.side == "buy" else self.net_amount


@dataclass(frozen=True)
class NettingKey:
    netting_set: NettingSet
    counterparty: str
    securities_account: str
    cash_account: str
    isin: str
    currency: str
    settlement_date: date
    # Only for gross settlement: the one trade the obligation stands for.
    trade_id: str | None = None


def netting_key(trade: ClearingTrade) -> NettingKey:
    return NettingKey(
        netting_set=trade.netting_set,
        counterparty=trade.counterparty,
        securities_account=trade.securities_account,
        cash_account=trade.cash_account,
        isin=trade.isin,
        currency=trade.currency,
        settlement_date=trade.settlement_date,
        trade_id=trade.trade_id if trade.netting_set == NettingSet.GROSS else None,
    )


@dataclass
class Net:
    """The running result for one netting key."""

    net_quantity: Decimal = ZERO
    net_amount: Decimal = ZERO
    gross_quantity: Decimal = ZERO
    gross_amount: Decimal = ZERO
    trade_count: int = 0

    def add(self, trade: ClearingTrade) -> None:
        self.net_quantity += trade.signed_quantity
        self.net_amount += trade.signed_amount
        self.gross_quantity += trade.quantity
        self.gross_amount += abs(trade.net_amount)
        self.trade_count += 1

    def merge(self, other: "Net") -> None:
        self.net_quantity += other.net_quantity
        self.net_amount += other.net_amount
        self.gross_quantity += other.gross_quantity
        self.gross_amount += other.gross_amount
        self.trade_count += other.trade_count

    @property
    def direction(self) -> Direction:
        return direction_of(self.net_quantity, self.net_amount)


def direction_of(net_quantity: Decimal, net_amount: Decimal) -> Direction:
    if net_quantity > 0:
        return Direction.RECEIVE
    if net_quantity < 0:
        return Direction.DELIVER
    return Direction.CASH_ONLY if net_amount != 0 else Direction.NONE


@dataclass
class Netting:
    """Nets trades as they stream in: memory grows with the keys, not with the trades."""

    nets: dict[NettingKey, Net] = field(default_factory=dict)

    def add(self, trades: Iterable[ClearingTrade]) -> dict[NettingKey, list[str]]:
        """Net a chunk of trades; returns each key's trade ids from this chunk (the lineage)."""
        lineage: dict[NettingKey, list[str]] = {}
        for trade in trades:
            key = netting_key(trade)
            self.nets.setdefault(key, Net()).add(trade)
            lineage.setdefault(key, []).append(trade.trade_id)
        return lineage


def net(trades: Iterable[ClearingTrade]) -> dict[NettingKey, Net]:
    """All at once, for callers and tests that hold the trades in hand."""
    netting = Netting()
    netting.add(trades)
    return netting.nets


@dataclass(frozen=True)
class Efficiency:
    """1 - net/gross, by count (obligations to settle vs trades) and by value (cash moved)."""

    trades: int
    obligations: int
    gross_value: Decimal
    net_value: Decimal

    @property
    def by_count(self) -> Decimal:
        return ZERO if self.trades == 0 else 1 - Decimal(self.obligations) / Decimal(self.trades)

    @property
    def by_value(self) -> Decimal:
        return ZERO if self.gross_value == 0 else 1 - self.net_value / self.gross_value


def efficiency(nets: Iterable[Net]) -> Efficiency:
    """Obligations that settle nothing (flat in securities and cash) are not counted."""
    trades = obligations = 0
    gross = net_value = ZERO
    for item in nets:
        trades += item.trade_count
        gross += item.gross_amount
        net_value += abs(item.net_amount)
        if item.direction is not Direction.NONE:
            obligations += 1
    return Efficiency(trades, obligations, gross, net_value)
