"""Trade amounts (app.trades.capture.pricing), pure: every expected value is hand arithmetic.

Net amount (DESIGN.md): buy = gross + commission + fees (+ accrued); sell = gross - commission -
fees (+ accrued). Gross and accrued are each rounded once, half-even, to the currency's minor
units; net is their exact sum with the charges.
"""

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest

from app.trades.capture.daycount import DayCount
from app.trades.capture.pricing import Amounts, BondTerms, gross_amount, trade_amounts

# The 1.80 % Bund 15/08/2053: annual, ACT/ACT-ICMA, interest from 2022-08-15.
BUND = BondTerms(
    coupon_rate=Decimal("0.018"),
    frequency=1,
    day_count=DayCount.ACT_ACT_ICMA,
    issue_date=date(2022, 8, 15),
    maturity_date=date(2053, 8, 15),
)
SETTLES = date(2026, 11, 26)


def equity(
    *,
    side: str = "buy",
    quantity: str = "100",
    price: str = "189.25",
    currency: str = "USD",
    commission: str = "1.50",
    fees: str = "0.02",
) -> Amounts:
    return trade_amounts(
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        currency=currency,
        commission=Decimal(commission),
        fees=Decimal(fees),
        settlement_date=SETTLES,
        bond=None,
    )


def bund(
    *,
    side: str = "buy",
    nominal: str = "1000000",
    price: str = "78.50",
    commission: str = "0",
    fees: str = "0",
    accrued_given: str | None = None,
    settlement_date: date = SETTLES,
) -> Amounts:
    return trade_amounts(
        side=side,
        quantity=Decimal(nominal),
        price=Decimal(price),
        currency="EUR",
        commission=Decimal(commission),
        fees=Decimal(fees),
        settlement_date=settlement_date,
        bond=BUND,
        accrued_given=None if accrued_given is None else Decimal(accrued_given),
    )


def gross_accrued_net(amounts: Amounts) -> tuple[str, str | None, str]:
    """The three amounts as their exact text, so the scale is checked too."""
    accrued = amounts.accrued_interest
    return (
        str(amounts.gross_amount),
        None if accrued is None else str(accrued),
        str(amounts.net_amount),
    )


def test_buy_net_adds_commission_and_fees_to_gross() -> None:
    # 100 x 189.25 = 18925.00; 18925.00 + 1.50 + 0.02 = 18926.52.
    assert gross_accrued_net(equity(side="buy")) == ("18925.00", None, "18926.52")


def test_sell_net_takes_commission_and_fees_from_gross() -> None:
    # 18925.00 - 1.50 - 0.02 = 18923.48.
    assert gross_accrued_net(equity(side="sell")) == ("18925.00", None, "18923.48")


def test_amounts_carry_the_currency_scale() -> None:
    amounts = equity(quantity="100", price="189")
    # 100 x 189 = 18900, shown with the two USD decimals: "18900.00".
    assert str(amounts.gross_amount) == "18900.00"
    assert str(amounts.net_amount) == "18901.52"


@pytest.mark.parametrize(
    ("quantity", "price", "exact", "rounded"),
    [
        # A tie rounds to the even cent: 0.375 -> 0.38 (7 is odd, up to 8).
        ("3", "0.125", "0.375", "0.38"),
        # 0.125 -> 0.12 (2 is even, stays), where half-up would give 0.13.
        ("1", "0.125", "0.125", "0.12"),
        # 0.385 -> 0.38 (8 is even), where half-up would give 0.39.
        ("1", "0.385", "0.385", "0.38"),
        # Not a tie: 0.1251 -> 0.13.
        ("1", "0.1251", "0.1251", "0.13"),
        # 7 x 10.00125 = 70.00875 -> 70.01.
        ("7", "10.00125", "70.00875", "70.01"),
    ],
)
def test_gross_is_rounded_half_even_to_cents(
    quantity: str, price: str, exact: str, rounded: str
) -> None:
    unrounded = gross_amount(
        quantity=Decimal(quantity), price=Decimal(price), percent_of_nominal=False
    )
    assert unrounded == Decimal(exact)
    amounts = equity(quantity=quantity, price=price, commission="0", fees="0")
    assert amounts.gross_amount == Decimal(rounded)
    assert amounts.net_amount == Decimal(rounded)


def test_gross_is_rounded_once_not_per_unit() -> None:
    # Per unit 0.125 -> 0.12, x 3 = 0.36; the whole 0.375 rounded once is 0.38.
    assert equity(quantity="3", price="0.125", commission="0", fees="0").gross_amount == Decimal(
        "0.38"
    )


def test_net_is_not_rounded_again() -> None:
    # 3 x 0.125 = 0.375 -> 0.38; buy + 0.01 + 0.01 = 0.40; sell 0.38 - 0.02 = 0.36.
    assert equity(quantity="3", price="0.125", commission="0.01", fees="0.01").net_amount == (
        Decimal("0.40")
    )
    assert equity(
        side="sell", quantity="3", price="0.125", commission="0.01", fees="0.01"
    ).net_amount == Decimal("0.36")


@pytest.mark.parametrize(
    ("quantity", "price", "gross"),
    [
        # 100 x 2543.5 = 254350 yen, no decimals.
        ("100", "2543.5", "254350"),
        # 3 x 0.5 = 1.5 -> 2 (tie, 1 is odd -> up); 5 x 0.5 = 2.5 -> 2 (tie, 2 is even).
        ("3", "0.5", "2"),
        ("5", "0.5", "2"),
        # 7 x 0.51 = 3.57 -> 4.
        ("7", "0.51", "4"),
    ],
)
def test_jpy_amounts_have_no_decimals(quantity: str, price: str, gross: str) -> None:
    amounts = equity(quantity=quantity, price=price, currency="JPY", commission="100", fees="0")
    assert str(amounts.gross_amount) == gross
    assert amounts.net_amount == Decimal(gross) + 100


def test_bund_buy_adds_accrued_interest() -> None:
    amounts = bund()
    # Gross: 1,000,000 x 78.50 / 100 = 785,000.00 (price in percent of nominal).
    # Accrued: coupon period 2026-08-15 .. 2027-08-15 has 365 days (no 29 Feb in it);
    # 2026-08-15 -> 2026-11-26 is 16 (Aug) + 30 (Sep) + 31 (Oct) + 26 (Nov) = 103 days.
    exact = Fraction(1_000_000) * Fraction(18, 1000) * Fraction(103, 365)
    assert exact == Fraction(1_854_000, 365)  # = 5079.45205479...
    cents = Decimal(exact.numerator) / Decimal(exact.denominator)
    assert cents.quantize(Decimal("0.01"), ROUND_HALF_EVEN) == Decimal("5079.45")
    # Net: 785,000.00 + 5,079.45 = 790,079.45.
    assert gross_accrued_net(amounts) == ("785000.00", "5079.45", "790079.45")


def test_bund_sell_also_receives_accrued_interest() -> None:
    amounts = bund(side="sell", commission="10.00", fees="0.50")
    # 785,000.00 - 10.00 - 0.50 + 5,079.45 = 790,068.95.
    assert amounts.accrued_interest == Decimal("5079.45")
    assert amounts.net_amount == Decimal("790068.95")


def test_bund_buy_with_charges() -> None:
    amounts = bund(commission="10.00", fees="0.50")
    # 785,000.00 + 10.00 + 0.50 + 5,079.45 = 790,089.95.
    assert amounts.net_amount == Decimal("790089.95")


def test_bund_settling_on_a_coupon_date_accrues_nothing() -> None:
    # On the 2027-08-15 coupon date a new period starts: 0 days, 0.00.
    assert bund(settlement_date=date(2027, 8, 15)).accrued_interest == Decimal("0.00")
    # The day after: 1 day of 2027-08-15 .. 2028-08-15, which holds 29 Feb 2028 (366 days):
    # 1,000,000 x 0.018 x 1 / 366 = 18000 / 366 = 49.180327... -> 49.18.
    assert bund(settlement_date=date(2027, 8, 16)).accrued_interest == Decimal("49.18")


def test_bund_odd_nominal_accrued_is_rounded_half_even() -> None:
    # 10,000.01 nominal @ 99.995: gross 10,000.01 x 0.99995 = 10,000.01 - 0.5000005
    # = 9,999.5099995 -> 9,999.51.
    # Accrued 10,000.01 x 0.018 x 103 / 365 = 18,540.01854 / 365 = 50.7945713... -> 50.79.
    amounts = bund(nominal="10000.01", price="99.995")
    assert amounts.gross_amount == Decimal("9999.51")
    assert amounts.accrued_interest == Decimal("50.79")
    assert amounts.net_amount == Decimal("10050.30")


def test_accrued_interest_given_is_used_as_is() -> None:
    amounts = bund(accrued_given="5000.00")
    # 785,000.00 + 5,000.00 = 790,000.00; the computed 5,079.45 is not used.
    assert amounts.accrued_interest == Decimal("5000.00")
    assert amounts.net_amount == Decimal("790000.00")


def test_accrued_interest_given_as_zero_is_used() -> None:
    amounts = bund(accrued_given="0")
    assert amounts.accrued_interest == Decimal("0")
    assert amounts.net_amount == Decimal("785000.00")


def test_equity_has_no_accrued_interest_even_when_one_is_given() -> None:
    # rules.evaluate refuses accrued on an equity; pricing alone ignores it for non-bonds.
    amounts = trade_amounts(
        side="buy",
        quantity=Decimal("100"),
        price=Decimal("189.25"),
        currency="USD",
        commission=Decimal("0"),
        fees=Decimal("0"),
        settlement_date=SETTLES,
        bond=None,
        accrued_given=Decimal("1.00"),
    )
    assert amounts.accrued_interest is None
    assert amounts.net_amount == Decimal("18925.00")


def test_bond_gross_is_in_percent_of_nominal() -> None:
    unrounded = gross_amount(
        quantity=Decimal("1000000"), price=Decimal("78.50"), percent_of_nominal=True
    )
    assert unrounded == Decimal("785000")
