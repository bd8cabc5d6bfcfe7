"""Rules apply in priority order, each over what the earlier ones left; disabled rules do
nothing; bad input and bad rules are refused; matches have stable keys."""

from decimal import Decimal

import pytest

from app.reconciliation.matching import GaveUp, Match, Rule, RuleKind, item_key, match
from tests.reconciliation.matching.factories import by_amount, exact, line, movement, one_to_many

LINES = [line("L1", "100", refs={"R1"}, counterparty="ACME")]
MOVEMENTS = [movement("M1", "100", refs={"R1"}, counterparty="ACME")]


def test_the_rule_with_the_lower_priority_number_matches_first() -> None:
    first = match(LINES, MOVEMENTS, [exact(name="b", priority=2), exact(name="a", priority=1)])
    assert [m.rule for m in first.matches] == ["a"]
    swapped = match(LINES, MOVEMENTS, [exact(name="b", priority=1), exact(name="a", priority=2)])
    assert [m.rule for m in swapped.matches] == ["b"]
    unrelated = [line("L1", "100", counterparty="ACME")]
    by_priority = match(unrelated, MOVEMENTS, [by_amount(priority=2), one_to_many(priority=1)])
    assert [m.rule for m in by_priority.matches] == ["amount_date_counterparty"]


def test_equal_priorities_go_by_name() -> None:
    outcome = match(LINES, MOVEMENTS, [exact(name="b", priority=1), exact(name="a", priority=1)])
    assert [m.rule for m in outcome.matches] == ["a"]


def test_a_disabled_rule_does_nothing() -> None:
    outcome = match(LINES, MOVEMENTS, [exact(enabled=False)])
    assert outcome.matches == ()
    assert (outcome.unmatched_line_ids, outcome.unmatched_movement_ids) == (("L1",), ("M1",))


def test_an_item_matched_by_an_earlier_rule_is_never_matched_again() -> None:
    """L1 and M1 share a reference; L2 has no reference and M1's amount. Once M1 is taken,
    the amount rule has no candidate for L2 (M2's amount differs)."""
    outcome = match(
        [line("L1", "100", refs={"R1"}), line("L2", "100")],
        [movement("M1", "100", refs={"R1"}), movement("M2", "250")],
        [exact(priority=1), by_amount(priority=2), one_to_many(priority=3)],
    )
    assert [(m.rule, m.line_ids, m.movement_ids) for m in outcome.matches] == [
        ("exact_reference", ("L1",), ("M1",))
    ]
    assert (outcome.unmatched_line_ids, outcome.unmatched_movement_ids) == (("L2",), ("M2",))


def test_later_rules_match_what_earlier_ones_left() -> None:
    outcome = match(
        [line("L1", "100", refs={"R1"}), line("L2", "70"), line("L3", "90")],
        [
            movement("M1", "100", refs={"R1"}),
            movement("M2", "70"),
            movement("M3", "40"),
            movement("M4", "50"),
        ],
        [one_to_many(priority=30), by_amount(priority=20), exact(priority=10)],
    )
    assert outcome.matches == (
        Match("exact_reference", ("L1",), ("M1",), Decimal(0), 0),
        Match("amount_date_counterparty", ("L2",), ("M2",), Decimal(0), 0),
        Match("one_to_many", ("L3",), ("M3", "M4"), Decimal(0), 0),
    )
    assert outcome.unmatched_line_ids == outcome.unmatched_movement_ids == ()


def test_no_rules_match_nothing() -> None:
    outcome = match(LINES, MOVEMENTS, [])
    assert outcome.matches == ()
    assert outcome.gave_up == ()
    assert outcome.unmatched_line_ids == ("L1",)


def test_an_id_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="statement line 'L1' is given twice"):
        match([*LINES, *LINES], MOVEMENTS, [exact()])
    with pytest.raises(ValueError, match="book movement 'M1' is given twice"):
        match(LINES, [*MOVEMENTS, *MOVEMENTS], [exact()])


def test_two_enabled_rules_of_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="share a name"):
        match(LINES, MOVEMENTS, [exact(name="x"), by_amount(name="x")])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"default_amount_tolerance": Decimal("-0.01")}, "amount tolerance is negative"),
        ({"amount_tolerance": {"EUR": Decimal("-1")}}, "amount tolerance is negative"),
        ({"value_date_days": -1}, "value_date_days is negative"),
        ({"max_group_size": 1}, "bounds are too small"),
        ({"max_candidates": 1}, "bounds are too small"),
        ({"search_budget": 0}, "bounds are too small"),
    ],
)
def test_a_rule_with_bad_bounds_is_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        exact(**overrides)


def test_a_rule_uses_its_currency_tolerance_else_the_default() -> None:
    rule = Rule(
        "r",
        1,
        RuleKind.EXACT_REFERENCE,
        amount_tolerance={"USD": Decimal("0.05")},
        default_amount_tolerance=Decimal("0.01"),
    )
    assert (rule.tolerance("USD"), rule.tolerance("JPY")) == (Decimal("0.05"), Decimal("0.01"))


def test_keys_are_the_sorted_ids_of_both_sides() -> None:
    assert item_key(["L2", "L1"], ["M9"]) == '[["L1","L2"],["M9"]]'
    assert item_key(["L1", "L2"], ["M9"]) == item_key(("L2", "L1"), ("M9",))
    assert item_key(["L1"], []) == '[["L1"],[]]'
    assert item_key(["L1"], []) != item_key([], ["L1"])
    outcome = match(LINES, MOVEMENTS, [exact()])
    assert [m.key for m in outcome.matches] == ['[["L1"],["M1"]]']


def test_gave_up_notes_come_in_rule_then_item_order() -> None:
    lines = [line(f"L{i}", "1000") for i in (2, 1)]
    parts = [movement(f"M{i}", "1") for i in range(5)]
    outcome = match(
        lines,
        parts,
        [
            one_to_many(name="b", priority=2, max_candidates=3),
            one_to_many(name="a", priority=1, max_candidates=4),
        ],
    )
    reasons = {"a": "more than 4 candidates (5)", "b": "more than 3 candidates (5)"}
    assert outcome.gave_up == tuple(
        GaveUp(rule, item, reasons[rule]) for rule in ("a", "b") for item in ("L1", "L2")
    )
