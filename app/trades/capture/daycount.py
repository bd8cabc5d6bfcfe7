"""Bond coupon periods and accrued interest: pure, exact Decimal arithmetic, no floats, no I/O.

Coupon dates are regular and generated backwards from the maturity date. Every function returns
unrounded values; the caller rounds once, to the currency's minor units.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from enum import StrEnum
from functools import lru_cache
from typing import assert_never

from dateutil.relativedelta import relativedelta

SUPPORTED_FREQUENCIES = frozenset({1, 2, 4, 12})

# 34 digits (IEEE decimal128) keeps a quotient like 87/360 far below any currency's minor unit, so
# rounding once at the end gives the same cents as exact rational arithmetic would.
_PRECISION = 34


class DayCount(StrEnum):
    THIRTY_360 = "30/360"  # 30/360 Bond Basis, ISDA 2006 section 4.16(f)
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    ACT_ACT_ICMA = "ACT/ACT-ICMA"  # ICMA Rule 251


@dataclass(frozen=True)
class CouponPeriod:
    """The coupon period holding a settlement date.

    `start` is the previous coupon date, or the issue date in the first period; `regular_start` is
    the notional regular coupon date before `end`, equal to `start` except in a short first period.
    """

    start: date
    end: date
    regular_start: date


def _decimal_context() -> Context:
    return Context(prec=_PRECISION, rounding=ROUND_HALF_EVEN)


def _check_frequency(frequency: int) -> None:
    # bool is an int subclass; True would otherwise pass as an annual bond.
    if isinstance(frequency, bool) or frequency not in SUPPORTED_FREQUENCIES:
        raise ValueError(
            f"coupon frequency must be one of {sorted(SUPPORTED_FREQUENCIES)} per year, "
            f"not {frequency!r}"
        )


def _is_month_end(day: date) -> bool:
    return (day + relativedelta(days=1)).day == 1


def _coupon_date(maturity_date: date, step_months: int, k: int, end_of_month: bool) -> date:
    # Always offset from maturity: stepping from the previous coupon would let a clamped day
    # (30 Aug -> 28 Feb) drift into every earlier coupon (28 Aug, 28 Feb, ...).
    coupon = maturity_date - relativedelta(months=k * step_months)
    if end_of_month:
        coupon += relativedelta(day=31)  # relativedelta clamps day=31 to the month's last day
    return coupon


@lru_cache(maxsize=4096)  # pure and hashable; a batch asks the same few questions again and again
def coupon_period(
    *, settlement_date: date, issue_date: date, maturity_date: date, frequency: int
) -> CouponPeriod:
    """The period [previous coupon, next coupon) holding the settlement date.

    In the first period accrual starts at the issue date. Because the schedule is regular and
    generated back from maturity, the first period is never longer than a regular one.
    Raises ValueError for an unsupported frequency, an issue date not before maturity, or a
    settlement date before issue or on/after maturity, where no accrual is defined.
    """
    _check_frequency(frequency)
    if issue_date >= maturity_date:
        raise ValueError(f"issue date {issue_date} must be before maturity date {maturity_date}")
    if settlement_date < issue_date:
        raise ValueError(
            f"settlement date {settlement_date} is before issue date {issue_date}: "
            "no interest has accrued"
        )
    if settlement_date >= maturity_date:
        raise ValueError(
            f"settlement date {settlement_date} is on or after maturity date {maturity_date}: "
            "the bond has redeemed and there is no accrued interest"
        )

    step = 12 // frequency
    eom = _is_month_end(maturity_date)

    def coupon(k: int) -> date:
        return _coupon_date(maturity_date, step, k, eom)

    # Coupon dates strictly decrease in k, so start from a month-count estimate and walk to the
    # unique k with coupon(k + 1) <= settlement < coupon(k); coupon(0) is maturity > settlement.
    months_left = (maturity_date.year - settlement_date.year) * 12 + (
        maturity_date.month - settlement_date.month
    )
    k = max(months_left // step, 0)
    while coupon(k) <= settlement_date:
        k -= 1
    while coupon(k + 1) > settlement_date:
        k += 1

    end = coupon(k)
    previous = coupon(k + 1)
    if previous < issue_date:
        return CouponPeriod(start=issue_date, end=end, regular_start=previous)
    return CouponPeriod(start=previous, end=end, regular_start=previous)


def _days_30_360(start: date, end: date) -> int:
    d1 = 30 if start.day == 31 else start.day
    # Bond Basis moves D2 off the 31st only when D1 is the 30th or 31st (D1 is 30 after the line
    # above); unlike 30E/360 there is no end-of-February adjustment.
    d2 = 30 if end.day == 31 and d1 == 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def _fraction_terms(
    *, day_count: DayCount, start: date, end: date, period: CouponPeriod, frequency: int
) -> tuple[int, int]:
    """Numerator and denominator of the year fraction, kept as integers so it divides once."""
    _check_frequency(frequency)
    # Accept the plain string ("30/360") as stored on a bond, and reject unknown conventions.
    day_count = DayCount(day_count)
    if end < start:
        raise ValueError(f"accrual end {end} is before accrual start {start}")

    if day_count is DayCount.THIRTY_360:
        return _days_30_360(start, end), 360
    if day_count is DayCount.ACT_360:
        return (end - start).days, 360
    if day_count is DayCount.ACT_365F:
        return (end - start).days, 365
    if day_count is DayCount.ACT_ACT_ICMA:
        if period.start < period.regular_start:
            raise NotImplementedError(
                "ACT/ACT-ICMA over a long coupon period (start before the notional regular "
                "start) needs a sum over notional regular periods, which is not implemented; "
                "coupon_period never builds such a period"
            )
        if start < period.start or end > period.end:
            raise ValueError(
                f"ACT/ACT-ICMA accrual {start}..{end} must lie within the coupon period "
                f"{period.start}..{period.end}"
            )
        return (end - start).days, frequency * (period.end - period.regular_start).days
    assert_never(day_count)


def accrual_fraction(
    *, day_count: DayCount, start: date, end: date, period: CouponPeriod, frequency: int
) -> Decimal:
    """Year fraction from start to end, unrounded.

    For ACT/ACT-ICMA this is days / (frequency * days in [period.regular_start, period.end]), so
    a short first period is measured against the notional regular period. A long period (start
    before regular_start) raises NotImplementedError; other day counts ignore `period`.
    """
    numerator, denominator = _fraction_terms(
        day_count=day_count, start=start, end=end, period=period, frequency=frequency
    )
    with localcontext(_decimal_context()):
        return Decimal(numerator) / Decimal(denominator)


@lru_cache(maxsize=4096, typed=True)  # a batch's bonds settle on a few dates
def _accrual_terms(
    day_count: DayCount, issue_date: date, maturity_date: date, frequency: int, settled: date
) -> tuple[int, int]:
    """The year fraction's terms from the start of the coupon period ``settled`` falls in."""
    period = coupon_period(
        settlement_date=settled,
        issue_date=issue_date,
        maturity_date=maturity_date,
        frequency=frequency,
    )
    return _fraction_terms(
        day_count=day_count, start=period.start, end=settled, period=period, frequency=frequency
    )


def accrued_interest(
    *,
    nominal: Decimal,
    coupon_rate: Decimal,
    frequency: int,
    day_count: DayCount,
    issue_date: date,
    maturity_date: date,
    settlement_date: date,
) -> Decimal:
    """Interest accrued from the start of the settlement date's coupon period, unrounded.

    `coupon_rate` is an annual fraction (0.025 = 2.5 %). Settlement on a coupon date or on the
    issue date accrues zero; ValueError as for `coupon_period`.
    """
    if not nominal.is_finite() or not coupon_rate.is_finite():
        raise ValueError("nominal and coupon rate must be finite numbers")
    numerator, denominator = _accrual_terms(
        day_count, issue_date, maturity_date, frequency, settlement_date
    )
    # Multiply before dividing so the one inexact operation is the final division.
    with localcontext(_decimal_context()):
        return nominal * coupon_rate * numerator / Decimal(denominator)
