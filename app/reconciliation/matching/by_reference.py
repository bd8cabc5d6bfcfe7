"""Exact reference: a line and a movement that share a reference, in the same currency, with
amounts and value dates within the rule's tolerances. Found through a dictionary of the
movements' references, never by comparing every line with every movement; where several pairs
compete for an item the closest wins (``closeness``), so the choice is the same in any order."""

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from app.reconciliation.matching.fit import Found, closeness, make_match, pair_fits
from app.reconciliation.matching.values import BookMovement, GaveUp, Rule, StatementLine

Pair = tuple[StatementLine, BookMovement]


@dataclass
class SharedReferences:
    """Every (line, movement) pair that shares a reference, except through a reference more
    movements carry than the limit (a generic word in remittance text): following it would pair
    every line that carries it with every such movement. ``crowded`` names, per line, the first
    such reference (by name) it did not follow."""

    pairs: list[Pair] = field(default_factory=list)
    crowded: dict[str, str] = field(default_factory=dict)


class _ByReference:
    """The movements carrying each reference. Nearly every reference names one movement, so a
    list is made only for those that name more: a million lists would cost more to allocate
    (and for the garbage collector to walk) than the rest of the rule."""

    def __init__(self, movements: Sequence[BookMovement]) -> None:
        self._first: dict[str, BookMovement] = {}
        self._all: dict[str, list[BookMovement]] = {}
        for movement in movements:
            for reference in movement.references:
                first = self._first.setdefault(reference, movement)
                if first is not movement:
                    self._all.setdefault(reference, [first]).append(movement)

    def get(self, reference: str) -> Sequence[BookMovement]:
        several = self._all.get(reference)
        if several is not None:
            return several
        first = self._first.get(reference)
        return () if first is None else (first,)


def sharing_a_reference(
    lines: Sequence[StatementLine], movements: Sequence[BookMovement], *, limit: int
) -> SharedReferences:
    by_reference = _ByReference(movements)
    shared = SharedReferences()
    pairs = shared.pairs
    for line in lines:
        start = len(pairs)
        for reference in line.references:  # any order: the pairs are sorted by closeness later
            carrying = by_reference.get(reference)
            if len(carrying) > limit:
                noted = shared.crowded.get(line.id)
                shared.crowded[line.id] = reference if noted is None else min(noted, reference)
                continue
            for movement in carrying:  # once per line, though it shares several references
                if all(pairs[i][1] is not movement for i in range(start, len(pairs))):
                    pairs.append((line, movement))
    return shared


def closest_first(pairs: Sequence[Pair], accept: Callable[[Pair], bool]) -> Iterator[Pair]:
    """The accepted pairs, closest first, each line and movement in one pair at most. A pair
    whose line and movement are in no other pair is taken whatever the order (no other pair
    can take either), so only the contested ones are sorted: most pairs are not."""
    accepted = [pair for pair in pairs if accept(pair)]
    per_line = Counter(line.id for line, _ in accepted)
    per_movement = Counter(movement.id for _, movement in accepted)
    contested: list[Pair] = []
    for line, movement in accepted:
        if per_line[line.id] == 1 and per_movement[movement.id] == 1:
            yield line, movement
        else:
            contested.append((line, movement))
    used_lines: set[str] = set()
    used_movements: set[str] = set()
    for line, movement in sorted(contested, key=lambda pair: closeness(*pair)):
        if line.id not in used_lines and movement.id not in used_movements:
            used_lines.add(line.id)
            used_movements.add(movement.id)
            yield line, movement


def match_by_reference(
    rule: Rule, lines: Sequence[StatementLine], movements: Sequence[BookMovement]
) -> Found:
    shared = sharing_a_reference(lines, movements, limit=rule.max_candidates)
    found = Found()
    for line, movement in closest_first(shared.pairs, lambda pair: pair_fits(rule, *pair)):
        found.matches.append(make_match(rule, [line], [movement]))
    matched = {line_id for m in found.matches for line_id in m.line_ids}
    for line_id, reference in sorted(shared.crowded.items()):
        if line_id not in matched:
            reason = f"more than {rule.max_candidates} candidates (reference {reference!r})"
            found.gave_up.append(GaveUp(rule.name, line_id, reason))
    return found
