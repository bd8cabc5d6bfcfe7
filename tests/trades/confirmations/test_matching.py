"""Confirmation matching (app.trades.confirmations.matching), pure: terms built by hand, no
database.

Our trade throughout: buy 100 JPM @ 189.25 USD, traded 2026-11-24, settling 2026-11-25, net
18926.52 (18925.00 + 1.50 commission + 0.02 fees). The counterparty's confirmation sells the same.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.trades.confirmations.matching import (
    Outcome,
    Reason,
    ReasonCode,
    Selection,
    Terms,
    Tolerance,
    amount_within,
    compare,
    is_economic_candidate,
    price_within,
    select_candidate,
    several_fit,
)
from tests.factories import JPM, TOTAL

EXACT = Tolerance()
MATCHED = Outcome(matched=True, reasons=())


def ours(**overrides: Any) -> Terms:
    terms = Terms(
        isin=JPM,
        side="buy",
        quantity=Decimal("100"),
        price=Decimal("189.25"),
        currency="USD",
        trade_date=date(2026, 11, 24),
        settlement_date=date(2026, 11, 25),
        net_amount=Decimal("18926.52"),
    )
    return replace(terms, **overrides)


def theirs(**overrides: Any) -> Terms:
    return ours(**{"side": "sell", **overrides})


def unmatched(*reasons: Reason) -> Outcome:
    return Outcome(matched=False, reasons=reasons)


def _typed(field: str, text: str) -> Any:
    if field in ("quantity", "price", "net_amount", "accrued_interest"):
        return Decimal(text)
    if field in ("trade_date", "settlement_date"):
        return date.fromisoformat(text)
    return text


def test_the_same_trade_seen_from_the_other_side_matches() -> None:
    assert compare(ours=ours(), theirs=theirs(), tolerance=EXACT) == MATCHED


def test_a_sell_of_ours_matches_their_buy() -> None:
    assert compare(ours=ours(side="sell"), theirs=theirs(side="buy"), tolerance=EXACT) == MATCHED


def test_equal_decimals_written_differently_match() -> None:
    outcome = compare(
        ours=ours(),
        theirs=theirs(quantity=Decimal("100.000"), price=Decimal("189.2500")),
        tolerance=EXACT,
    )
    assert outcome == MATCHED


DIFFERENCES = [
    ("isin", JPM, TOTAL, ReasonCode.DSEC),
    ("side", "buy", "buy", ReasonCode.DELN),
    ("quantity", "100", "90", ReasonCode.DQUA),
    ("price", "189.25", "189.30", ReasonCode.DDEA),
    ("currency", "USD", "EUR", ReasonCode.NCRR),
    ("trade_date", "2026-11-24", "2026-11-23", ReasonCode.DTRD),
    ("settlement_date", "2026-11-25", "2026-11-26", ReasonCode.DDAT),
    ("accrued_interest", "1479.45", "1484.38", ReasonCode.ACRU),
    ("net_amount", "18926.52", "18926.53", ReasonCode.DMON),
]


@pytest.mark.parametrize(("field", "our_value", "their_value", "code"), DIFFERENCES)
def test_each_difference_has_its_iso_code(
    field: str, our_value: str, their_value: str, code: ReasonCode
) -> None:
    outcome = compare(
        ours=ours(**{field: _typed(field, our_value)}),
        theirs=theirs(**{field: _typed(field, their_value)}),
        tolerance=EXACT,
    )
    assert outcome == unmatched(Reason(code, field, our_value, their_value))


def test_every_code_but_cmis_and_mult_comes_from_a_difference() -> None:
    # CMIS (no trade of ours at all) and MULT (several fit) are the caller's to report; a new
    # code needs a row above.
    callers = {ReasonCode.CMIS, ReasonCode.MULT}
    assert {row[3] for row in DIFFERENCES} | callers == set(ReasonCode)


def test_the_reason_codes_are_exactly_these() -> None:
    assert [code.value for code in ReasonCode] == [
        "DQUA",
        "DDEA",
        "DMON",
        "NCRR",
        "ACRU",
        "DSEC",
        "DTRD",
        "DDAT",
        "DELN",
        "CMIS",
        "MULT",
    ]


@pytest.mark.parametrize(("our_side", "their_side"), [("buy", "buy"), ("sell", "sell")])
def test_both_parties_on_the_same_side_is_a_direction_mismatch(
    our_side: str, their_side: str
) -> None:
    outcome = compare(ours=ours(side=our_side), theirs=theirs(side=their_side), tolerance=EXACT)
    assert outcome == unmatched(Reason(ReasonCode.DELN, "side", our_side, their_side))


@pytest.mark.parametrize(
    ("their_price", "matched"),
    [
        ("189.30", True),  # 0.05 above: exactly at the tolerance
        ("189.20", True),  # 0.05 below
        ("189.31", False),  # one cent over
        ("189.19", False),
    ],
)
def test_deal_price_within_the_absolute_tolerance_matches(their_price: str, matched: bool) -> None:
    outcome = compare(
        ours=ours(),
        theirs=theirs(price=Decimal(their_price)),
        tolerance=Tolerance(price_abs=Decimal("0.05")),
    )
    expected = (
        MATCHED if matched else unmatched(Reason(ReasonCode.DDEA, "price", "189.25", their_price))
    )
    assert outcome == expected


@pytest.mark.parametrize(
    ("amount_abs", "amount_bps", "their_amount", "matched"),
    [
        # Absolute only: 1.52 is the commission and fees the counterparty left out.
        ("1.52", None, "18925.00", True),
        ("1.52", None, "18928.04", True),
        ("1.52", None, "18924.99", False),
        ("1.52", None, "18928.05", False),
        # 1 bp of our 18926.52 is 1.892652: a difference of 1.89 is in, 1.90 is out.
        (None, "1", "18924.63", True),
        (None, "1", "18928.41", True),
        (None, "1", "18924.62", False),
        (None, "1", "18928.42", False),
        # Both set: within either is enough.
        ("0.50", "1", "18924.63", True),  # 1.89: over the 0.50, within the basis point
        ("5.00", "1", "18921.52", True),  # 5.00: over the basis point, at the absolute
        ("5.00", "1", "18921.51", False),  # 5.01: outside both
        ("0.50", "1", "18924.62", False),  # 1.90: outside both
        # Neither set: exact.
        (None, None, "18926.52", True),
        (None, None, "18926.51", False),
    ],
)
def test_net_amount_within_the_absolute_or_basis_point_tolerance_matches(
    amount_abs: str | None, amount_bps: str | None, their_amount: str, matched: bool
) -> None:
    tolerance = Tolerance(
        net_amount_abs=None if amount_abs is None else Decimal(amount_abs),
        net_amount_bps=None if amount_bps is None else Decimal(amount_bps),
    )
    outcome = compare(
        ours=ours(), theirs=theirs(net_amount=Decimal(their_amount)), tolerance=tolerance
    )
    expected = (
        MATCHED
        if matched
        else unmatched(Reason(ReasonCode.DMON, "net_amount", "18926.52", their_amount))
    )
    assert outcome == expected


@pytest.mark.parametrize(("their_amount", "matched"), [("9997.50", True), ("9997.49", False)])
def test_net_amount_exactly_at_the_basis_point_allowance_matches(
    their_amount: str, matched: bool
) -> None:
    # 2.5 bp of 10000.00 is exactly 2.50, so the limit itself is reachable in cents.
    outcome = compare(
        ours=ours(net_amount=Decimal("10000.00")),
        theirs=theirs(net_amount=Decimal(their_amount)),
        tolerance=Tolerance(net_amount_bps=Decimal("2.5")),
    )
    expected = (
        MATCHED
        if matched
        else unmatched(Reason(ReasonCode.DMON, "net_amount", "10000.00", their_amount))
    )
    assert outcome == expected


def test_large_amounts_are_compared_without_rounding() -> None:
    # 1.5 bp of 99999999999999999999999999.99 is 14999999999999999999999.9999985; at the default
    # 28 digits it would round up to 15000000000000000000000 and let 15000000000000000000000.00 in.
    big = Decimal("99999999999999999999999999.99")
    tolerance = Tolerance(net_amount_bps=Decimal("1.5"))
    inside = big - Decimal("14999999999999999999999.99")
    outside = big - Decimal("15000000000000000000000.00")
    assert amount_within(ours=big, theirs=inside, tolerance=tolerance) is True
    assert amount_within(ours=big, theirs=outside, tolerance=tolerance) is False


def test_price_within_and_amount_within_are_exact_without_tolerance() -> None:
    price, amount = Decimal("189.25"), Decimal("18926.52")
    assert price_within(ours=price, theirs=Decimal("189.250"), tolerance=EXACT) is True
    assert price_within(ours=price, theirs=Decimal("189.2501"), tolerance=EXACT) is False
    assert amount_within(ours=amount, theirs=Decimal("18926.520"), tolerance=EXACT) is True
    assert amount_within(ours=amount, theirs=Decimal("18926.53"), tolerance=EXACT) is False


def test_several_differences_are_all_reported_in_field_order() -> None:
    outcome = compare(
        ours=ours(),
        theirs=theirs(
            isin=TOTAL,
            side="buy",
            quantity=Decimal("90"),
            price=Decimal("189.30"),
            trade_date=date(2026, 11, 23),
            settlement_date=date(2026, 11, 26),
            net_amount=Decimal("17037.00"),
        ),
        tolerance=Tolerance(price_abs=Decimal("0.01"), net_amount_abs=Decimal("1.52")),
    )
    assert outcome == unmatched(
        Reason(ReasonCode.DSEC, "isin", JPM, TOTAL),
        Reason(ReasonCode.DELN, "side", "buy", "buy"),
        Reason(ReasonCode.DQUA, "quantity", "100", "90"),
        Reason(ReasonCode.DDEA, "price", "189.25", "189.30"),
        Reason(ReasonCode.DTRD, "trade_date", "2026-11-24", "2026-11-23"),
        Reason(ReasonCode.DDAT, "settlement_date", "2026-11-25", "2026-11-26"),
        Reason(ReasonCode.DMON, "net_amount", "18926.52", "17037.00"),
    )


def test_a_different_currency_is_one_ncrr_and_no_dmon_for_the_amount() -> None:
    outcome = compare(
        ours=ours(),
        theirs=theirs(currency="EUR", net_amount=Decimal("17455.10"), quantity=Decimal("90")),
        tolerance=EXACT,
    )
    assert outcome == unmatched(
        Reason(ReasonCode.DQUA, "quantity", "100", "90"),
        Reason(ReasonCode.NCRR, "currency", "USD", "EUR"),
    )


def test_a_different_currency_brings_no_acru_either() -> None:
    outcome = compare(
        ours=ours(accrued_interest=Decimal("1479.45")),
        theirs=theirs(
            currency="EUR", net_amount=Decimal("17455.10"), accrued_interest=Decimal("1364.20")
        ),
        tolerance=EXACT,
    )
    assert outcome == unmatched(Reason(ReasonCode.NCRR, "currency", "USD", "EUR"))


# Accrued interest (ACRU) ---------------------------------------------------------------------
# A bond trade of ours: 1,000,000 nominal at 78.50 %, 785000.00 + 1479.45 accrued = 786479.45.


def bond(**overrides: Any) -> Terms:
    return ours(
        **{
            "quantity": Decimal("1000000"),
            "price": Decimal("78.50"),
            "currency": "EUR",
            "net_amount": Decimal("786479.45"),
            "accrued_interest": Decimal("1479.45"),
            **overrides,
        }
    )


def their_bond(**overrides: Any) -> Terms:
    return bond(**{"side": "sell", **overrides})


def test_the_same_accrued_interest_matches() -> None:
    outcome = compare(ours=bond(), theirs=their_bond(), tolerance=EXACT)
    assert outcome == MATCHED


def test_another_accrued_interest_is_acru_with_both_values_before_the_amount() -> None:
    # A day more of interest: 1484.38; their settlement amount says so too.
    outcome = compare(
        ours=bond(),
        theirs=their_bond(accrued_interest=Decimal("1484.38"), net_amount=Decimal("786484.38")),
        tolerance=EXACT,
    )
    assert outcome == unmatched(
        Reason(ReasonCode.ACRU, "accrued_interest", "1479.45", "1484.38"),
        Reason(ReasonCode.DMON, "net_amount", "786479.45", "786484.38"),
    )


@pytest.mark.parametrize(("ours_interest", "theirs_interest"), [("1479.45", None), (None, "12")])
def test_accrued_interest_stated_by_one_side_only_is_not_compared(
    ours_interest: str | None, theirs_interest: str | None
) -> None:
    outcome = compare(
        ours=bond(accrued_interest=None if ours_interest is None else Decimal(ours_interest)),
        theirs=their_bond(
            accrued_interest=None if theirs_interest is None else Decimal(theirs_interest)
        ),
        tolerance=EXACT,
    )
    assert outcome == MATCHED


@pytest.mark.parametrize(
    ("their_interest", "matched"),
    [
        ("1481.45", True),  # 2.00 above: exactly the absolute allowance
        ("1477.45", True),  # 2.00 below
        ("1481.46", False),  # a cent beyond
    ],
)
def test_accrued_interest_within_the_absolute_amount_allowance_matches(
    their_interest: str, matched: bool
) -> None:
    tolerance = Tolerance(net_amount_abs=Decimal("2.00"))
    outcome = compare(
        ours=bond(),
        theirs=their_bond(accrued_interest=Decimal(their_interest)),
        tolerance=tolerance,
    )
    expected = (
        MATCHED
        if matched
        else unmatched(Reason(ReasonCode.ACRU, "accrued_interest", "1479.45", their_interest))
    )
    assert outcome == expected


@pytest.mark.parametrize(
    ("their_interest", "matched"),
    [
        # 1 bp of OUR settlement amount 786479.45 is 78.647945: the allowance of the amount the
        # interest is part of, not 1 bp of the interest (0.147945).
        ("1558.097945", True),
        ("1558.10", False),
    ],
)
def test_accrued_interest_allowance_in_basis_points_is_of_our_settlement_amount(
    their_interest: str, matched: bool
) -> None:
    tolerance = Tolerance(net_amount_bps=Decimal("1"))
    outcome = compare(
        ours=bond(),
        theirs=their_bond(accrued_interest=Decimal(their_interest)),
        tolerance=tolerance,
    )
    assert outcome.matched is matched
    if not matched:
        assert outcome == unmatched(
            Reason(ReasonCode.ACRU, "accrued_interest", "1479.45", their_interest)
        )


def test_amount_within_takes_basis_points_of_what_it_is_told() -> None:
    tolerance = Tolerance(net_amount_bps=Decimal("1"))
    interest, base = Decimal("1479.45"), Decimal("786479.45")
    assert amount_within(ours=interest, theirs=Decimal("1479.59"), tolerance=tolerance) is True
    assert amount_within(ours=interest, theirs=Decimal("1479.60"), tolerance=tolerance) is False
    assert (
        amount_within(
            ours=interest, theirs=Decimal("1558.09"), tolerance=tolerance, relative_to=base
        )
        is True
    )


def test_values_are_reported_in_plain_notation() -> None:
    outcome = compare(
        ours=ours(quantity=Decimal("1E+2")),
        theirs=theirs(quantity=Decimal("9E+1")),
        tolerance=EXACT,
    )
    assert outcome == unmatched(Reason(ReasonCode.DQUA, "quantity", "100", "90"))


@pytest.mark.parametrize(
    ("overrides", "candidate"),
    [
        ({}, True),
        ({"price": Decimal("189.30")}, True),  # within the 0.05 price tolerance
        ({"settlement_date": date(2026, 11, 26)}, True),  # found, then reported as DDAT
        ({"net_amount": Decimal("18000.00")}, True),  # found, then reported as DMON
        ({"price": Decimal("189.31")}, False),
        ({"quantity": Decimal("90")}, False),
        ({"isin": TOTAL}, False),
        ({"side": "buy"}, False),
        ({"trade_date": date(2026, 11, 23)}, False),
    ],
)
def test_economic_candidate_needs_isin_opposite_side_trade_date_quantity_and_price(
    overrides: dict[str, Any], candidate: bool
) -> None:
    tolerance = Tolerance(price_abs=Decimal("0.05"))
    found = is_economic_candidate(ours=ours(), theirs=theirs(**overrides), tolerance=tolerance)
    assert found is candidate


def test_the_one_economic_candidate_is_selected() -> None:
    selection = select_candidate(
        theirs=theirs(),
        candidates=[
            ("T-1", ours(quantity=Decimal("90"))),
            ("T-2", ours()),
            ("T-3", ours(isin=TOTAL)),
        ],
        tolerance=EXACT,
    )
    assert selection == Selection(trade_id="T-2", ambiguous=())


def test_a_candidate_with_its_price_within_tolerance_is_selected() -> None:
    selection = select_candidate(
        theirs=theirs(price=Decimal("189.30")),
        candidates=[("T-1", ours())],
        tolerance=Tolerance(price_abs=Decimal("0.05")),
    )
    assert selection == Selection(trade_id="T-1", ambiguous=())


def test_a_candidate_with_another_quantity_is_not_selected() -> None:
    selection = select_candidate(
        theirs=theirs(quantity=Decimal("90")), candidates=[("T-1", ours())], tolerance=EXACT
    )
    assert selection == Selection(trade_id=None, ambiguous=())


def test_no_candidates_selects_nothing() -> None:
    assert select_candidate(theirs=theirs(), candidates=[], tolerance=EXACT) == Selection(
        trade_id=None, ambiguous=()
    )


def test_two_candidates_are_ambiguous_and_neither_is_chosen() -> None:
    selection = select_candidate(
        theirs=theirs(),
        candidates=[("T-9", ours()), ("T-1", ours(quantity=Decimal("90"))), ("T-2", ours())],
        tolerance=EXACT,
    )
    assert selection == Selection(trade_id=None, ambiguous=("T-2", "T-9"))


def test_several_fitting_trades_are_mult_not_cmis_naming_them_and_the_economics() -> None:
    assert several_fit(("T-2", "T-9"), trade_reference=None) == Reason(
        ReasonCode.MULT, "economics", "2 trades fit: T-2, T-9", "no reference"
    )


def test_several_trades_under_one_reference_are_mult_naming_the_reference() -> None:
    assert several_fit(("T-1", "T-4", "T-7"), trade_reference="FO-SHARED-1") == Reason(
        ReasonCode.MULT, "trade_reference", "3 trades fit: T-1, T-4, T-7", "FO-SHARED-1"
    )


def test_the_same_trade_listed_twice_is_one_candidate() -> None:
    selection = select_candidate(
        theirs=theirs(), candidates=[("T-2", ours()), ("T-2", ours())], tolerance=EXACT
    )
    assert selection == Selection(trade_id="T-2", ambiguous=())


@pytest.mark.parametrize("field", ["price_abs", "net_amount_abs", "net_amount_bps"])
def test_a_negative_tolerance_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must not be negative, not -0.01$"):
        Tolerance(**{field: Decimal("-0.01")})


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), 0.05, None])
def test_a_tolerance_that_is_not_a_finite_decimal_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^price_abs must be a finite Decimal"):
        Tolerance(price_abs=value)


def test_a_zero_tolerance_is_allowed_and_exact() -> None:
    tolerance = Tolerance(
        price_abs=Decimal(0), net_amount_abs=Decimal(0), net_amount_bps=Decimal(0)
    )
    outcome = compare(
        ours=ours(), theirs=theirs(net_amount=Decimal("18926.51")), tolerance=tolerance
    )
    assert outcome == unmatched(Reason(ReasonCode.DMON, "net_amount", "18926.52", "18926.51"))
