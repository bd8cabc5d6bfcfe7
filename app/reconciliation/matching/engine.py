"""``match``: the enabled rules in priority order (lower first, then by name), each over what the
rules before it left; an item matched once is never matched again. The result does not depend on
the order of the input: every rule walks its items in id order and breaks ties by id."""

from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import TypeVar

from app.reconciliation.matching.by_amount import match_by_amount
from app.reconciliation.matching.by_reference import match_by_reference
from app.reconciliation.matching.fit import Found, make_match
from app.reconciliation.matching.groups import match_groups
from app.reconciliation.matching.values import (
    BookMovement,
    GaveUp,
    Match,
    Outcome,
    Rule,
    RuleKind,
    StatementLine,
)

Item = TypeVar("Item", StatementLine, BookMovement)
Apply = Callable[[Rule, Sequence[StatementLine], Sequence[BookMovement]], Found]


def _one_to_many(
    rule: Rule, lines: Sequence[StatementLine], movements: Sequence[BookMovement]
) -> Found:
    return match_groups(rule, lines, movements, lambda line, ms: make_match(rule, [line], ms))


def _many_to_one(
    rule: Rule, lines: Sequence[StatementLine], movements: Sequence[BookMovement]
) -> Found:
    return match_groups(rule, movements, lines, lambda m, parts: make_match(rule, parts, [m]))


APPLY: dict[RuleKind, Apply] = {
    RuleKind.EXACT_REFERENCE: match_by_reference,
    RuleKind.AMOUNT_DATE_COUNTERPARTY: match_by_amount,
    RuleKind.ONE_TO_MANY: _one_to_many,
    RuleKind.MANY_TO_ONE: _many_to_one,
}


def _in_id_order(items: Iterable[Item], what: str) -> list[Item]:
    ordered = sorted(items, key=lambda item: item.id)
    for first, second in pairwise(ordered):
        if first.id == second.id:
            raise ValueError(f"{what} '{first.id}' is given twice")
    return ordered


def in_priority_order(rules: Iterable[Rule]) -> list[Rule]:
    ordered = sorted((rule for rule in rules if rule.enabled), key=lambda r: (r.priority, r.name))
    names = [rule.name for rule in ordered]
    if len(set(names)) != len(names):
        raise ValueError("two enabled rules share a name")
    return ordered


def match(
    lines: Iterable[StatementLine], movements: Iterable[BookMovement], rules: Iterable[Rule]
) -> Outcome:
    """Statement lines against book movements, rule by rule."""
    open_lines = _in_id_order(lines, "statement line")
    open_movements = _in_id_order(movements, "book movement")
    matches: list[Match] = []
    gave_up: list[GaveUp] = []
    for rule in in_priority_order(rules):
        found = APPLY[rule.kind](rule, open_lines, open_movements)
        matches.extend(sorted(found.matches, key=lambda m: (m.line_ids, m.movement_ids)))
        gave_up.extend(sorted(found.gave_up, key=lambda note: note.item_id))
        taken_lines = {line_id for m in found.matches for line_id in m.line_ids}
        taken_movements = {movement_id for m in found.matches for movement_id in m.movement_ids}
        open_lines = [line for line in open_lines if line.id not in taken_lines]
        open_movements = [m for m in open_movements if m.id not in taken_movements]
    return Outcome(
        matches=tuple(matches),
        unmatched_line_ids=tuple(line.id for line in open_lines),
        unmatched_movement_ids=tuple(m.id for m in open_movements),
        gave_up=tuple(gave_up),
    )
