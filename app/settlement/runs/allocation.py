"""Which instructions a settlement run settles, and how much of each. Pure: plain values in,
plain values out.

Instructions are taken in the order given (priority, then age). Each settles all or nothing
against what our safekeeping and cash accounts hold, counting what the instructions before it
in the same run delivered or paid: an instruction that receives securities makes them available
to a later one that delivers them. What cannot settle fails with a reason: ``LACK`` when our
securities account is short, ``MONY`` when our cash account is. Where partial settlement is
allowed, a shortfall settles the largest whole multiple of the instrument's settlement unit that
both accounts cover, with the cash pro rata rounded to the currency's minor units; the rest stays
to settle, failing with the reason that held it back.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from app.core.money import round_money

ZERO = Decimal(0)

# A balance: (our account code, asset: an ISIN or a currency).
Holding = tuple[str, str]


class FailReason(StrEnum):
    LACK = "LACK"  # lack of securities
    MONY = "MONY"  # insufficient money


@dataclass(frozen=True)
class Candidate:
    """What is left to settle of one instruction, seen from us: ``quantity`` and ``amount`` are
    signed, positive received, negative delivered or paid."""

    instruction_id: str
    securities_account: str
    cash_account: str
    isin: str
    currency: str
    quantity: Decimal
    amount: Decimal
    partial_allowed: bool
    settlement_unit: Decimal

    @property
    def securities(self) -> Holding:
        return (self.securities_account, self.isin)

    @property
    def cash(self) -> Holding:
        return (self.cash_account, self.currency)


@dataclass(frozen=True)
class Allocation:
    """``quantity`` and ``amount`` settled now (signed like the candidate's); ``fail_reason`` is
    set when something is left to settle."""

    instruction_id: str
    quantity: Decimal
    amount: Decimal
    fail_reason: FailReason | None

    @property
    def settled_anything(self) -> bool:
        return self.quantity != 0 or self.amount != 0


def _pro_rata(candidate: Candidate, quantity: Decimal) -> Decimal:
    """The cash for settling ``quantity`` of the candidate's remaining quantity."""
    if quantity == candidate.quantity:
        return candidate.amount
    return round_money(candidate.amount * quantity / candidate.quantity, candidate.currency)


def _whole_units(quantity: Decimal, unit: Decimal) -> Decimal:
    return (quantity / unit).to_integral_value(ROUND_FLOOR) * unit


def _largest_partial(candidate: Candidate, securities: Decimal, cash: Decimal) -> Decimal:
    """The largest whole number of settlement units (signed like the candidate) that the
    available securities and cash cover; zero when not even one unit is."""
    wanted = abs(candidate.quantity)
    covered = wanted if candidate.quantity > 0 else min(wanted, max(securities, ZERO))
    if candidate.amount < 0:
        # Pay pro rata: units the cash covers, before rounding to minor units.
        by_cash = max(cash, ZERO) * wanted / abs(candidate.amount)
        covered = min(covered, by_cash)
    # The exact pro-rata cash of these units is at most the cash there, which is a whole
    # number of minor units, so rounding it to minor units cannot take it above.
    units = _whole_units(covered, candidate.settlement_unit)
    return units if candidate.quantity > 0 else -units


def allocate(
    candidates: Iterable[Candidate], available: Mapping[Holding, Decimal]
) -> tuple[list[Allocation], dict[Holding, Decimal]]:
    """Settle the candidates in order against ``available`` (what our accounts hold; a
    missing holding is zero). Returns an allocation per candidate and what is left."""
    left = dict(available)
    allocations = []
    for candidate in candidates:
        securities = left.get(candidate.securities, ZERO)
        cash = left.get(candidate.cash, ZERO)
        lacks = securities + candidate.quantity < 0
        short_of_money = cash + candidate.amount < 0
        if not lacks and not short_of_money:
            quantity, amount, reason = candidate.quantity, candidate.amount, None
        else:
            reason = FailReason.LACK if lacks else FailReason.MONY
            quantity = amount = ZERO
            if candidate.partial_allowed and candidate.quantity != 0:
                quantity = _largest_partial(candidate, securities, cash)
                amount = _pro_rata(candidate, quantity) if quantity else ZERO
        left[candidate.securities] = securities + quantity
        left[candidate.cash] = cash + amount
        allocations.append(Allocation(candidate.instruction_id, quantity, amount, reason))
    return allocations, left
