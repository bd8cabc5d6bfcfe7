"""Amount, value date and counterparty within tolerance: only a pair with exactly one candidate
each way is matched; anything ambiguous is left alone."""

from decimal import Decimal

import pytest

from app.reconciliation.matching import BreakKind, Match, classify, match
from tests.reconciliation.matching.factories import by_amount, cents, exact, line, movement

RULE = by_amount(
    name="amount-date-cpty",
    amount_tolerance=cents("0.01"),
    value_date_days=1,
    counterparty_must_agree=True,
)


def test_a_unique_pair_without_references_matches() -> None:
    outcome = match(
        [line("L1", "-980.00", counterparty="Goldman Sachs International", days_late=1)],
        [movement("M1", "-980.01", counterparty="GOLDMAN SACHS INTERNATIONAL")],
        [RULE],
    )
    assert outcome.matches == (Match("amount-date-cpty", ("L1",), ("M1",), Decimal("0.01"), 1),)


@pytest.mark.parametrize(
    ("book", "matched"),
    [("100.01", True), ("99.99", True), ("100.02", False), ("99.98", False), ("-100.00", False)],
)
def test_amount_tolerance_edges(book: str, matched: bool) -> None:
    outcome = match(
        [line("L1", "100.00", counterparty="ACME")],
        [movement("M1", book, counterparty="ACME")],
        [RULE],
    )
    assert len(outcome.matches) == (1 if matched else 0)


def test_amounts_either_side_of_a_tolerance_cell_boundary_match() -> None:
    """0.99 and 1.00 lie in neighbouring cells of width 0.01: still within tolerance."""
    outcome = match(
        [line("L1", "0.99", counterparty="ACME")],
        [movement("M1", "1.00", counterparty="ACME")],
        [RULE],
    )
    assert len(outcome.matches) == 1


def test_with_no_tolerance_amounts_must_be_equal() -> None:
    rule = by_amount(value_date_days=1)
    outcome = match(
        [line("L1", "100.0"), line("L2", "50.00")],
        [movement("M1", "100.00"), movement("M2", "50.01")],
        [rule],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [(("L1",), ("M1",))]


@pytest.mark.parametrize(("days_late", "matched"), [(1, True), (-1, True), (2, False)])
def test_value_date_tolerance_edges(days_late: int, matched: bool) -> None:
    outcome = match(
        [line("L1", "100", counterparty="ACME", days_late=days_late)],
        [movement("M1", "100", counterparty="ACME")],
        [RULE],
    )
    assert len(outcome.matches) == (1 if matched else 0)


def test_counterparties_must_agree_when_the_rule_says_so() -> None:
    lines = [line("L1", "100", counterparty="ACME")]
    movements = [movement("M1", "100", counterparty="Globex")]
    assert match(lines, movements, [RULE]).matches == ()
    loose = by_amount(counterparty_must_agree=False)
    assert len(match(lines, movements, [loose]).matches) == 1


def test_an_unknown_counterparty_never_agrees() -> None:
    outcome = match(
        [line("L1", "100", counterparty=None)], [movement("M1", "100", counterparty="ACME")], [RULE]
    )
    assert outcome.matches == ()
    punctuation_only = match(
        [line("L1", "100", counterparty="--")], [movement("M1", "100", counterparty="..")], [RULE]
    )
    assert punctuation_only.matches == ()


def test_two_equal_lines_for_one_movement_are_left_alone() -> None:
    outcome = match(
        [line("L1", "100", counterparty="ACME"), line("L2", "100", counterparty="ACME")],
        [movement("M1", "100", counterparty="ACME")],
        [RULE],
    )
    assert outcome.matches == ()
    assert outcome.unmatched_line_ids == ("L1", "L2")
    assert outcome.unmatched_movement_ids == ("M1",)


def test_one_line_for_two_equal_movements_is_left_alone() -> None:
    outcome = match(
        [line("L1", "100", counterparty="ACME")],
        [movement("M1", "100", counterparty="ACME"), movement("M2", "100.01", counterparty="ACME")],
        [RULE],
    )
    assert outcome.matches == ()


def test_only_fitting_candidates_make_a_pair_ambiguous() -> None:
    """Another payment of the same amount three days later, or to another counterparty, is no
    candidate: the pair stays unambiguous."""
    outcome = match(
        [line("L1", "100", counterparty="ACME"), line("L2", "100", counterparty="Globex")],
        [
            movement("M1", "100", counterparty="ACME"),
            movement("M2", "100", counterparty="ACME", days_late=3),
        ],
        [RULE],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [(("L1",), ("M1",))]
    assert outcome.unmatched_movement_ids == ("M2",)


def test_different_references_do_not_stop_a_match() -> None:
    outcome = match(
        [line("L1", "100", refs={"A"}, counterparty="ACME")],
        [movement("M1", "100", refs={"B"}, counterparty="ACME")],
        [RULE],
    )
    assert len(outcome.matches) == 1


def test_a_pair_sharing_a_reference_is_left_to_the_reference_rules_and_the_breaks() -> None:
    """The reference rule (same day) refuses a payment a day late; this rule allows a day, but
    the shared reference says it is the same payment: a value-date break, not a match."""
    lines = [line("L1", "100", refs={"E2E-1"}, counterparty="ACME", days_late=1)]
    movements = [movement("M1", "100", refs={"E2E-1"}, counterparty="ACME")]
    rules = [exact(), RULE]
    outcome = match(lines, movements, rules)
    assert outcome.matches == ()
    assert [b.kind for b in classify(outcome, lines, movements, rules)] == [
        BreakKind.VALUE_DATE_DIFFERENCE
    ]


def test_a_pair_sharing_a_reference_does_not_make_another_ambiguous() -> None:
    outcome = match(
        [line("L1", "100", counterparty="ACME", refs={"X"})],
        [
            movement("M1", "100", counterparty="ACME", refs={"X"}),
            movement("M2", "100", counterparty="ACME"),
        ],
        [RULE],
    )
    assert [(m.line_ids, m.movement_ids) for m in outcome.matches] == [(("L1",), ("M2",))]
