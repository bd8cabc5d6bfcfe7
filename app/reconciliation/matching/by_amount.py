"""Amount, value date and counterparty within tolerance: only pairs that are unambiguous, a line
with exactly one fitting movement which has exactly one fitting line. Anything else is left to
later rules or becomes a break: guessing between two equal payments would hide a duplicate.
A line and a movement that share a reference are not candidates: the reference says they are
the same payment, and when the reference rules refused them the difference between them is a
break to show, not to match away (a payment a day late is a value-date break even though this
rule allows a day).

Candidates are found in buckets keyed by currency, counterparty (when the rule needs it) and
amount cell (the amount divided by the tolerance, rounded down: amounts within the tolerance lie
in the same or a neighbouring cell), then by value date within a bucket."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Generic

from app.reconciliation.matching.fit import (
    ByValueDate,
    Found,
    T,
    amounts_agree,
    counterparty_key,
    make_match,
)
from app.reconciliation.matching.values import BookMovement, Rule, StatementLine

_BucketKey = tuple[str, str, Decimal]


class _AmountIndex(Generic[T]):
    def __init__(self, rule: Rule, items: Sequence[T]) -> None:
        self.rule = rule
        grouped: dict[_BucketKey, list[T]] = defaultdict(list)
        for item in items:
            party = self._party(item)
            if party is not None:
                grouped[(item.currency, party, self._cell(item))].append(item)
        self.buckets: dict[_BucketKey, ByValueDate[T]] = {
            key: ByValueDate(members) for key, members in grouped.items()
        }

    def _party(self, item: StatementLine | BookMovement) -> str | None:
        """The counterparty part of the bucket key: None keeps an item without a counterparty
        out of a rule that needs one."""
        return counterparty_key(item.counterparty) if self.rule.counterparty_must_agree else ""

    def _cell(self, item: StatementLine | BookMovement) -> Decimal:
        width = self.rule.tolerance(item.currency)
        return (item.amount / width).to_integral_value(ROUND_FLOOR) if width else item.amount

    def fitting(self, probe: StatementLine | BookMovement, *, enough: int) -> list[T]:
        """Up to ``enough`` items that fit ``probe`` (two are enough to know it is ambiguous)."""
        party = self._party(probe)
        if party is None:
            return []
        cell = self._cell(probe)
        cells = (cell - 1, cell, cell + 1) if self.rule.tolerance(probe.currency) else (cell,)
        found: list[T] = []
        for each in cells:
            bucket = self.buckets.get((probe.currency, party, each))
            if bucket is None:
                continue
            for item in bucket.within(probe.value_date, self.rule.value_date_days):
                if amounts_agree(
                    self.rule, probe.amount, item.amount, probe.currency
                ) and probe.references.isdisjoint(item.references):
                    found.append(item)
                    if len(found) >= enough:
                        return found
        return found


def match_by_amount(
    rule: Rule, lines: Sequence[StatementLine], movements: Sequence[BookMovement]
) -> Found:
    movement_index = _AmountIndex(rule, movements)
    line_index = _AmountIndex(rule, lines)
    found = Found()
    for line in lines:
        movement_candidates = movement_index.fitting(line, enough=2)
        if len(movement_candidates) != 1:
            continue
        (movement,) = movement_candidates
        if len(line_index.fitting(movement, enough=2)) == 1:  # fitting is symmetric: it is line
            found.matches.append(make_match(rule, [line], [movement]))
    return found
