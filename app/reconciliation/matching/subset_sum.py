"""The bounded subset-sum search behind the one-to-many and many-to-one rules: which of a few
candidate amounts add up to a target within a tolerance. Depth-first over the amounts in
descending order, pruned both ways (an amount that overshoots is skipped; a branch whose largest
possible sum still falls short ends the level), equal amounts tried once per level, every node
counted against a budget. Whole numbers (minor units scaled by the caller) keep it fast."""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class Search:
    chosen: tuple[int, ...] | None  # indexes into the values; None: no subset fits
    nodes: int
    exhausted: bool  # stopped at the budget: neither yes nor no


class _BudgetSpent(Exception):
    pass


def find_subset(
    values: Sequence[int],
    target: int,
    tolerance: int,
    *,
    max_size: int,
    budget: int,
    min_size: int = 2,
) -> Search:
    """The first subset (in depth-first order) of ``min_size`` to ``max_size`` of ``values``
    (positive, in descending order) whose sum is within ``tolerance`` of ``target``."""
    low, high = target - tolerance, target + tolerance
    prefix = [0, *accumulate(values)]
    count = len(values)
    chosen: list[int] = []
    nodes = 0

    def extend(start: int, total: int) -> bool:
        nonlocal nodes
        room = max_size - len(chosen)
        for index in range(start, count):
            value = values[index]
            if total + value > high or (index > start and value == values[index - 1]):
                continue
            if total + prefix[min(count, index + room)] - prefix[index] < low:
                break  # the largest sums left are all smaller from here on
            nodes += 1
            if nodes > budget:
                raise _BudgetSpent
            chosen.append(index)
            reached = total + value
            if len(chosen) >= min_size and reached >= low:
                return True
            if room > 1 and extend(index + 1, reached):
                return True
            chosen.pop()
        return False

    try:
        found = extend(0, 0)
    except _BudgetSpent:
        return Search(None, budget, exhausted=True)
    return Search(tuple(chosen) if found else None, nodes, exhausted=False)
