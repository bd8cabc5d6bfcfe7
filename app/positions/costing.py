"""Weighted average cost and realised P&L of a trade-date position. Pure: no database.

A position is its quantity (negative when short), its cost basis (what was paid for a long,
received for a short, so that cost / quantity is the average price in both cases) and the P&L
realised so far. A trade that adds to the position adds its principal to the cost basis; a trade
that reduces it releases the matching share of the cost basis and realises the difference; a
trade through zero closes the position and opens the other side at the trade's price.

Principal is the trade's gross amount (quantity x price, rounded to the currency): commission,
fees and accrued interest are booked to their own accounts and stay out of cost and P&L.
"""

from dataclasses import dataclass
from decimal import Decimal

from app.core.money import round_money
from app.core.values import quick_init

ZERO = Decimal(0)


@quick_init
@dataclass(frozen=True)
class Holding:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def __add__(self, effect: "Holding") -> "Holding":
        return Holding(
            self.quantity + effect.quantity,
            self.cost + effect.cost,
            self.realized_pnl + effect.realized_pnl,
        )

    def __neg__(self) -> "Holding":
        return Holding(-self.quantity, -self.cost, -self.realized_pnl)


def trade_effect(
    holding: Holding, *, quantity: Decimal, principal: Decimal, currency: str
) -> Holding:
    """What a trade of ``quantity`` (positive bought, negative sold) for ``principal`` (the
    positive gross amount) does to ``holding``: the deltas of quantity, cost and realised P&L."""
    if quantity == 0:
        raise ValueError("a trade moves a non-zero quantity")
    signed_value = principal if quantity > 0 else -principal
    held = holding.quantity
    if held == 0 or (held > 0) == (quantity > 0):
        return Holding(quantity, signed_value, ZERO)
    if abs(quantity) <= abs(held):
        closing_value = signed_value
        released = (
            holding.cost
            if abs(quantity) == abs(held)
            else round_money(holding.cost * abs(quantity) / abs(held), currency)
        )
    else:
        closing_value = round_money(signed_value * abs(held) / abs(quantity), currency)
        released = holding.cost
    opening_value = signed_value - closing_value
    return Holding(quantity, opening_value - released, -closing_value - released)


def average_cost(holding: Holding, *, price_factor: Decimal, places: int = 8) -> Decimal | None:
    """The average price in the instrument's price terms (``price_factor`` is the cash value of
    one unit at a price of 1: 1 for shares, 0.01 for bonds priced in percent); None when flat."""
    if holding.quantity == 0:
        return None
    average = holding.cost / (holding.quantity * price_factor)
    return average.quantize(Decimal(1).scaleb(-places))
