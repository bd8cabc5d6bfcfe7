"""Worked examples for the day-count module; every expected value is hand arithmetic."""

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.trades.capture.daycount import (
    CouponPeriod,
    DayCount,
    accrual_fraction,
    accrued_interest,
    coupon_period,
)

CENT = Decimal("0.01")
# The module divides once at 34 significant digits, so "exact" means equal to the rational to 32.
EXACT = Fraction(1, 10**32)

# Bond A: 1,000,000 nominal, 2.5 % semi-annual, coupons 15 Mar / 15 Sep, 2020-03-15 .. 2030-03-15.
NOMINAL = Decimal("1000000")
RATE = Decimal("0.025")
ISSUE = date(2020, 3, 15)
MATURITY = date(2030, 3, 15)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def assert_exact(actual: Decimal, expected: Fraction) -> None:
    assert abs(Fraction(actual) - expected) <= abs(expected) * EXACT


def bond_a(day_count: DayCount, settlement: date) -> Decimal:
    return accrued_interest(
        nominal=NOMINAL,
        coupon_rate=RATE,
        frequency=2,
        day_count=day_count,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        settlement_date=settlement,
    )


def bond_a_with(*, frequency: int, settlement: date) -> Decimal:
    return accrued_interest(
        nominal=NOMINAL,
        coupon_rate=RATE,
        frequency=frequency,
        day_count=DayCount.ACT_ACT_ICMA,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        settlement_date=settlement,
    )


# Settlement 2025-06-11 in the period 2025-03-15 .. 2025-09-15.
# Actual days 15 Mar -> 11 Jun: 16 (rest of Mar) + 30 (Apr) + 31 (May) + 11 (Jun) = 88.
# 30/360 days: 30 * (6 - 3) + (11 - 15) = 86.
# Regular period 15 Mar -> 15 Sep: 16 + 30 + 31 + 30 + 31 + 31 + 15 = 184 actual days.
@pytest.mark.parametrize(
    ("day_count", "expected", "expected_cents"),
    [
        (DayCount.THIRTY_360, Fraction(1_000_000) * Fraction("0.025") * 86 / 360, "5972.22"),
        (DayCount.ACT_360, Fraction(1_000_000) * Fraction("0.025") * 88 / 360, "6111.11"),
        (DayCount.ACT_365F, Fraction(1_000_000) * Fraction("0.025") * 88 / 365, "6027.40"),
        (DayCount.ACT_ACT_ICMA, Fraction(1_000_000) * Fraction("0.025") / 2 * 88 / 184, "5978.26"),
    ],
)
def test_mid_period_accrual_for_each_day_count(
    day_count: DayCount, expected: Fraction, expected_cents: str
) -> None:
    accrued = bond_a(day_count, date(2025, 6, 11))
    assert_exact(accrued, expected)
    assert cents(accrued) == Decimal(expected_cents)


# 30/360 Bond Basis: D1 = 31 -> 30; D2 = 31 -> 30 only when D1 is 30 or 31; no February rule.
@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # 31st to 31st: both become 30 -> 30 * (3 - 1) + (30 - 30)
        (date(2025, 1, 31), date(2025, 3, 31), 60),
        # 30th to 31st: D1 is 30, so D2 becomes 30 -> 30 * (7 - 4) + (30 - 30)
        (date(2025, 4, 30), date(2025, 7, 31), 90),
        # 29th to 31st: D1 < 30, so D2 stays 31 -> 30 * (5 - 4) + (31 - 29)
        (date(2025, 4, 29), date(2025, 5, 31), 32),
        # mid-month to 31st: D2 stays 31 -> 31 - 15
        (date(2025, 1, 15), date(2025, 1, 31), 16),
        # 31 Aug to Feb end: D1 -> 30 -> 360 * 1 + 30 * (2 - 8) + (28 - 30)
        (date(2024, 8, 31), date(2025, 2, 28), 178),
        # Feb end (28) to 31 Aug: no Feb adjustment, D2 stays 31 -> 30 * (8 - 2) + (31 - 28)
        (date(2025, 2, 28), date(2025, 8, 31), 183),
        # leap Feb end (29) to 31 Aug -> 30 * (8 - 2) + (31 - 29)
        (date(2024, 2, 29), date(2024, 8, 31), 182),
        # year end: D1 and D2 -> 30 -> 360 * 1 + 30 * (1 - 12) + (30 - 30)
        (date(2024, 12, 31), date(2025, 1, 31), 30),
        # a full regular semi-annual period -> 30 * 6
        (date(2025, 3, 15), date(2025, 9, 15), 180),
    ],
)
def test_thirty_360_bond_basis_day_counting(start: date, end: date, days: int) -> None:
    period = CouponPeriod(start=start, end=end, regular_start=start)
    fraction = accrual_fraction(
        day_count=DayCount.THIRTY_360, start=start, end=end, period=period, frequency=2
    )
    assert_exact(fraction, Fraction(days, 360))


@pytest.mark.parametrize(
    ("maturity", "frequency", "settlement", "expected_start", "expected_end"),
    [
        # 31 Aug maturity is a month end, so every coupon is a month end: 29/28 Feb and 31 Aug.
        (date(2030, 8, 31), 2, date(2024, 3, 15), date(2024, 2, 29), date(2024, 8, 31)),
        (date(2030, 8, 31), 2, date(2025, 3, 15), date(2025, 2, 28), date(2025, 8, 31)),
        (date(2030, 8, 31), 2, date(2024, 8, 31), date(2024, 8, 31), date(2025, 2, 28)),
        (date(2030, 8, 31), 2, date(2025, 2, 28), date(2025, 2, 28), date(2025, 8, 31)),
        # 30 Nov is a month end too, so the May coupon is the 31st, not the 30th.
        (date(2030, 11, 30), 2, date(2025, 6, 15), date(2025, 5, 31), date(2025, 11, 30)),
        # 28 Feb 2030 is a month end: coupons 31 Aug and 28/29 Feb.
        (date(2030, 2, 28), 2, date(2024, 3, 15), date(2024, 2, 29), date(2024, 8, 31)),
        # 30 Aug is not a month end: Feb clamps to 28/29 but Aug stays 30 (no drift to 28 Aug).
        (date(2030, 8, 30), 2, date(2024, 9, 15), date(2024, 8, 30), date(2025, 2, 28)),
        (date(2030, 8, 30), 2, date(2024, 3, 15), date(2024, 2, 29), date(2024, 8, 30)),
        (date(2030, 3, 15), 1, date(2025, 6, 11), date(2025, 3, 15), date(2026, 3, 15)),
        (date(2030, 3, 15), 4, date(2025, 5, 1), date(2025, 3, 15), date(2025, 6, 15)),
        (date(2030, 3, 15), 12, date(2025, 5, 1), date(2025, 4, 15), date(2025, 5, 15)),
        # monthly, month-end maturity: 29 Feb, 31 Mar, 30 Apr ...
        (date(2030, 1, 31), 12, date(2024, 2, 29), date(2024, 2, 29), date(2024, 3, 31)),
        (date(2030, 1, 31), 12, date(2024, 4, 15), date(2024, 3, 31), date(2024, 4, 30)),
        # the day before maturity is in the last period
        (date(2030, 3, 15), 2, date(2030, 3, 14), date(2029, 9, 15), date(2030, 3, 15)),
    ],
)
def test_coupon_period_regular_schedule(
    maturity: date, frequency: int, settlement: date, expected_start: date, expected_end: date
) -> None:
    period = coupon_period(
        settlement_date=settlement,
        issue_date=date(2015, 1, 1),
        maturity_date=maturity,
        frequency=frequency,
    )
    assert period == CouponPeriod(
        start=expected_start, end=expected_end, regular_start=expected_start
    )


# 5 % on 1,000,000 semi-annual, maturing 31 Aug 2030; settlement 31 Mar 2025 in 28 Feb .. 31 Aug.
# 30/360: D1 = 28 (no Feb rule), D2 stays 31 -> 30 * (3 - 2) + (31 - 28) = 33.
# Actual: 28 Feb -> 31 Mar = 31; regular period 28 Feb -> 31 Aug = 31+30+31+30+31+31 = 184.
@pytest.mark.parametrize(
    ("day_count", "expected", "expected_cents"),
    [
        (DayCount.THIRTY_360, Fraction(1_000_000) * Fraction("0.05") * 33 / 360, "4583.33"),
        (DayCount.ACT_360, Fraction(1_000_000) * Fraction("0.05") * 31 / 360, "4305.56"),
        (DayCount.ACT_365F, Fraction(1_000_000) * Fraction("0.05") * 31 / 365, "4246.58"),
        (DayCount.ACT_ACT_ICMA, Fraction(1_000_000) * Fraction("0.05") / 2 * 31 / 184, "4211.96"),
    ],
)
def test_end_of_month_semi_annual_bond(
    day_count: DayCount, expected: Fraction, expected_cents: str
) -> None:
    accrued = accrued_interest(
        nominal=Decimal("1000000"),
        coupon_rate=Decimal("0.05"),
        frequency=2,
        day_count=day_count,
        issue_date=date(2020, 8, 31),
        maturity_date=date(2030, 8, 31),
        settlement_date=date(2025, 3, 31),
    )
    assert_exact(accrued, expected)
    assert cents(accrued) == Decimal(expected_cents)


@pytest.mark.parametrize("day_count", list(DayCount))
@pytest.mark.parametrize(
    "settlement",
    [ISSUE, date(2025, 3, 15), date(2025, 9, 15), date(2029, 9, 15)],
)
def test_settlement_on_coupon_or_issue_date_accrues_zero(
    day_count: DayCount, settlement: date
) -> None:
    assert bond_a(day_count, settlement) == 0


# Issued 10 May 2025 into Bond A's schedule: short first period 10 May -> 15 Sep 2025, whose
# notional regular period is 15 Mar -> 15 Sep 2025 (184 days). Settlement 10 Jul 2025:
# actual days 10 May -> 10 Jul = 21 + 30 + 10 = 61; 30/360 days = 30 * (7 - 5) + (10 - 10) = 60.
SHORT_ISSUE = date(2025, 5, 10)


def test_short_first_period_starts_at_issue_date() -> None:
    period = coupon_period(
        settlement_date=date(2025, 7, 10),
        issue_date=SHORT_ISSUE,
        maturity_date=MATURITY,
        frequency=2,
    )
    assert period == CouponPeriod(
        start=SHORT_ISSUE, end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )


def test_bond_shorter_than_one_period() -> None:
    period = coupon_period(
        settlement_date=date(2025, 7, 10),
        issue_date=date(2025, 6, 1),
        maturity_date=date(2025, 9, 15),
        frequency=2,
    )
    assert period == CouponPeriod(
        start=date(2025, 6, 1), end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )


@pytest.mark.parametrize(
    ("day_count", "settlement", "expected", "expected_cents"),
    [
        (DayCount.ACT_ACT_ICMA, date(2025, 7, 10), Fraction(25_000) / 2 * 61 / 184, "4144.02"),
        (DayCount.THIRTY_360, date(2025, 7, 10), Fraction(25_000) * 60 / 360, "4166.67"),
        (DayCount.ACT_360, date(2025, 7, 10), Fraction(25_000) * 61 / 360, "4236.11"),
        (DayCount.ACT_365F, date(2025, 7, 10), Fraction(25_000) * 61 / 365, "4178.08"),
        # the day before the first coupon: 10 May -> 14 Sep = 21 + 30 + 31 + 31 + 14 = 127 days;
        # the short coupon itself is 12,500 * 128 / 184
        (DayCount.ACT_ACT_ICMA, date(2025, 9, 14), Fraction(25_000) / 2 * 127 / 184, "8627.72"),
        (DayCount.ACT_ACT_ICMA, SHORT_ISSUE, Fraction(0), "0.00"),
    ],
)
def test_short_first_period_accrual(
    day_count: DayCount, settlement: date, expected: Fraction, expected_cents: str
) -> None:
    # 1,000,000 * 0.025 = 25,000 a year
    accrued = accrued_interest(
        nominal=NOMINAL,
        coupon_rate=RATE,
        frequency=2,
        day_count=day_count,
        issue_date=SHORT_ISSUE,
        maturity_date=MATURITY,
        settlement_date=settlement,
    )
    assert_exact(accrued, expected)
    assert cents(accrued) == Decimal(expected_cents)


# 4 % annual on 1,000,000 (40,000 a year), coupons 1 Jul, maturing 1 Jul 2030.
# The period 1 Jul 2023 -> 1 Jul 2024 holds 29 Feb 2024, so it is 366 days; 2024-25 is 365.
# 1 Jul 2023 -> 1 Apr 2024: 31+31+30+31+30+31+31+29+31 = 275; to 30 Jun 2024: 365.
# 1 Jul 2024 -> 1 Apr 2025: 31+31+30+31+30+31+31+28+31 = 274.
@pytest.mark.parametrize(
    ("day_count", "settlement", "expected", "expected_cents"),
    [
        (DayCount.ACT_365F, date(2024, 4, 1), Fraction(40_000) * 275 / 365, "30136.99"),
        (DayCount.ACT_ACT_ICMA, date(2024, 4, 1), Fraction(40_000) / 1 * 275 / 366, "30054.64"),
        # a day before the coupon ACT/365F already accrues the whole coupon; ICMA does not
        (DayCount.ACT_365F, date(2024, 6, 30), Fraction(40_000) * 365 / 365, "40000.00"),
        (DayCount.ACT_ACT_ICMA, date(2024, 6, 30), Fraction(40_000) / 1 * 365 / 366, "39890.71"),
        # outside a leap year the two agree
        (DayCount.ACT_365F, date(2025, 4, 1), Fraction(40_000) * 274 / 365, "30027.40"),
        (DayCount.ACT_ACT_ICMA, date(2025, 4, 1), Fraction(40_000) / 1 * 274 / 365, "30027.40"),
    ],
)
def test_leap_year_act_365f_against_act_act_icma(
    day_count: DayCount, settlement: date, expected: Fraction, expected_cents: str
) -> None:
    accrued = accrued_interest(
        nominal=Decimal("1000000"),
        coupon_rate=Decimal("0.04"),
        frequency=1,
        day_count=day_count,
        issue_date=date(2020, 7, 1),
        maturity_date=date(2030, 7, 1),
        settlement_date=settlement,
    )
    assert_exact(accrued, expected)
    assert cents(accrued) == Decimal(expected_cents)


def test_accrued_interest_keeps_full_precision() -> None:
    # 25,000 * 86 / 360 = 5972.2222...; the caller rounds, so more than 2 places come back.
    accrued = bond_a(DayCount.THIRTY_360, date(2025, 6, 11))
    assert accrued != cents(accrued)
    assert Decimal("5972.2222222222222222") < accrued < Decimal("5972.2222222222222223")


def test_day_count_accepts_its_string_value() -> None:
    period = CouponPeriod(
        start=date(2025, 1, 31), end=date(2025, 3, 31), regular_start=date(2025, 1, 31)
    )
    fraction = accrual_fraction(
        day_count=DayCount("30/360"),
        start=period.start,
        end=period.end,
        period=period,
        frequency=2,
    )
    assert fraction == accrual_fraction(
        day_count="30/360",  # type: ignore[arg-type]
        start=period.start,
        end=period.end,
        period=period,
        frequency=2,
    )
    assert_exact(fraction, Fraction(60, 360))


@pytest.mark.parametrize("frequency", [0, 3, 6, 24, -2, True])
def test_invalid_frequency_is_rejected(frequency: int) -> None:
    with pytest.raises(ValueError, match="frequency"):
        bond_a_with(frequency=frequency, settlement=date(2025, 6, 11))
    with pytest.raises(ValueError, match="frequency"):
        coupon_period(
            settlement_date=date(2025, 6, 11),
            issue_date=ISSUE,
            maturity_date=MATURITY,
            frequency=frequency,
        )
    period = CouponPeriod(
        start=date(2025, 3, 15), end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )
    with pytest.raises(ValueError, match="frequency"):
        accrual_fraction(
            day_count=DayCount.ACT_360,
            start=period.start,
            end=date(2025, 6, 11),
            period=period,
            frequency=frequency,
        )


@pytest.mark.parametrize(
    ("settlement", "message"),
    [
        (ISSUE - timedelta(days=1), "before issue date"),
        (date(2019, 12, 31), "before issue date"),
        (MATURITY, "on or after maturity"),
        (MATURITY + timedelta(days=1), "on or after maturity"),
        (date(2031, 1, 1), "on or after maturity"),
    ],
)
def test_settlement_outside_the_bond_life_is_rejected(settlement: date, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bond_a_with(frequency=2, settlement=settlement)


@pytest.mark.parametrize("issue", [MATURITY, MATURITY + timedelta(days=1)])
def test_issue_not_before_maturity_is_rejected(issue: date) -> None:
    with pytest.raises(ValueError, match="must be before maturity"):
        coupon_period(
            settlement_date=MATURITY, issue_date=issue, maturity_date=MATURITY, frequency=2
        )


def test_non_finite_amounts_are_rejected() -> None:
    with pytest.raises(ValueError, match="finite"):
        accrued_interest(
            nominal=Decimal("NaN"),
            coupon_rate=RATE,
            frequency=2,
            day_count=DayCount.ACT_360,
            issue_date=ISSUE,
            maturity_date=MATURITY,
            settlement_date=date(2025, 6, 11),
        )


def test_unknown_day_count_is_rejected() -> None:
    period = CouponPeriod(
        start=date(2025, 3, 15), end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )
    with pytest.raises(ValueError, match="ACT/ACT-ISDA"):
        accrual_fraction(
            day_count="ACT/ACT-ISDA",  # type: ignore[arg-type]
            start=period.start,
            end=date(2025, 6, 11),
            period=period,
            frequency=2,
        )


def test_accrual_end_before_start_is_rejected() -> None:
    period = CouponPeriod(
        start=date(2025, 3, 15), end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )
    with pytest.raises(ValueError, match="before accrual start"):
        accrual_fraction(
            day_count=DayCount.ACT_360,
            start=date(2025, 6, 11),
            end=date(2025, 6, 10),
            period=period,
            frequency=2,
        )


def test_icma_accrual_outside_its_period_is_rejected() -> None:
    period = CouponPeriod(
        start=date(2025, 3, 15), end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )
    with pytest.raises(ValueError, match="within the coupon period"):
        accrual_fraction(
            day_count=DayCount.ACT_ACT_ICMA,
            start=date(2025, 3, 15),
            end=date(2025, 10, 1),
            period=period,
            frequency=2,
        )


def test_icma_long_first_period_is_not_implemented() -> None:
    # issue 1 Jan 2025, first coupon 15 Sep 2025: longer than the regular 15 Mar -> 15 Sep.
    long_period = CouponPeriod(
        start=date(2025, 1, 1), end=date(2025, 9, 15), regular_start=date(2025, 3, 15)
    )
    with pytest.raises(NotImplementedError, match="long coupon period"):
        accrual_fraction(
            day_count=DayCount.ACT_ACT_ICMA,
            start=long_period.start,
            end=date(2025, 6, 11),
            period=long_period,
            frequency=2,
        )


@given(
    maturity=st.dates(min_value=date(2001, 1, 1), max_value=date(2070, 12, 31)),
    frequency=st.sampled_from([1, 2, 4, 12]),
    tenor_days=st.integers(min_value=1, max_value=40 * 366),
    nominal=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e12"), places=2),
    rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("0.25"), places=6),
    data=st.data(),
)
def test_icma_accrued_is_bounded_and_non_decreasing_within_a_period(
    maturity: date,
    frequency: int,
    tenor_days: int,
    nominal: Decimal,
    rate: Decimal,
    data: st.DataObject,
) -> None:
    issue = maturity - timedelta(days=tenor_days)
    first = data.draw(st.dates(min_value=issue, max_value=maturity - timedelta(days=1)))
    period = coupon_period(
        settlement_date=first, issue_date=issue, maturity_date=maturity, frequency=frequency
    )
    assert period.regular_start <= period.start <= first < period.end <= maturity
    second = data.draw(st.dates(min_value=first, max_value=period.end - timedelta(days=1)))
    assert (
        coupon_period(
            settlement_date=second, issue_date=issue, maturity_date=maturity, frequency=frequency
        )
        == period
    )

    def accrued(settlement: date) -> Decimal:
        return accrued_interest(
            nominal=nominal,
            coupon_rate=rate,
            frequency=frequency,
            day_count=DayCount.ACT_ACT_ICMA,
            issue_date=issue,
            maturity_date=maturity,
            settlement_date=settlement,
        )

    full_coupon = Fraction(nominal) * Fraction(rate) / frequency
    earlier, later = accrued(first), accrued(second)
    assert 0 <= Fraction(earlier) <= Fraction(later) < full_coupon
