"""The bounded subset-sum search: the first fitting subset in depth-first order over amounts in
descending order, or none, or a note that the budget ran out."""

from app.reconciliation.matching.subset_sum import Search, find_subset


def test_finds_a_subset_summing_to_the_target() -> None:
    assert find_subset([50, 30, 20, 7], 100, 0, max_size=5, budget=100) == Search(
        (0, 1, 2), nodes=3, exhausted=False
    )


def test_within_the_tolerance() -> None:
    assert find_subset([50, 30], 81, 1, max_size=5, budget=100).chosen == (0, 1)
    assert find_subset([50, 30], 82, 1, max_size=5, budget=100).chosen is None


def test_no_subset_is_none_with_the_nodes_it_tried() -> None:
    result = find_subset([9, 7, 5], 4, 0, max_size=3, budget=100)
    assert result == Search(None, nodes=0, exhausted=False)  # every amount overshoots
    # 9, then 9 + 7 and 9 + 5 overshoot; from 7 on the largest sums (7 + 5) fall short.
    assert find_subset([9, 7, 5], 13, 0, max_size=3, budget=100) == Search(None, 1, False)


def test_at_least_two_and_at_most_max_size() -> None:
    assert find_subset([10, 4], 10, 0, max_size=5, budget=100).chosen is None
    assert find_subset([10, 6, 4], 10, 0, max_size=5, budget=100).chosen == (1, 2)
    assert find_subset([3, 3, 3, 3], 12, 0, max_size=3, budget=100).chosen is None
    assert find_subset([3, 3, 3, 3], 12, 0, max_size=4, budget=100).chosen == (0, 1, 2, 3)


def test_the_budget_stops_the_search() -> None:
    even = [2 * i + 2 for i in reversed(range(20))]  # no sum of them is odd
    assert find_subset(even, 61, 0, max_size=5, budget=341) == Search(None, 341, exhausted=False)
    assert find_subset(even, 61, 0, max_size=5, budget=340) == Search(None, 340, exhausted=True)


def test_equal_amounts_are_tried_once_per_level() -> None:
    """Forty equal amounts and an unreachable target: without the pruning this is thousands of
    nodes (C(40, 4) before the fifth level overshoots); with it, one a level."""
    result = find_subset([5] * 40, 24, 0, max_size=5, budget=1_000)
    assert result == Search(None, nodes=4, exhausted=False)
