"""CSDR cash penalties, one line per business day. Pure: plain values in, plain values out.

The formula is the one CSDs apply under Article 7(2) of Regulation (EU) No 909/2014 (CSDR) and
Commission Delegated Regulation (EU) 2017/389, as amended by (EU) 2021/70 and by the 2025 review
of the parameters; the rates are effective-dated data (``/penalty-rates``), never constants here.

For each penalised business day::

    amount = round_money(basis x rate / rate_divisor, currency)      (ROUND_HALF_EVEN)

- **rate**: lack of securities: the daily rate of the instrument's class (Annex of 2017/389:
  liquid shares 1.0 bp, illiquid shares 0.5, SME growth market shares 0.25, sovereign debt 0.10,
  other debt 0.20, SME growth market debt 0.15, everything else 0.50). Lack of cash: the official
  overnight credit rate of the central bank issuing the settlement currency (for the euro the
  ECB's marginal lending facility), an annual rate, floored at zero, divided by 365
  (``rate_divisor``). The rate in force is the one with the latest ``effective_from`` on or
  before that day, so a rate change in the middle of a fail applies from its date on.
- **basis**: the failed quantity x that day's reference price (2017/389 Art. 3(2): the reference
  price is the basis for every fail, whether it is for lack of securities or of cash); a price in
  percent of nominal is divided by 100. An instruction with no securities leg (payment free of
  delivery: ``isin`` None) takes the failed cash amount instead (ESMA CSDR Q&A, settlement
  discipline, cash penalties: calculation, answer (f)).
- **settlement-fail** (SEFP): each business day, from the intended settlement date on, at whose
  end the instruction (matched) is still unsettled, on the quantity still failing after any
  partial settlement of that day (T2S: the remaining quantity at the relevant cut-off).
- **late-matching-fail** (LMFP): computed once, on the matching day, for each business day from
  the intended settlement date (included) up to the matching day *excluded* when the instruction
  matched before the end of that day's settlement processing, *included* when it matched after
  it (SWIFT MT548 field 99A ``DAAC`` and T2S: "from the ISD until, and including/excluding, the
  business day where the instruction is matched"). The basis is the instruction's original
  quantity (T2S) at each of those days' reference price, with each day's rate.
- The failing party pays; the CSD redistributes to the other side.

A missing reference price is never a zero penalty: the day gets no line and is listed in
``PenaltyResult.missing_prices`` (ISIN and date), so the caller can load the price and compute
again; the lines of the other days stand. A rate missing for a day is a configuration error and
raises ``RateNotFound``. Business days come from the caller (the settlement calendar): a day
not among them is a holiday and never penalised.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum

from app.core.money import round_money

CASH_SCOPE_PREFIX = "cash:"
DAYS_IN_YEAR = 365
PERCENT = Decimal(100)
# Wide enough that quantity x price x rate is exact; only the cash rate's / 365 is inexact, and
# a non-terminating quotient can never sit exactly on a half minor unit.
_PRECISION = 60


class FailReason(StrEnum):
    LACK_OF_SECURITIES = "lack_of_securities"
    LACK_OF_CASH = "lack_of_cash"


class PenaltyKind(StrEnum):
    SETTLEMENT_FAIL = "settlement_fail"
    LATE_MATCHING_FAIL = "late_matching_fail"


class Party(StrEnum):
    US = "us"
    COUNTERPARTY = "counterparty"


@dataclass(frozen=True)
class Fail:
    """The failing (or late-matched) instruction, as far as the penalty depends on it."""

    isin: str | None  # None: no securities leg, the basis is the failed cash
    csdr_class: str
    reason: FailReason  # chooses the rate: the class's (securities) or the currency's (cash)
    currency: str
    failing_party: Party
    percent_of_nominal: bool = False  # bonds: price in percent, quantity in nominal


@dataclass(frozen=True)
class FailDay:
    """One calendar day of a settlement fail, as it stood at the end of that day."""

    day: date
    failed_quantity: Decimal  # after any partial settlement that day
    reference_price: Decimal | None
    failed_cash: Decimal


@dataclass(frozen=True)
class EffectiveRate:
    """A row of the rate table: ``scope`` is a CSDR class or ``cash:<currency>``."""

    scope: str
    rate: Decimal
    effective_from: date


@dataclass(frozen=True)
class PenaltyLine:
    day: date
    kind: PenaltyKind
    basis: Decimal
    rate: Decimal  # as in force that day: daily for securities, annual (floored) for cash
    rate_divisor: int  # 1, or 365 for the annual cash rate
    amount: Decimal
    currency: str
    payer: Party


@dataclass(frozen=True)
class MissingPrice:
    isin: str
    day: date


@dataclass(frozen=True)
class PenaltyResult:
    lines: tuple[PenaltyLine, ...]
    missing_prices: tuple[MissingPrice, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_prices

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


class RateNotFound(LookupError):
    def __init__(self, scope: str, day: date) -> None:
        super().__init__(f"no {scope} penalty rate is in force on {day.isoformat()}")
        self.scope = scope
        self.day = day


def rate_scope(fail: Fail) -> str:
    if fail.reason is FailReason.LACK_OF_CASH:
        return f"{CASH_SCOPE_PREFIX}{fail.currency}"
    return fail.csdr_class


def rate_in_force(rates: Iterable[EffectiveRate], *, scope: str, day: date) -> Decimal:
    """The rate of ``scope`` with the latest ``effective_from`` on or before ``day``."""
    candidates = [r for r in rates if r.scope == scope and r.effective_from <= day]
    if not candidates:
        raise RateNotFound(scope, day)
    return max(candidates, key=lambda r: r.effective_from).rate


def settlement_fail_penalties(
    *,
    fail: Fail,
    days: Sequence[FailDay],
    rates: Sequence[EffectiveRate],
    business_days: Collection[date],
) -> PenaltyResult:
    """One settlement-fail line per business day among ``days`` (the days it failed)."""
    outcomes = [
        _outcome(
            fail,
            PenaltyKind.SETTLEMENT_FAIL,
            day=fact.day,
            quantity=fact.failed_quantity,
            price=fact.reference_price,
            cash=fact.failed_cash,
            rates=rates,
        )
        for fact in sorted(days, key=lambda fact: fact.day)
        if fact.day in business_days
    ]
    return _result(outcomes)


def late_matching_days(
    *,
    intended_settlement_date: date,
    matching_date: date,
    matched_after_cutoff: bool,
    business_days: Iterable[date],
) -> list[date]:
    """The business days a late match is penalised for (bounds in the module docstring)."""

    def late(day: date) -> bool:
        if day == matching_date:
            return matched_after_cutoff
        return intended_settlement_date <= day < matching_date

    return sorted(day for day in set(business_days) if late(day))


def late_matching_fail_penalties(
    *,
    fail: Fail,
    intended_settlement_date: date,
    matching_date: date,
    matched_after_cutoff: bool,
    quantity: Decimal,
    cash_amount: Decimal,
    reference_prices: Mapping[date, Decimal | None],
    rates: Sequence[EffectiveRate],
    business_days: Collection[date],
) -> PenaltyResult:
    """One late-matching-fail line per late business day, each at that day's price and rate;
    a day absent from ``reference_prices`` is a missing price."""
    late_days = late_matching_days(
        intended_settlement_date=intended_settlement_date,
        matching_date=matching_date,
        matched_after_cutoff=matched_after_cutoff,
        business_days=business_days,
    )
    outcomes = [
        _outcome(
            fail,
            PenaltyKind.LATE_MATCHING_FAIL,
            day=day,
            quantity=quantity,
            price=reference_prices.get(day),
            cash=cash_amount,
            rates=rates,
        )
        for day in late_days
    ]
    return _result(outcomes)


def _outcome(
    fail: Fail,
    kind: PenaltyKind,
    *,
    day: date,
    quantity: Decimal,
    price: Decimal | None,
    cash: Decimal,
    rates: Sequence[EffectiveRate],
) -> PenaltyLine | MissingPrice:
    if fail.isin is None:
        basis = cash
    elif price is None:
        return MissingPrice(isin=fail.isin, day=day)
    else:
        basis = _securities_value(quantity, price, percent=fail.percent_of_nominal)
    rate = rate_in_force(rates, scope=rate_scope(fail), day=day)
    divisor = 1
    if fail.reason is FailReason.LACK_OF_CASH:
        rate, divisor = max(rate, Decimal(0)), DAYS_IN_YEAR
    return PenaltyLine(
        day=day,
        kind=kind,
        basis=basis,
        rate=rate,
        rate_divisor=divisor,
        amount=penalty_amount(basis, rate, divisor, fail.currency),
        currency=fail.currency,
        payer=fail.failing_party,
    )


def penalty_amount(basis: Decimal, rate: Decimal, divisor: int, currency: str) -> Decimal:
    with localcontext() as context:
        context.prec = _PRECISION
        return round_money(basis * rate / divisor, currency)


def _securities_value(quantity: Decimal, price: Decimal, *, percent: bool) -> Decimal:
    with localcontext() as context:
        context.prec = _PRECISION
        value = quantity * price
        return value / PERCENT if percent else value


def _result(outcomes: Sequence[PenaltyLine | MissingPrice]) -> PenaltyResult:
    return PenaltyResult(
        lines=tuple(o for o in outcomes if isinstance(o, PenaltyLine)),
        missing_prices=tuple(o for o in outcomes if isinstance(o, MissingPrice)),
    )
