"""``classify``: what the rules left unmatched, as break candidates.

A line and a movement that share a reference (same currency) but were not matched make ONE
break for the pair: ``amount_difference`` when their amounts differ beyond tolerance (amount:
the line's less the movement's), else ``value_date_difference`` when their value dates lie
further apart than the days allowed (amount: the line's). The tolerances are the widest of the
enabled exact-reference rules (none: exact amounts, the same day). Every other line is
``missing_in_book`` (nothing in the book explains it), every other movement ``missing_at_bank``
(no statement line shows it). A break counts from the statement line's booking date (its value
date when it has none), a movement's value date, or for a pair the earlier of the two."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.reconciliation.matching.by_reference import closest_first, sharing_a_reference
from app.reconciliation.matching.values import (
    BookMovement,
    Outcome,
    Rule,
    RuleKind,
    StatementLine,
    item_key,
)

DEFAULT_MAX_CANDIDATES = 30


class BreakKind(StrEnum):
    MISSING_IN_BOOK = "missing_in_book"
    MISSING_AT_BANK = "missing_at_bank"
    AMOUNT_DIFFERENCE = "amount_difference"
    VALUE_DATE_DIFFERENCE = "value_date_difference"


@dataclass(frozen=True, slots=True)
class BreakCandidate:
    kind: BreakKind
    amount: Decimal  # signed from our side, like the lines and movements
    currency: str
    line_ids: tuple[str, ...]
    movement_ids: tuple[str, ...]
    since: date  # the day its age counts from

    @property
    def key(self) -> str:
        return item_key(self.line_ids, self.movement_ids)


@dataclass(frozen=True)
class _PairTolerance:
    rules: tuple[Rule, ...]

    def amount(self, currency: str) -> Decimal:
        return max((rule.tolerance(currency) for rule in self.rules), default=Decimal(0))

    @property
    def days(self) -> int:
        return max((rule.value_date_days for rule in self.rules), default=0)

    @property
    def limit(self) -> int:
        return max((rule.max_candidates for rule in self.rules), default=DEFAULT_MAX_CANDIDATES)


def _line_since(line: StatementLine) -> date:
    return line.booking_date or line.value_date


def _pair_kind(
    tolerance: _PairTolerance, line: StatementLine, movement: BookMovement
) -> BreakKind | None:
    if line.currency != movement.currency:
        return None
    if abs(line.amount - movement.amount) > tolerance.amount(line.currency):
        return BreakKind.AMOUNT_DIFFERENCE
    if abs((line.value_date - movement.value_date).days) > tolerance.days:
        return BreakKind.VALUE_DATE_DIFFERENCE
    return None  # agrees within tolerance: not a difference (a rule chose not to match it)


def _pair_break(kind: BreakKind, line: StatementLine, movement: BookMovement) -> BreakCandidate:
    amount = line.amount - movement.amount if kind is BreakKind.AMOUNT_DIFFERENCE else line.amount
    since = min(_line_since(line), movement.value_date)
    return BreakCandidate(kind, amount, line.currency, (line.id,), (movement.id,), since)


def classify(
    outcome: Outcome,
    lines: Iterable[StatementLine],
    movements: Iterable[BookMovement],
    rules: Iterable[Rule],
) -> list[BreakCandidate]:
    """Breaks for every unmatched line and movement, in key order (those naming a statement
    line first, by line id; then those of book movements alone)."""
    open_line_ids = set(outcome.unmatched_line_ids)
    open_movement_ids = set(outcome.unmatched_movement_ids)
    open_lines = sorted((x for x in lines if x.id in open_line_ids), key=lambda x: x.id)
    open_movements = sorted((m for m in movements if m.id in open_movement_ids), key=lambda m: m.id)
    tolerance = _PairTolerance(
        tuple(r for r in rules if r.enabled and r.kind is RuleKind.EXACT_REFERENCE)
    )
    shared = sharing_a_reference(open_lines, open_movements, limit=tolerance.limit)
    kinds = {
        (line.id, movement.id): kind
        for line, movement in shared.pairs
        if (kind := _pair_kind(tolerance, line, movement)) is not None
    }
    breaks = [
        _pair_break(kinds[(line.id, movement.id)], line, movement)
        for line, movement in closest_first(shared.pairs, lambda p: (p[0].id, p[1].id) in kinds)
    ]
    paired_lines = {line_id for b in breaks for line_id in b.line_ids}
    paired_movements = {movement_id for b in breaks for movement_id in b.movement_ids}
    breaks += [_missing_in_book(line) for line in open_lines if line.id not in paired_lines]
    breaks += [_missing_at_bank(m) for m in open_movements if m.id not in paired_movements]
    return sorted(breaks, key=lambda b: b.key)


def _missing_in_book(line: StatementLine) -> BreakCandidate:
    kind = BreakKind.MISSING_IN_BOOK
    return BreakCandidate(kind, line.amount, line.currency, (line.id,), (), _line_since(line))


def _missing_at_bank(movement: BookMovement) -> BreakCandidate:
    return BreakCandidate(
        BreakKind.MISSING_AT_BANK,
        movement.amount,
        movement.currency,
        (),
        (movement.id,),
        movement.value_date,
    )
