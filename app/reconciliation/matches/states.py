"""The match lifecycle as data: a match is ``active`` until operations undo it (``unmatched``),
which frees its items for the next run; an undone match stays as it was, for the record."""

from collections.abc import Mapping
from enum import StrEnum


class MatchStatus(StrEnum):
    ACTIVE = "active"
    UNMATCHED = "unmatched"


class MatchEvent(StrEnum):
    UNMATCHED = "unmatched"


MATCH_TRANSITIONS: Mapping[tuple[MatchStatus, MatchEvent], MatchStatus] = {
    (MatchStatus.ACTIVE, MatchEvent.UNMATCHED): MatchStatus.UNMATCHED,
}
