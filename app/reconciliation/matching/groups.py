"""One to many and many to one: one item on one side equals the sum of several on the other
(one net payment for three settlements), within the rule's tolerance. Candidates share the
item's currency, sign and (when the rule needs it) counterparty and lie within its value-date
days; too many candidates, or a search that spends its budget, is noted rather than guessed."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Generic, TypeVar

from app.core.money import decimal_places
from app.reconciliation.matching.fit import ByValueDate, Found, T, counterparty_key, sign
from app.reconciliation.matching.subset_sum import find_subset
from app.reconciliation.matching.values import BookMovement, GaveUp, Match, Rule, StatementLine

Item = StatementLine | BookMovement
S = TypeVar("S", StatementLine, BookMovement)
_GroupKey = tuple[str, int, str]


class _GroupIndex(Generic[T]):
    def __init__(self, rule: Rule, items: Sequence[T]) -> None:
        self.rule = rule
        grouped: dict[_GroupKey, list[T]] = defaultdict(list)
        for item in items:
            key = self.key(item)
            if key is not None and item.amount:
                grouped[key].append(item)
        self.buckets: dict[_GroupKey, ByValueDate[T]] = {
            key: ByValueDate(members) for key, members in grouped.items()
        }

    def key(self, item: Item) -> _GroupKey | None:
        party = counterparty_key(item.counterparty) if self.rule.counterparty_must_agree else ""
        return None if party is None else (item.currency, sign(item.amount), party)

    def candidates(self, single: Item, used: set[str]) -> list[T]:
        """Unused items that could be part of ``single``'s sum: none alone exceeds it by more
        than the tolerance (same sign: a sum is at least its largest part)."""
        key = self.key(single)
        bucket = None if key is None else self.buckets.get(key)
        if bucket is None:
            return []
        ceiling = abs(single.amount) + self.rule.tolerance(single.currency)
        return [
            item
            for item in bucket.within(single.value_date, self.rule.value_date_days)
            if item.id not in used and abs(item.amount) <= ceiling
        ]


def _scaled(amounts: Sequence[Decimal]) -> list[int]:
    """The amounts as whole numbers of their smallest decimal place."""
    places = max(decimal_places(amount) for amount in amounts)
    return [int(amount.scaleb(places)) for amount in amounts]


def _search(rule: Rule, single: Item, candidates: list[T]) -> tuple[list[T] | None, str | None]:
    """The candidates that add up to ``single`` (or None), and why the search stopped short."""
    if len(candidates) > rule.max_candidates:
        return None, f"more than {rule.max_candidates} candidates ({len(candidates)})"
    ordered = sorted(candidates, key=lambda item: (-abs(item.amount), item.id))
    target, tolerance, *values = _scaled(
        [abs(single.amount), rule.tolerance(single.currency)]
        + [abs(item.amount) for item in ordered]
    )
    search = find_subset(
        values, target, tolerance, max_size=rule.max_group_size, budget=rule.search_budget
    )
    if search.exhausted:
        return None, f"search budget exhausted after {search.nodes} nodes"
    return (None if search.chosen is None else [ordered[i] for i in search.chosen]), None


def match_groups(
    rule: Rule,
    singles: Sequence[S],
    parts: Sequence[T],
    build: Callable[[S, list[T]], Match],
) -> Found:
    """Each single (in id order) against the parts not yet taken by an earlier single."""
    index = _GroupIndex(rule, parts)
    used: set[str] = set()
    found = Found()
    for single in sorted(singles, key=lambda item: item.id):
        if not single.amount:
            continue
        candidates = index.candidates(single, used)
        if len(candidates) < 2:
            continue
        chosen, stopped = _search(rule, single, candidates)
        if stopped is not None:
            found.gave_up.append(GaveUp(rule.name, single.id, stopped))
        elif chosen is not None:
            used.update(item.id for item in chosen)
            found.matches.append(build(single, chosen))
    return found
