"""What the rules leave becomes breaks: missing in book, missing at bank, and ONE break for a
line and a movement that share a reference but differ in amount or value date."""

from datetime import date
from decimal import Decimal

from app.reconciliation.matching import (
    BookMovement,
    BreakCandidate,
    BreakKind,
    Rule,
    StatementLine,
    classify,
    match,
)
from tests.reconciliation.matching.factories import (
    DAY,
    by_amount,
    cents,
    exact,
    line,
    movement,
    one_to_many,
)

RULES = [exact(amount_tolerance=cents("0.01"), value_date_days=0), by_amount(priority=2)]
MONDAY = date(2026, 12, 7)


def breaks(
    lines: list[StatementLine], movements: list[BookMovement], rules: list[Rule] = RULES
) -> list[BreakCandidate]:
    return classify(match(lines, movements, rules), lines, movements, rules)


def test_a_statement_line_the_book_does_not_explain_is_missing_in_book() -> None:
    assert breaks([line("L1", "-12.50", refs={"FEE"}, booking_date=MONDAY)], []) == [
        BreakCandidate(
            BreakKind.MISSING_IN_BOOK, Decimal("-12.50"), "EUR", ("L1",), (), since=MONDAY
        )
    ]


def test_a_line_without_a_booking_date_counts_from_its_value_date() -> None:
    (found,) = breaks([line("L1", "5", days_late=2)], [])
    assert found.since == date(2026, 12, 6)


def test_a_book_movement_no_line_shows_is_missing_at_bank() -> None:
    assert breaks([], [movement("M1", "2500.00", currency="USD", days_late=3)]) == [
        BreakCandidate(
            BreakKind.MISSING_AT_BANK, Decimal("2500.00"), "USD", (), ("M1",), since=MONDAY
        )
    ]


def test_a_shared_reference_with_amounts_beyond_tolerance_is_one_amount_break() -> None:
    found = breaks(
        [line("L1", "-1000.00", refs={"E2E-1"}, booking_date=MONDAY)],
        [movement("M1", "-1000.02", refs={"E2E-1"})],
    )
    assert found == [
        BreakCandidate(
            BreakKind.AMOUNT_DIFFERENCE, Decimal("0.02"), "EUR", ("L1",), ("M1",), since=DAY
        )
    ]
    assert found[0].key == '[["L1"],["M1"]]'


def test_an_amount_within_tolerance_a_day_late_is_one_value_date_break() -> None:
    found = breaks(
        [line("L1", "-1000.00", refs={"E2E-1"}, days_late=1)],
        [movement("M1", "-1000.01", refs={"E2E-1"})],
    )
    assert found == [
        BreakCandidate(
            BreakKind.VALUE_DATE_DIFFERENCE,
            Decimal("-1000.00"),
            "EUR",
            ("L1",),
            ("M1",),
            since=DAY,
        )
    ]


def test_amounts_and_dates_that_differ_are_an_amount_break() -> None:
    (found,) = breaks(
        [line("L1", "90", refs={"R"}, days_late=3)], [movement("M1", "100", refs={"R"})]
    )
    assert (found.kind, found.amount) == (BreakKind.AMOUNT_DIFFERENCE, Decimal(-10))


def test_the_tolerances_are_the_widest_of_the_enabled_exact_reference_rules() -> None:
    lines = [line("L1", "100.00", refs={"R"}, days_late=2)]
    movements = [movement("M1", "100.04", refs={"R"})]
    rules = [
        exact(name="a", amount_tolerance=cents("0.05"), enabled=False),
        exact(name="b", amount_tolerance=cents("0.03"), value_date_days=1),
    ]
    assert [b.kind for b in breaks(lines, movements, rules)] == [BreakKind.AMOUNT_DIFFERENCE]
    wider = [*rules, exact(name="c", amount_tolerance=cents("0.04"))]
    assert [b.kind for b in breaks(lines, movements, wider)] == [BreakKind.VALUE_DATE_DIFFERENCE]


def test_without_an_exact_reference_rule_amounts_must_be_equal() -> None:
    found = breaks([line("L1", "10.00", refs={"R"})], [movement("M1", "10.01", refs={"R"})], [])
    assert [(b.kind, b.amount) for b in found] == [(BreakKind.AMOUNT_DIFFERENCE, Decimal("-0.01"))]


def test_a_pair_that_agrees_but_was_not_matched_is_two_missing_breaks() -> None:
    rules = [exact(counterparty_must_agree=True)]
    found = breaks(
        [line("L1", "10", refs={"R"}, counterparty="A")],
        [movement("M1", "10", refs={"R"}, counterparty="B")],
        rules,
    )
    assert [b.kind for b in found] == [BreakKind.MISSING_IN_BOOK, BreakKind.MISSING_AT_BANK]


def test_another_currency_is_no_pair() -> None:
    found = breaks(
        [line("L1", "10", refs={"R"}, currency="USD")], [movement("M1", "12", refs={"R"})]
    )
    assert sorted(b.kind for b in found) == [BreakKind.MISSING_AT_BANK, BreakKind.MISSING_IN_BOOK]


def test_matched_items_make_no_break_and_a_duplicate_is_missing_in_book() -> None:
    found = breaks(
        [line("L1", "500", refs={"E2E-7"}), line("L2", "500", refs={"E2E-7"})],
        [movement("M1", "500", refs={"E2E-7"})],
    )
    assert [(b.kind, b.line_ids, b.movement_ids) for b in found] == [
        (BreakKind.MISSING_IN_BOOK, ("L2",), ())
    ]


def test_each_item_is_in_one_pair_break_at_most_the_closest_first() -> None:
    found = breaks(
        [line("L1", "100", refs={"R"}), line("L2", "200", refs={"R"})],
        [movement("M1", "198", refs={"R"})],
    )
    assert [(b.kind, b.line_ids, b.movement_ids, b.amount) for b in found] == [
        (BreakKind.MISSING_IN_BOOK, ("L1",), (), Decimal(100)),
        (BreakKind.AMOUNT_DIFFERENCE, ("L2",), ("M1",), Decimal(2)),
    ]


def test_a_scenario_finds_every_seeded_difference_and_nothing_else() -> None:
    ccp = "LCH"
    lines = [
        line("L-ok", "-1000.00", refs={"E2E-1"}),
        line("L-cent-in", "-500.01", refs={"E2E-2"}),
        line("L-cent-out", "-400.02", refs={"E2E-3"}),
        line("L-late", "300.00", refs={"E2E-4"}, days_late=1),
        line("L-fee", "-15.00", refs={"BANK-FEE-11"}),
        line("L-net", "-300.00", counterparty=ccp),
    ]
    movements = [
        movement("M-ok", "-1000.00", refs={"E2E-1"}),
        movement("M-cent-in", "-500.00", refs={"E2E-2"}),
        movement("M-cent-out", "-400.00", refs={"E2E-3"}),
        movement("M-late", "300.00", refs={"E2E-4"}),
        movement("M-missing", "250.00", refs={"E2E-5"}),
        movement("S1", "-100.00", counterparty=ccp),
        movement("S2", "-120.00", counterparty=ccp),
        movement("S3", "-80.00", counterparty=ccp),
    ]
    rules = [
        *RULES,
        one_to_many(name="net", priority=3, counterparty_must_agree=True),
    ]
    outcome = match(lines, movements, rules)
    assert [(m.rule, m.line_ids, m.movement_ids) for m in outcome.matches] == [
        ("exact_reference", ("L-cent-in",), ("M-cent-in",)),
        ("exact_reference", ("L-ok",), ("M-ok",)),
        ("net", ("L-net",), ("S1", "S2", "S3")),
    ]
    assert [
        (b.kind, b.line_ids, b.movement_ids, b.amount)
        for b in classify(outcome, lines, movements, rules)
    ] == [
        (BreakKind.AMOUNT_DIFFERENCE, ("L-cent-out",), ("M-cent-out",), Decimal("-0.02")),
        (BreakKind.MISSING_IN_BOOK, ("L-fee",), (), Decimal("-15.00")),
        (BreakKind.VALUE_DATE_DIFFERENCE, ("L-late",), ("M-late",), Decimal("300.00")),
        (BreakKind.MISSING_AT_BANK, (), ("M-missing",), Decimal("250.00")),
    ]
