"""One settlement attempt, pure: DVP all or nothing, or a partial under the T2S rules.

- Partial settlement only for a lack of securities of the deliverer, never for a lack of cash:
  a payer short of cash fails the whole instruction (MONY, or CMON for the counterparty).
- Partial in whole settlement units of the ISIN, only when both legs allow it (NPAR refuses),
  a PARQ leg only for at least the ISIN's quantity threshold, a PARC leg only for at least the
  currency's cash threshold, and only within a partial settlement window.
- The cash of a partial is the remaining amount pro rata, rounded to the currency's minor unit.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from csd_sim.messages.advice import Reason

# ISO 4217 minor units where they are not 2 (the currencies a demo may meet).
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CHF": 2, "BHD": 3, "KWD": 3}


def lack_of_securities(*, ours: bool) -> Reason:
    if ours:
        return Reason("LACK", "Insufficient securities in your account")
    return Reason("CLAC", "Counterparty insufficient securities")


def lack_of_cash(*, ours: bool) -> Reason:
    if ours:
        return Reason("MONY", "Insufficient money in your account")
    return Reason("CMON", "Counterparty insufficient money")


@dataclass(frozen=True)
class PartialRules:
    """What the partial settlement rules need to know of one attempt."""

    indicators: tuple[str, str]
    unit: Decimal
    quantity_threshold: Decimal
    cash_threshold: Decimal
    window_open: bool


@dataclass(frozen=True)
class Attempt:
    remaining: Decimal
    remaining_amount: Decimal | None
    currency: str | None
    # What the deliverer holds and the payer has (None: without limit).
    deliverer_holds: Decimal | None
    payer_has: Decimal | None
    deliverer_is_us: bool
    payer_is_us: bool


@dataclass(frozen=True)
class Outcome:
    quantity: Decimal
    amount: Decimal | None
    # Why (more) did not settle; empty when everything remaining settled.
    reasons: tuple[Reason, ...]


def pro_rata(amount: Decimal, part: Decimal, whole: Decimal, currency: str | None) -> Decimal:
    exponent = Decimal(1).scaleb(-_MINOR_UNITS.get(currency or "", 2))
    return (amount * part / whole).quantize(exponent, rounding=ROUND_HALF_EVEN)


def partial_quantity(attempt: Attempt, rules: PartialRules) -> Decimal:
    """The most that may settle now in part (0: no partial), given what the deliverer holds."""
    if not rules.window_open or "NPAR" in rules.indicators or attempt.deliverer_holds is None:
        return Decimal(0)
    units = (attempt.deliverer_holds / rules.unit).to_integral_value(rounding=ROUND_DOWN)
    quantity = min(units * rules.unit, attempt.remaining)
    if quantity <= 0:
        return Decimal(0)
    if "PARQ" in rules.indicators and quantity < rules.quantity_threshold:
        return Decimal(0)
    if "PARC" in rules.indicators:
        amount = Decimal(0)
        if attempt.remaining_amount is not None:
            amount = pro_rata(
                attempt.remaining_amount, quantity, attempt.remaining, attempt.currency
            )
        if amount < rules.cash_threshold:
            return Decimal(0)
    return quantity


def _cash_short(attempt: Attempt, amount: Decimal | None) -> bool:
    return amount is not None and attempt.payer_has is not None and attempt.payer_has < amount


def settle(attempt: Attempt, rules: PartialRules) -> Outcome:
    """What settles now of what remains: all of it, a part, or nothing (with the reasons)."""
    short_of_securities = (
        attempt.deliverer_holds is not None and attempt.deliverer_holds < attempt.remaining
    )
    short_of_cash = _cash_short(attempt, attempt.remaining_amount)
    if not short_of_securities and not short_of_cash:
        return Outcome(attempt.remaining, attempt.remaining_amount, ())
    securities = lack_of_securities(ours=attempt.deliverer_is_us)
    cash = lack_of_cash(ours=attempt.payer_is_us)
    if not short_of_securities:
        return Outcome(Decimal(0), None, (cash,))
    quantity = partial_quantity(attempt, rules)
    amount = None
    if attempt.remaining_amount is not None and quantity > 0:
        amount = pro_rata(attempt.remaining_amount, quantity, attempt.remaining, attempt.currency)
    if quantity == 0 or _cash_short(attempt, amount):
        reasons = (securities, cash) if short_of_cash else (securities,)
        return Outcome(Decimal(0), None, reasons)
    return Outcome(quantity, amount, (securities,))
