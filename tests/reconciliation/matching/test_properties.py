"""Properties of any run, on generated lines, movements and rules full of near-collisions
(shared references, equal and nearly equal amounts, nearby dates, counterparties spelt
differently): no item matched twice, every item matched once or left unmatched, the same answer
in any input order, every match within its rule's tolerances, every unmatched item in one break."""

import itertools
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from app.reconciliation.matching import (
    BookMovement,
    Outcome,
    Rule,
    RuleKind,
    StatementLine,
    classify,
    match,
)
from tests.reconciliation.matching.factories import DAY

AMOUNTS = ["-100.00", "-50.00", "-49.99", "0.00", "10.00", "20.00", "30.00", "30.01", "50.00"]
TOLERANCES = [Decimal(0), Decimal("0.01"), Decimal("0.05")]
REFERENCES = ["R1", "R2", "R3", "R4"]
COUNTERPARTIES = [None, "Acme", "ACME.", "Globex"]

Case = tuple[list[StatementLine], list[BookMovement], list[Rule]]


def _item_fields(draw: st.DrawFn) -> dict[str, object]:
    return {
        "currency": draw(st.sampled_from(["EUR", "USD"])),
        "amount": Decimal(draw(st.sampled_from(AMOUNTS))),
        "value_date": DAY + timedelta(days=draw(st.integers(0, 3))),
        "references": frozenset(draw(st.lists(st.sampled_from(REFERENCES), max_size=2))),
        "counterparty": draw(st.sampled_from(COUNTERPARTIES)),
    }


def _rule(draw: st.DrawFn, index: int) -> Rule:
    return Rule(
        name=f"rule-{index}",
        priority=draw(st.integers(0, 3)),
        kind=draw(st.sampled_from(list(RuleKind))),
        enabled=draw(st.sampled_from([True, True, True, False])),
        amount_tolerance={"USD": draw(st.sampled_from(TOLERANCES))},
        default_amount_tolerance=draw(st.sampled_from(TOLERANCES)),
        value_date_days=draw(st.integers(0, 2)),
        counterparty_must_agree=draw(st.booleans()),
        max_group_size=draw(st.integers(2, 4)),
        max_candidates=draw(st.integers(2, 6)),
        search_budget=draw(st.sampled_from([1, 3, 10, 1_000])),
    )


def _echo(draw: st.DrawFn, item: StatementLine | BookMovement) -> dict[str, object]:
    """The item's fields, nudged a little or not at all: a likely candidate on the other side."""
    nudge = Decimal(draw(st.sampled_from(["0", "0", "0.01", "-0.01", "0.05"])))
    return {
        "currency": item.currency,
        "amount": item.amount + nudge,
        "value_date": item.value_date + timedelta(days=draw(st.integers(0, 1))),
        "references": item.references if draw(st.booleans()) else frozenset(),
        "counterparty": item.counterparty,
    }


def _parts(draw: st.DrawFn, item: StatementLine | BookMovement) -> list[dict[str, object]]:
    """The item's amount split in two or three: a group on the other side."""
    tenths = sorted(draw(st.sets(st.integers(1, 9), min_size=1, max_size=2)))
    cuts = [Decimal(0), *(item.amount * t / 10 for t in tenths), item.amount]
    fields = {**_echo(draw, item), "references": frozenset()}
    return [{**fields, "amount": high - low} for low, high in itertools.pairwise(cuts)]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    line_fields = [_item_fields(draw) for _ in range(draw(st.integers(0, 8)))]
    lines = [StatementLine(id=f"L{i}", **f) for i, f in enumerate(line_fields)]  # type: ignore[arg-type]
    movement_fields = [_item_fields(draw) for _ in range(draw(st.integers(0, 4)))]
    for line in lines:
        shape = draw(st.sampled_from(["none", "echo", "echo", "parts"]))
        if shape == "echo":
            movement_fields.append(_echo(draw, line))
        elif shape == "parts":
            movement_fields.extend(_parts(draw, line))
    movements = [BookMovement(id=f"M{i}", **f) for i, f in enumerate(movement_fields)]  # type: ignore[arg-type]
    split_a_movement = draw(st.booleans())
    if movements and split_a_movement:
        base = draw(st.sampled_from(movements))
        extra = [StatementLine(id=f"LP{i}", **f) for i, f in enumerate(_parts(draw, base))]  # type: ignore[arg-type]
        lines += extra
    rules = [_rule(draw, index) for index in range(draw(st.integers(0, 5)))]
    return lines, movements, rules


def _matched(outcome: Outcome) -> tuple[Counter[str], Counter[str]]:
    lines = Counter(line_id for m in outcome.matches for line_id in m.line_ids)
    movements = Counter(movement_id for m in outcome.matches for movement_id in m.movement_ids)
    return lines, movements


@given(cases())
def test_every_item_is_in_exactly_one_match_or_unmatched(case: Case) -> None:
    lines, movements, rules = case
    outcome = match(lines, movements, rules)
    matched_lines, matched_movements = _matched(outcome)
    assert all(count == 1 for count in (*matched_lines.values(), *matched_movements.values()))
    assert not set(matched_lines) & set(outcome.unmatched_line_ids)
    assert not set(matched_movements) & set(outcome.unmatched_movement_ids)
    assert sorted([*matched_lines, *outcome.unmatched_line_ids]) == sorted(x.id for x in lines)
    assert sorted([*matched_movements, *outcome.unmatched_movement_ids]) == sorted(
        m.id for m in movements
    )


@given(cases(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_input_order(case: Case, random: Random) -> None:
    lines, movements, rules = case
    shuffled_lines = random.sample(lines, len(lines))
    shuffled_movements = random.sample(movements, len(movements))
    shuffled_rules = random.sample(rules, len(rules))
    first = match(lines, movements, rules)
    again = match(shuffled_lines, shuffled_movements, shuffled_rules)
    assert again == first
    assert classify(again, shuffled_lines, shuffled_movements, shuffled_rules) == classify(
        first, lines, movements, rules
    )


@given(cases())
def test_every_match_is_within_its_rules_tolerances(case: Case) -> None:
    lines, movements, rules = case
    by_id: dict[str, StatementLine | BookMovement] = {x.id: x for x in lines}
    by_id.update((m.id, m) for m in movements)
    by_name = {rule.name: rule for rule in rules}
    for found in match(lines, movements, rules).matches:
        rule = by_name[found.rule]
        assert rule.enabled
        items = [by_id[i] for i in (*found.line_ids, *found.movement_ids)]
        (currency,) = {item.currency for item in items}
        line_sum = sum((by_id[i].amount for i in found.line_ids), Decimal(0))
        movement_sum = sum((by_id[i].amount for i in found.movement_ids), Decimal(0))
        assert found.amount_difference == line_sum - movement_sum
        assert abs(found.amount_difference) <= rule.tolerance(currency)
        assert abs(found.value_date_difference) <= rule.value_date_days
        sizes = (len(found.line_ids), len(found.movement_ids))
        if rule.kind is RuleKind.ONE_TO_MANY:
            assert sizes[0] == 1
            assert 2 <= sizes[1] <= rule.max_group_size
        elif rule.kind is RuleKind.MANY_TO_ONE:
            assert 2 <= sizes[0] <= rule.max_group_size
            assert sizes[1] == 1
        else:
            assert sizes == (1, 1)
        if rule.kind is RuleKind.AMOUNT_DATE_COUNTERPARTY:
            assert by_id[found.line_ids[0]].references.isdisjoint(
                by_id[found.movement_ids[0]].references
            )


@given(cases())
def test_every_unmatched_item_is_in_exactly_one_break(case: Case) -> None:
    lines, movements, rules = case
    outcome = match(lines, movements, rules)
    found = classify(outcome, lines, movements, rules)
    in_breaks = Counter(item for b in found for item in (*b.line_ids, *b.movement_ids))
    assert sorted(in_breaks) == sorted(
        [*outcome.unmatched_line_ids, *outcome.unmatched_movement_ids]
    )
    assert set(in_breaks.values()) <= {1}
    assert len({b.key for b in found}) == len(found)
