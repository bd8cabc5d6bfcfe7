"""Event types and the patterns that select them, and the event's stable id (pure).

An event type is ``<entity_type>.<action>`` (``trade.amended``, ``settlement_instruction.
settled``): lower-case words of letters, digits and underscores joined by dots. A pattern is a
type, a prefix wildcard (``trade.*``: every type starting with ``trade.``), or ``*`` (every type).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TYPE_LENGTH = 80
MAX_PATTERNS = 50
EVERYTHING = "*"

_WORD = r"[a-z][a-z0-9_]*"
_PATTERN = re.compile(rf"{_WORD}(\.{_WORD})*(\.\*)?")
PATTERN_SYNTAX = (
    "an event type such as 'trade.amended', a prefix wildcard such as 'trade.*', or '*'"
)


def event_id(seq: int) -> str:
    """The event's id, the same in the feed, in every delivery and every redelivery: derived
    from its place in the chain (and the format the outbox used before, so ids never changed)."""
    return f"evt_{seq:026d}"


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not one, or None."""
    if len(pattern) > MAX_TYPE_LENGTH:
        return f"is longer than {MAX_TYPE_LENGTH} characters"
    if pattern != EVERYTHING and not _PATTERN.fullmatch(pattern):
        return f"is not {PATTERN_SYNTAX}"
    return None


@dataclass(frozen=True)
class TypeSelection:
    """What a list of patterns selects: exact types and prefixes; ``exact`` None is everything."""

    exact: tuple[str, ...] | None
    prefixes: tuple[str, ...]

    def admits(self, event_type: str) -> bool:
        if self.exact is None:
            return True
        return event_type in self.exact or event_type.startswith(self.prefixes)


def select_types(patterns: Iterable[str]) -> TypeSelection:
    """The selection of valid ``patterns`` (check each with ``pattern_problem`` first)."""
    unique = sorted(set(patterns))
    if EVERYTHING in unique:
        return TypeSelection(exact=None, prefixes=())
    return TypeSelection(
        exact=tuple(p for p in unique if not p.endswith(".*")),
        prefixes=tuple(p[:-1] for p in unique if p.endswith(".*")),
    )
