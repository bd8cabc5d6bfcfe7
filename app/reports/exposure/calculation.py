"""Settlement exposure, the rule. Pure: plain values in, plain values out.

Replacement cost: what we would lose if the counterparty defaulted now and we had to replace the
trade at the latest price (the mark). For a purchase (mark - price) x quantity, for a sale
(price - mark) x quantity, when positive, else zero; bonds priced in percent of nominal divide by
100. Counted for every trade neither settled nor cancelled, against the counterparty of record
(the CCP once novated), whole (a partially settled trade counts its full quantity).

Principal at risk: the value of a leg we have already given while the other is still owed, on
instructions failing (open past their intended settlement date). Delivery versus payment (DVP,
RVP) exchanges both legs at once, partial settlements included (securities and cash settle in
proportion): zero. A free delivery (DFP) that has delivered part or all of its securities while
still open puts their value at risk: settled quantity x mark. A free receipt (RFP) and a cash
payment (PFOD) give nothing we could lose on the depository's side: zero.

A missing mark is never a zero: the trade or instruction is counted as unpriced and its ISIN
listed; the amounts then cover the priced ones only.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.money import round_money

HUNDRED = Decimal(100)
_FREE_DELIVERY = "DFP"


@dataclass(frozen=True)
class Mark:
    day: date
    price: Decimal


@dataclass(frozen=True)
class OpenTrade:
    counterparty_lei: str
    currency: str
    isin: str
    side: str  # "buy" or "sell", ours
    quantity: Decimal
    price: Decimal
    in_percent: bool = False


@dataclass(frozen=True)
class FailingInstruction:
    counterparty_lei: str
    currency: str
    isin: str
    delivery_type: str
    settled_quantity: Decimal
    in_percent: bool = False


def _value(quantity: Decimal, price: Decimal, *, in_percent: bool) -> Decimal:
    value = quantity * price
    return value / HUNDRED if in_percent else value


def replacement_cost(trade: OpenTrade, mark: Decimal) -> Decimal:
    move = mark - trade.price if trade.side == "buy" else trade.price - mark
    return max(Decimal(0), _value(trade.quantity, move, in_percent=trade.in_percent))


def needs_mark(instruction: FailingInstruction) -> bool:
    return instruction.delivery_type == _FREE_DELIVERY and instruction.settled_quantity > 0


def principal_at_risk(instruction: FailingInstruction, mark: Decimal | None) -> Decimal:
    """Zero unless securities went out free (see the module); ``mark`` is needed then only."""
    if not needs_mark(instruction):
        return Decimal(0)
    assert mark is not None
    return _value(instruction.settled_quantity, mark, in_percent=instruction.in_percent)


@dataclass
class _Group:
    unsettled_trades: int = 0
    unpriced_trades: int = 0
    replacement_cost: Decimal = Decimal(0)
    failing_instructions: int = 0
    unpriced_instructions: int = 0
    principal_at_risk: Decimal = Decimal(0)
    missing_prices: set[str] = field(default_factory=set)


@dataclass
class Exposure:
    """Exposure per counterparty and currency, added trade by trade and instruction by
    instruction (a blotter's worth of trades need not be held at once)."""

    marks: Mapping[str, Mark]
    groups: dict[tuple[str, str], _Group] = field(default_factory=lambda: defaultdict(_Group))

    def add_trade(self, trade: OpenTrade) -> None:
        group = self.groups[(trade.counterparty_lei, trade.currency)]
        group.unsettled_trades += 1
        mark = self.marks.get(trade.isin)
        if mark is None:
            group.unpriced_trades += 1
            group.missing_prices.add(trade.isin)
        else:
            group.replacement_cost += replacement_cost(trade, mark.price)

    def add_instruction(self, instruction: FailingInstruction) -> None:
        group = self.groups[(instruction.counterparty_lei, instruction.currency)]
        group.failing_instructions += 1
        mark = self.marks.get(instruction.isin)
        if needs_mark(instruction) and mark is None:
            group.unpriced_instructions += 1
            group.missing_prices.add(instruction.isin)
            return
        group.principal_at_risk += principal_at_risk(
            instruction, mark.price if mark is not None else None
        )

    def rows(self) -> list[dict[str, Any]]:
        """One row per counterparty and currency, by LEI then currency; amounts rounded to the
        currency's minor units (half-even)."""
        return [
            {
                "counterparty_lei": lei,
                "currency": currency,
                "unsettled_trades": group.unsettled_trades,
                "unpriced_trades": group.unpriced_trades,
                "replacement_cost": round_money(group.replacement_cost, currency),
                "failing_instructions": group.failing_instructions,
                "unpriced_instructions": group.unpriced_instructions,
                "principal_at_risk": round_money(group.principal_at_risk, currency),
                "missing_prices": sorted(group.missing_prices),
            }
            for (lei, currency), group in sorted(self.groups.items())
        ]

    def missing(self) -> list[str]:
        return sorted({isin for group in self.groups.values() for isin in group.missing_prices})
