"""Exact reference: a shared reference, the same currency, amount and value date within the
rule's tolerances."""

from decimal import Decimal

import pytest

from app.reconciliation.matching import GaveUp, Match, Outcome, match
from tests.reconciliation.matching.factories import cents, exact, line, movement


def test_a_shared_reference_with_equal_amounts_matches() -> None:
    outcome = match(
        [line("L1", "-1250.00", refs={"E2E-1", "ACSR-9"})],
        [movement("M1", "-1250.00", refs={"SI-1", "E2E-1"})],
        [exact(name="reference")],
    )
    assert outcome == Outcome(
        matches=(Match("reference", ("L1",), ("M1",), Decimal("0.00"), 0),),
        unmatched_line_ids=(),
        unmatched_movement_ids=(),
        gave_up=(),
    )


def test_no_shared_reference_no_match() -> None:
    outcome = match([line("L1", "10", refs={"A"})], [movement("M1", "10", refs={"B"})], [exact()])
    assert outcome.matches == ()
    assert (outcome.unmatched_line_ids, outcome.unmatched_movement_ids) == (("L1",), ("M1",))


def test_another_currency_does_not_match() -> None:
    outcome = match(
        [line("L1", "10", refs={"R"}, currency="USD")],
        [movement("M1", "10", refs={"R"})],
        [exact()],
    )
    assert outcome.matches == ()


@pytest.mark.parametrize(
    ("book", "matched", "difference"),
    [
        ("100.00", True, "0.00"),
        ("99.99", True, "0.01"),  # exactly at the tolerance
        ("100.01", True, "-0.01"),
        ("99.98", False, None),  # one cent beyond
        ("100.02", False, None),
    ],
)
def test_amount_tolerance_edges(book: str, matched: bool, difference: str | None) -> None:
    outcome = match(
        [line("L1", "100.00", refs={"R"})],
        [movement("M1", book, refs={"R"})],
        [exact(amount_tolerance=cents("0.01"))],
    )
    if matched:
        assert [m.amount_difference for m in outcome.matches] == [Decimal(difference or "")]
    else:
        assert outcome.matches == ()


def test_the_currency_tolerance_overrides_the_default() -> None:
    rule = exact(amount_tolerance={"USD": Decimal("0.05")}, default_amount_tolerance=Decimal(0))
    outcome = match(
        [line("L1", "100.00", refs={"R"}, currency="USD"), line("L2", "100.00", refs={"S"})],
        [
            movement("M1", "100.05", refs={"R"}, currency="USD"),
            movement("M2", "100.01", refs={"S"}),
        ],
        [rule],
    )
    assert [(m.line_ids, m.amount_difference) for m in outcome.matches] == [
        (("L1",), Decimal("-0.05"))
    ]
    assert outcome.unmatched_line_ids == ("L2",)


@pytest.mark.parametrize(("days_late", "matched"), [(-1, True), (1, True), (2, False), (-2, False)])
def test_value_date_tolerance_edges(days_late: int, matched: bool) -> None:
    outcome = match(
        [line("L1", "100", refs={"R"}, days_late=days_late)],
        [movement("M1", "100", refs={"R"})],
        [exact(value_date_days=1)],
    )
    assert [m.value_date_difference for m in outcome.matches] == ([days_late] if matched else [])


def test_with_zero_days_a_day_late_does_not_match() -> None:
    outcome = match(
        [line("L1", "100", refs={"R"}, days_late=1)], [movement("M1", "100", refs={"R"})], [exact()]
    )
    assert outcome.matches == ()


def test_competing_movements_the_closest_amount_wins() -> None:
    outcome = match(
        [line("L1", "100.00", refs={"R"})],
        [movement("M1", "100.01", refs={"R"}), movement("M2", "100.00", refs={"R"})],
        [exact(amount_tolerance=cents("0.01"))],
    )
    assert [m.movement_ids for m in outcome.matches] == [("M2",)]
    assert outcome.unmatched_movement_ids == ("M1",)


def test_a_duplicated_payment_leaves_the_second_line_unmatched() -> None:
    outcome = match(
        [line("L2", "500", refs={"E2E-7"}), line("L1", "500", refs={"E2E-7"})],
        [movement("M1", "500", refs={"E2E-7"})],
        [exact()],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [(("L1",), ("M1",))]
    assert outcome.unmatched_line_ids == ("L2",)


def test_a_line_free_of_a_competitor_is_not_starved_by_greed() -> None:
    """L1 could take M1 or M2; L2 only M1. The closest pairs win: L2-M1 is exact, L1-M2 too."""
    outcome = match(
        [line("L1", "100.00", refs={"A", "B"}), line("L2", "100.01", refs={"A"})],
        [movement("M1", "100.01", refs={"A"}), movement("M2", "100.00", refs={"B"})],
        [exact(amount_tolerance=cents("0.01"))],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [
        (("L1",), ("M2",)),
        (("L2",), ("M1",)),
    ]


def test_counterparties_are_compared_without_case_spaces_or_punctuation() -> None:
    rule = exact(counterparty_must_agree=True)
    agreeing = match(
        [line("L1", "1", refs={"R"}, counterparty="ACME Bank, N.A.")],
        [movement("M1", "1", refs={"R"}, counterparty="acme bank na")],
        [rule],
    )
    assert len(agreeing.matches) == 1
    other = match(
        [line("L1", "1", refs={"R"}, counterparty="ACME Bank")],
        [movement("M1", "1", refs={"R"}, counterparty="Other Bank")],
        [rule],
    )
    assert other.matches == ()


def test_a_reference_too_many_movements_share_is_not_followed_and_noted() -> None:
    movements = [movement(f"M{i:02}", "5", refs={"INVOICE"}) for i in range(4)]
    outcome = match(
        [line("L1", "5", refs={"INVOICE"}), line("L2", "5", refs={"INVOICE", "E2E-2"})],
        [*movements, movement("M99", "5", refs={"E2E-2"})],
        [exact(name="reference", max_candidates=3)],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [(("L2",), ("M99",))]
    assert outcome.gave_up == (
        GaveUp("reference", "L1", "more than 3 candidates (reference 'INVOICE')"),
    )
