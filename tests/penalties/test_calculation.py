"""CSDR cash penalties without a database: every expected amount is worked out by hand in a
comment from the published formula (amount = basis x rate, rounded half-even to the currency's
minor units; cash: basis x annual central-bank rate / 365, floored at zero).

Rates are those of the Annex of Delegated Regulation (EU) 2017/389 (1 bp = 0.0001), given here as
data exactly as /penalty-rates holds them. Calendar: TARGET (XECB) 2026, where Good Friday
2026-04-03 and Easter Monday 2026-04-06 are closed; March 2026 starts on a Sunday.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.calendars import BusinessCalendar
from app.core.money import round_money
from app.penalties.calculation import (
    EffectiveRate,
    Fail,
    FailDay,
    FailReason,
    MissingPrice,
    Party,
    PenaltyKind,
    PenaltyLine,
    PenaltyResult,
    RateNotFound,
    late_matching_days,
    late_matching_fail_penalties,
    settlement_fail_penalties,
)

ISIN = "FR0000120271"
SINCE = date(2025, 1, 1)
RATES = [
    EffectiveRate("liquid_share", Decimal("0.0001"), SINCE),
    EffectiveRate("illiquid_share", Decimal("0.00005"), SINCE),
    EffectiveRate("sme_share", Decimal("0.000025"), SINCE),
    EffectiveRate("sovereign_debt", Decimal("0.000010"), SINCE),
    EffectiveRate("other_debt", Decimal("0.000020"), SINCE),
    EffectiveRate("sme_debt", Decimal("0.000015"), SINCE),
    EffectiveRate("other", Decimal("0.00005"), SINCE),
    EffectiveRate("cash:EUR", Decimal("0.0265"), SINCE),  # ECB marginal lending facility
]
TARGET = BusinessCalendar(["XECB"])
BUSINESS_DAYS = list(TARGET.business_days(date(2026, 3, 1), date(2026, 4, 30)))


def fail(
    csdr_class: str = "liquid_share",
    *,
    reason: FailReason = FailReason.LACK_OF_SECURITIES,
    isin: str | None = ISIN,
    percent: bool = False,
    party: Party = Party.US,
) -> Fail:
    return Fail(
        isin=isin,
        csdr_class=csdr_class,
        reason=reason,
        currency="EUR",
        failing_party=party,
        percent_of_nominal=percent,
    )


def one_day(
    quantity: str, price: str | None, *, day: date = date(2026, 3, 2), cash: str = "0"
) -> FailDay:
    return FailDay(
        day=day,
        failed_quantity=Decimal(quantity),
        reference_price=None if price is None else Decimal(price),
        failed_cash=Decimal(cash),
    )


def amounts(lines: tuple[PenaltyLine, ...]) -> list[tuple[date, str]]:
    return [(line.day, str(line.amount)) for line in lines]


@pytest.mark.parametrize(
    ("csdr_class", "quantity", "price", "percent", "basis", "rate", "amount"),
    [
        # 1,000 shares x 57.42 = 57,420.00 x 1.0 bp (0.0001) = 5.742 -> 5.74
        ("liquid_share", "1000", "57.42", False, "57420.00", "0.0001", "5.74"),
        # 2,500 x 18.30 = 45,750.00 x 0.5 bp (0.00005) = 2.2875 -> 2.29
        ("illiquid_share", "2500", "18.30", False, "45750.00", "0.00005", "2.29"),
        # 10,000 x 3.27 = 32,700.00 x 0.25 bp (0.000025) = 0.8175 -> 0.82
        ("sme_share", "10000", "3.27", False, "32700.00", "0.000025", "0.82"),
        # 1,000,000 nominal x 99.50 % = 995,000.00 x 0.10 bp (0.00001) = 9.95
        ("sovereign_debt", "1000000", "99.50", True, "995000.00", "0.000010", "9.95"),
        # 500,000 nominal x 101.25 % = 506,250.00 x 0.20 bp (0.00002) = 10.125 -> 10.12
        # (exactly half a cent: half-even keeps the even 2)
        ("other_debt", "500000", "101.25", True, "506250.00", "0.000020", "10.12"),
        # 200,000 nominal x 98.40 % = 196,800.00 x 0.15 bp (0.000015) = 2.952 -> 2.95
        ("sme_debt", "200000", "98.40", True, "196800.00", "0.000015", "2.95"),
        # 3,000 x 41.10 = 123,300.00 x 0.50 bp (0.00005) = 6.165 -> 6.16 (half, to even)
        ("other", "3000", "41.10", False, "123300.00", "0.00005", "6.16"),
    ],
)
def test_each_instrument_class_rate(
    csdr_class: str,
    quantity: str,
    price: str,
    percent: bool,
    basis: str,
    rate: str,
    amount: str,
) -> None:
    result = settlement_fail_penalties(
        fail=fail(csdr_class, percent=percent),
        days=[one_day(quantity, price)],
        rates=RATES,
        business_days=BUSINESS_DAYS,
    )
    assert result.complete
    assert result.lines == (
        PenaltyLine(
            day=date(2026, 3, 2),
            kind=PenaltyKind.SETTLEMENT_FAIL,
            basis=Decimal(basis),
            rate=Decimal(rate),
            rate_divisor=1,
            amount=Decimal(amount),
            currency="EUR",
            payer=Party.US,
        ),
    )


def test_lack_of_cash_uses_the_central_bank_rate_over_365_on_the_reference_value() -> None:
    # 2,000 shares x 79.86 = 159,720.00; 159,720.00 x 2.65 % = 4,232.58 a year;
    # / 365 = 11.5961095890... -> 11.60 a day, whatever the instrument's class.
    result = settlement_fail_penalties(
        fail=fail("illiquid_share", reason=FailReason.LACK_OF_CASH, party=Party.COUNTERPARTY),
        days=[one_day("2000", "79.86", cash="160000.00")],
        rates=RATES,
        business_days=BUSINESS_DAYS,
    )
    (line,) = result.lines
    assert (line.basis, line.rate, line.rate_divisor) == (
        Decimal("159720.00"),
        Decimal("0.0265"),
        365,
    )
    assert (line.amount, line.payer) == (Decimal("11.60"), Party.COUNTERPARTY)


def test_payment_free_of_delivery_takes_the_failed_cash_as_basis() -> None:
    # No securities leg: 159,720.00 x 2.65 % / 365 = 11.5961... -> 11.60; no price is needed.
    result = settlement_fail_penalties(
        fail=fail(reason=FailReason.LACK_OF_CASH, isin=None),
        days=[one_day("0", None, cash="159720.00")],
        rates=RATES,
        business_days=BUSINESS_DAYS,
    )
    assert result.complete
    assert [(line.basis, line.amount) for line in result.lines] == [
        (Decimal("159720.00"), Decimal("11.60"))
    ]


def test_a_negative_central_bank_rate_is_floored_at_zero() -> None:
    # -0.50 % floored to 0: 159,720.00 x 0 / 365 = 0.00, never a payment to the failing party.
    rates = [*RATES, EffectiveRate("cash:EUR", Decimal("-0.0050"), date(2026, 3, 1))]
    result = settlement_fail_penalties(
        fail=fail(reason=FailReason.LACK_OF_CASH),
        days=[one_day("2000", "79.86")],
        rates=rates,
        business_days=BUSINESS_DAYS,
    )
    (line,) = result.lines
    assert (line.rate, line.amount) == (Decimal(0), Decimal("0.00"))


def test_a_rate_change_in_the_middle_of_a_fail_applies_from_its_date() -> None:
    # A new liquid-share rate of 1.2 bp from Wednesday 2026-03-04 (test data, not a real level):
    # Tue 03-03: 1,000 x 57.42 = 57,420.00 x 0.0001  = 5.742 -> 5.74
    # Wed 03-04: 1,000 x 57.80 = 57,800.00 x 0.00012 = 6.936 -> 6.94
    rates = [*RATES, EffectiveRate("liquid_share", Decimal("0.00012"), date(2026, 3, 4))]
    result = settlement_fail_penalties(
        fail=fail(),
        days=[
            one_day("1000", "57.42", day=date(2026, 3, 3)),
            one_day("1000", "57.80", day=date(2026, 3, 4)),
        ],
        rates=rates,
        business_days=BUSINESS_DAYS,
    )
    assert [(line.day, line.rate, line.amount) for line in result.lines] == [
        (date(2026, 3, 3), Decimal("0.0001"), Decimal("5.74")),
        (date(2026, 3, 4), Decimal("0.00012"), Decimal("6.94")),
    ]


def test_a_partial_settlement_reduces_the_basis_from_that_day_on() -> None:
    # Mon 03-02: 1,000 failing x 57.42 = 57,420.00 x 0.0001 = 5.742 -> 5.74
    # Tue 03-03: 400 settle, 600 failing x 57.50 = 34,500.00 x 0.0001 = 3.45
    # Wed 03-04: 600 failing x 57.10 = 34,260.00 x 0.0001 = 3.426 -> 3.43; total 12.62
    result = settlement_fail_penalties(
        fail=fail(),
        days=[
            one_day("1000", "57.42", day=date(2026, 3, 2)),
            one_day("600", "57.50", day=date(2026, 3, 3)),
            one_day("600", "57.10", day=date(2026, 3, 4)),
        ],
        rates=RATES,
        business_days=BUSINESS_DAYS,
    )
    assert amounts(result.lines) == [
        (date(2026, 3, 2), "5.74"),
        (date(2026, 3, 3), "3.45"),
        (date(2026, 3, 4), "3.43"),
    ]
    assert result.total == Decimal("12.62")


def test_holidays_and_weekends_are_never_penalised() -> None:
    # Failing from Thu 2026-04-02 to Tue 04-07: Good Friday, the weekend and Easter Monday are
    # closed in TARGET, so only Thu and Tue count: 2 x (1,000 x 57.42 x 0.0001 = 5.742 -> 5.74).
    days = [one_day("1000", "57.42", day=date(2026, 4, 2) + timedelta(days=n)) for n in range(6)]
    result = settlement_fail_penalties(
        fail=fail(), days=days, rates=RATES, business_days=BUSINESS_DAYS
    )
    assert amounts(result.lines) == [(date(2026, 4, 2), "5.74"), (date(2026, 4, 7), "5.74")]


def test_late_matching_counts_from_the_intended_date_to_the_day_before_the_match() -> None:
    # ISD Mon 03-02, matched Thu 03-05 before the cut-off: Mon, Tue, Wed at each day's price.
    # 1,000 x 57.42 x 0.0001 = 5.742 -> 5.74; x 57.50 = 5.75; x 57.10 = 5.71; total 17.20.
    prices = {
        date(2026, 3, 2): Decimal("57.42"),
        date(2026, 3, 3): Decimal("57.50"),
        date(2026, 3, 4): Decimal("57.10"),
        date(2026, 3, 5): Decimal("57.90"),
    }

    def late_match(after_cutoff: bool) -> PenaltyResult:
        return late_matching_fail_penalties(
            fail=fail(party=Party.COUNTERPARTY),
            intended_settlement_date=date(2026, 3, 2),
            matching_date=date(2026, 3, 5),
            matched_after_cutoff=after_cutoff,
            quantity=Decimal(1000),
            cash_amount=Decimal("57420.00"),
            reference_prices=prices,
            rates=RATES,
            business_days=BUSINESS_DAYS,
        )

    before = late_match(after_cutoff=False)
    assert amounts(before.lines) == [
        (date(2026, 3, 2), "5.74"),
        (date(2026, 3, 3), "5.75"),
        (date(2026, 3, 4), "5.71"),
    ]
    assert before.total == Decimal("17.20")
    assert {(line.kind, line.payer) for line in before.lines} == {
        (PenaltyKind.LATE_MATCHING_FAIL, Party.COUNTERPARTY)
    }
    # Matched after the cut-off, the matching day counts too: + 1,000 x 57.90 x 0.0001 = 5.79.
    after = late_match(after_cutoff=True)
    assert amounts(after.lines)[-1] == (date(2026, 3, 5), "5.79")
    assert after.total == Decimal("22.99")


def test_late_matching_days_skip_the_weekend() -> None:
    # ISD Fri 03-06, matched Tue 03-10 before the cut-off: Fri and Mon.
    assert late_matching_days(
        intended_settlement_date=date(2026, 3, 6),
        matching_date=date(2026, 3, 10),
        matched_after_cutoff=False,
        business_days=BUSINESS_DAYS,
    ) == [date(2026, 3, 6), date(2026, 3, 9)]
    # Matched on the ISD itself before its cut-off: not late at all.
    assert (
        late_matching_days(
            intended_settlement_date=date(2026, 3, 6),
            matching_date=date(2026, 3, 6),
            matched_after_cutoff=False,
            business_days=BUSINESS_DAYS,
        )
        == []
    )


def test_a_missing_price_is_listed_never_a_zero_penalty() -> None:
    result = settlement_fail_penalties(
        fail=fail(),
        days=[
            one_day("1000", "57.42", day=date(2026, 3, 2)),
            one_day("1000", None, day=date(2026, 3, 3)),
            one_day("1000", "57.10", day=date(2026, 3, 4)),
        ],
        rates=RATES,
        business_days=BUSINESS_DAYS,
    )
    assert not result.complete
    assert result.missing_prices == (MissingPrice(isin=ISIN, day=date(2026, 3, 3)),)
    assert amounts(result.lines) == [(date(2026, 3, 2), "5.74"), (date(2026, 3, 4), "5.71")]


def test_a_late_matching_day_without_a_price_is_missing() -> None:
    result = late_matching_fail_penalties(
        fail=fail(),
        intended_settlement_date=date(2026, 3, 2),
        matching_date=date(2026, 3, 4),
        matched_after_cutoff=False,
        quantity=Decimal(1000),
        cash_amount=Decimal("57420.00"),
        reference_prices={date(2026, 3, 2): Decimal("57.42")},
        rates=RATES,
        business_days=BUSINESS_DAYS,
    )
    assert result.missing_prices == (MissingPrice(isin=ISIN, day=date(2026, 3, 3)),)
    assert amounts(result.lines) == [(date(2026, 3, 2), "5.74")]


@pytest.mark.parametrize(
    ("quantity", "price", "amount"),
    [
        # 1,000 x 51.25 = 51,250.00 x 0.0001 = 5.125 -> 5.12 (half: the even digit stays)
        ("1000", "51.25", "5.12"),
        # 1,000 x 51.35 = 51,350.00 x 0.0001 = 5.135 -> 5.14 (half: up to the even digit)
        ("1000", "51.35", "5.14"),
        # 1,000 x 51.2501 = 51,250.10 x 0.0001 = 5.12501 -> 5.13 (just above the half)
        ("1000", "51.2501", "5.13"),
    ],
)
def test_rounding_is_half_even_at_the_exact_half_cent(
    quantity: str, price: str, amount: str
) -> None:
    result = settlement_fail_penalties(
        fail=fail(), days=[one_day(quantity, price)], rates=RATES, business_days=BUSINESS_DAYS
    )
    assert [line.amount for line in result.lines] == [Decimal(amount)]


def test_a_day_before_any_rate_is_a_configuration_error() -> None:
    with pytest.raises(RateNotFound) as raised:
        settlement_fail_penalties(
            fail=fail(),
            days=[one_day("1000", "57.42", day=date(2024, 12, 31))],
            rates=RATES,
            business_days=[date(2024, 12, 31)],
        )
    assert (raised.value.scope, raised.value.day) == ("liquid_share", date(2024, 12, 31))


_prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100000), places=4)
_rates = st.decimals(min_value=Decimal("-0.05"), max_value=Decimal("0.05"), places=6)


@given(
    quantity=st.integers(min_value=1, max_value=10**9),
    price=_prices,
    rate=_rates,
    reason=st.sampled_from(FailReason),
)
def test_amount_is_the_rounded_rate_times_basis_and_never_negative(
    quantity: int, price: Decimal, rate: Decimal, reason: FailReason
) -> None:
    scope = "cash:EUR" if reason is FailReason.LACK_OF_CASH else "other"
    securities_rate = abs(rate)  # the reference data refuses a negative securities rate
    table = [EffectiveRate(scope, rate if scope == "cash:EUR" else securities_rate, SINCE)]
    result = settlement_fail_penalties(
        fail=fail("other", reason=reason),
        days=[one_day(str(quantity), str(price))],
        rates=table,
        business_days=BUSINESS_DAYS,
    )
    (line,) = result.lines
    assert line.basis == quantity * price
    assert line.amount == round_money(line.rate * line.basis / line.rate_divisor, "EUR")
    assert line.amount >= 0
    if reason is FailReason.LACK_OF_SECURITIES:
        assert line.amount == round_money(line.rate * line.basis, "EUR")
