"""One to many and many to one: one item equals the sum of several on the other side within
tolerance, found by a bounded search that says when it gave up."""

from dataclasses import replace
from decimal import Decimal

import pytest

from app.reconciliation.matching import GaveUp, Match, match
from tests.reconciliation.matching.factories import cents, line, many_to_one, movement, one_to_many

CCP = "LCH Ltd"
NET = one_to_many(
    name="net-payment",
    amount_tolerance=cents("0.01"),
    counterparty_must_agree=True,
    max_group_size=5,
    search_budget=100_000,
)


def test_one_net_payment_for_three_settlements() -> None:
    outcome = match(
        [line("L1", "-300.00", counterparty=CCP)],
        [
            movement("S1", "-100.00", counterparty=CCP),
            movement("S2", "-150.00", counterparty=CCP),
            movement("S3", "-50.00", counterparty=CCP),
            movement("S4", "-75.00", counterparty=CCP),
        ],
        [NET],
    )
    assert outcome.matches == (
        Match("net-payment", ("L1",), ("S1", "S2", "S3"), Decimal("0.00"), 0),
    )
    assert outcome.unmatched_movement_ids == ("S4",)


def test_several_statement_lines_for_one_book_movement() -> None:
    outcome = match(
        [line("L1", "20.00"), line("L2", "30.00"), line("L3", "50.00"), line("L4", "7.00")],
        [movement("M1", "100.00")],
        [many_to_one(name="split-receipt", value_date_days=1)],
    )
    assert outcome.matches == (
        Match("split-receipt", ("L1", "L2", "L3"), ("M1",), Decimal("0.00"), 0),
    )
    assert outcome.unmatched_line_ids == ("L4",)


@pytest.mark.parametrize(
    ("total", "matched"), [("300.01", True), ("299.99", True), ("300.02", False)]
)
def test_the_sum_may_differ_by_the_tolerance_and_no_more(total: str, matched: bool) -> None:
    outcome = match(
        [line("L1", total, counterparty=CCP)],
        [movement("S1", "100.00", counterparty=CCP), movement("S2", "200.00", counterparty=CCP)],
        [NET],
    )
    assert [m.amount_difference for m in outcome.matches] == (
        [Decimal(total) - Decimal("300.00")] if matched else []
    )


def test_only_movements_of_the_same_sign_currency_counterparty_and_days_are_candidates() -> None:
    outcome = match(
        [line("L1", "100", counterparty=CCP)],
        [
            movement("A", "150", counterparty=CCP),
            movement("B", "-50", counterparty=CCP),  # other sign
            movement("C", "40", counterparty=CCP, currency="USD"),  # other currency
            movement("D", "40", counterparty="Eurex"),  # other counterparty
            movement("E", "40", counterparty=CCP, days_late=1),  # another value date
            movement("F", "60", counterparty=CCP),
        ],
        [NET],
    )
    assert outcome.matches == ()


def test_value_date_days_widen_the_candidates() -> None:
    outcome = match(
        [line("L1", "100", counterparty=CCP)],
        [movement("E", "40", counterparty=CCP, days_late=1), movement("F", "60", counterparty=CCP)],
        [one_to_many(counterparty_must_agree=True, value_date_days=1)],
    )
    assert [(m.movement_ids, m.value_date_difference) for m in outcome.matches] == [
        (("E", "F"), -1)
    ]


def test_a_group_of_one_is_left_to_the_pair_rules() -> None:
    outcome = match([line("L1", "100")], [movement("M1", "100"), movement("M2", "1")], [NET])
    assert outcome.matches == ()


def test_a_group_larger_than_the_maximum_is_not_formed() -> None:
    parts = [movement(f"S{i}", "10", counterparty=CCP) for i in range(6)]
    outcome = match([line("L1", "60", counterparty=CCP)], parts, [NET])
    assert outcome.matches == ()
    wider = match([line("L1", "60", counterparty=CCP)], parts, [replace(NET, max_group_size=6)])
    assert [m.movement_ids for m in wider.matches] == [("S0", "S1", "S2", "S3", "S4", "S5")]


def test_too_many_candidates_is_noted_not_searched() -> None:
    outcome = match(
        [line("L1", "100")],
        [movement(f"M{i}", str(10 + i)) for i in range(5)],
        [one_to_many(name="net", max_candidates=4)],
    )
    assert outcome.matches == ()
    assert outcome.gave_up == (GaveUp("net", "L1", "more than 4 candidates (5)"),)


def test_a_search_that_spends_its_budget_says_so() -> None:
    """No sum of these even amounts is odd: the search would have to try them all."""
    parts = [movement(f"M{i:02}", str(2 * i + 2)) for i in range(20)]
    outcome = match(
        [line("L1", "61")],
        parts,
        [one_to_many(name="net", search_budget=50)],
    )
    assert outcome.matches == ()
    assert outcome.gave_up == (GaveUp("net", "L1", "search budget exhausted after 50 nodes"),)
    assert outcome.unmatched_line_ids == ("L1",)


def test_each_line_takes_movements_the_earlier_lines_left() -> None:
    outcome = match(
        [line("L1", "30"), line("L2", "30")],
        [movement("M1", "10"), movement("M2", "20"), movement("M3", "15"), movement("M4", "15")],
        [one_to_many(name="net")],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [
        (("L1",), ("M1", "M2")),
        (("L2",), ("M3", "M4")),
    ]


def test_a_zero_line_is_no_group() -> None:
    outcome = match([line("L1", "0")], [movement("M1", "0"), movement("M2", "0")], [NET])
    assert outcome.matches == ()
