"""What every rule asks of a candidate: same currency, amount and value date within the rule's
tolerances, counterparties that agree; and the index that finds candidates by value date
without comparing every item with every other."""

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from app.reconciliation.matching.values import BookMovement, GaveUp, Match, Rule, StatementLine

Item = StatementLine | BookMovement
T = TypeVar("T", StatementLine, BookMovement)


def counterparty_key(value: str | None) -> str | None:
    """Names and accounts compared without case, spaces or punctuation ("ACME Bank, N.A." is
    "acmebankna"); None when nothing is left to compare."""
    if value is None:
        return None
    key = "".join(character for character in value.casefold() if character.isalnum())
    return key or None


def counterparties_agree(rule: Rule, first: Item, second: Item) -> bool:
    if not rule.counterparty_must_agree:
        return True
    key = counterparty_key(first.counterparty)
    return key is not None and key == counterparty_key(second.counterparty)


def amounts_agree(rule: Rule, line_amount: Decimal, book_amount: Decimal, currency: str) -> bool:
    """Exactly at the tolerance agrees; a cent beyond does not."""
    return abs(line_amount - book_amount) <= rule.tolerance(currency)


def dates_agree(rule: Rule, first: date, second: date) -> bool:
    return abs((first - second).days) <= rule.value_date_days


def sign(amount: Decimal) -> int:
    return (amount > 0) - (amount < 0)


def widest_gap(lines: Sequence[StatementLine], movements: Sequence[BookMovement]) -> int:
    """The widest value-date gap in calendar days between a line and a movement, signed
    (positive: the bank's value date is the later one)."""
    if len(lines) == 1 and len(movements) == 1:  # most matches: no list to build
        return (lines[0].value_date - movements[0].value_date).days
    gaps = [(line.value_date - m.value_date).days for line in lines for m in movements]
    return max(gaps, key=lambda gap: (abs(gap), gap))


def make_match(
    rule: Rule, lines: Sequence[StatementLine], movements: Sequence[BookMovement]
) -> Match:
    return Match(
        rule=rule.name,
        line_ids=tuple(sorted(line.id for line in lines)),
        movement_ids=tuple(sorted(m.id for m in movements)),
        amount_difference=sum((line.amount for line in lines), Decimal(0))
        - sum((m.amount for m in movements), Decimal(0)),
        value_date_difference=widest_gap(lines, movements),
    )


class ByValueDate(Generic[T]):
    """Items in (value date, id) order: those within a span of days found by bisection."""

    def __init__(self, items: Sequence[T]) -> None:
        self.items: list[T] = sorted(items, key=lambda item: (item.value_date, item.id))
        self._days: list[int] = [item.value_date.toordinal() for item in self.items]

    def within(self, day: date, days: int) -> Iterator[T]:
        ordinal = day.toordinal()
        start = bisect_left(self._days, ordinal - days)
        end = bisect_right(self._days, ordinal + days)
        for index in range(start, end):
            yield self.items[index]


@dataclass
class Found:
    """What one rule matched, and where its search stopped short."""

    matches: list[Match] = field(default_factory=list)
    gave_up: list[GaveUp] = field(default_factory=list)


def pair_fits(rule: Rule, line: StatementLine, movement: BookMovement) -> bool:
    return (
        line.currency == movement.currency
        and amounts_agree(rule, line.amount, movement.amount, line.currency)
        and dates_agree(rule, line.value_date, movement.value_date)
        and counterparties_agree(rule, line, movement)
    )


def closeness(line: StatementLine, movement: BookMovement) -> tuple[Decimal, int, str, str]:
    """The better of two candidate pairs: the smaller amount difference, then the nearer value
    date, then the ids (so the choice never depends on the order of the input)."""
    gap = abs((line.value_date - movement.value_date).days)
    return abs(line.amount - movement.amount), gap, line.id, movement.id
