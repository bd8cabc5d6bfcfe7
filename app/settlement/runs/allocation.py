"""Which instructions a settlement run settles, and how much of each. Pure: plain values in,
plain values out.

Instructions are taken in the order given (priority, then age). Each settles all or nothing
against what our safekeeping and cash accounts hold, counting what the instructions before it
in the same run delivered or paid: an instruction that receives securities makes them available
to a later one that delivers them. What cannot settle fails with a reason: ``LACK`` when our
securities account is short (whether or not the cash account is too), ``MONY`` when only our
cash account is.

Partial settlement follows T2S. It is tried only for lack of securities, never for lack of
cash: a ``MONY`` shortfall fails the whole instruction whatever its partial indicator. It needs
an indicator other than ``NPAR`` and the run's moment inside a partial settlement window of the
instruction's market. A partial settles the largest whole multiple of the instrument's
settlement unit that both accounts cover (the cash there still caps it when both are short),
with the cash pro rata rounded to the currency's minor units; under ``PARQ`` not below the
quantity threshold, under ``PARC`` not below the cash threshold of the instruction's currency
(an instruction free of payment settles no cash, so none of it under a cash threshold). The
rest stays to settle, failing ``LACK``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from app.core.money import round_money
from app.reference.partial import PartialIndicator

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
    settlement_unit: Decimal
    partial: PartialIndicator = PartialIndicator.NPAR
    # PARQ: the least quantity a partial settles; None: one settlement unit.
    partial_quantity_threshold: Decimal | None = None
    # PARC: the least cash a partial settles, in the candidate's currency; None: no threshold.
    partial_cash_threshold: Decimal | None = None
    # Whether the run's moment is in a partial settlement window of the instruction's market.
    in_partial_window: bool = True

    @property
    def may_settle_in_part(self) -> bool:
        """Whether a shortfall of securities may settle in part now (thresholds aside)."""
        return (
            self.partial != PartialIndicator.NPAR and self.in_partial_window and bool(self.quantity)
        )

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


def _partial(candidate: Candidate, securities: Decimal, cash: Decimal) -> tuple[Decimal, Decimal]:
    """The quantity and cash a candidate short of securities settles now: the largest partial,
    unless its indicator, the window or a threshold allows none (then zero and zero)."""
    if not candidate.may_settle_in_part:
        return ZERO, ZERO
    quantity = _largest_partial(candidate, securities, cash)
    if not quantity:
        return ZERO, ZERO
    amount = _pro_rata(candidate, quantity)
    if candidate.partial == PartialIndicator.PARQ:
        least = candidate.partial_quantity_threshold
        if least is not None and abs(quantity) < least:
            return ZERO, ZERO
    if candidate.partial == PartialIndicator.PARC:
        least = candidate.partial_cash_threshold
        if least is not None and abs(amount) < least:
            return ZERO, ZERO
    return quantity, amount


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
        elif lacks:
            quantity, amount = _partial(candidate, securities, cash)
            reason = FailReason.LACK
        else:  # never partial for lack of cash
            quantity, amount, reason = ZERO, ZERO, FailReason.MONY
        left[candidate.securities] = securities + quantity
        left[candidate.cash] = cash + amount
        allocations.append(Allocation(candidate.instruction_id, quantity, amount, reason))
    return allocations, left
