"""A penalty's lifecycle as data: booked active, reversed once, never edited."""

from collections.abc import Mapping
from enum import StrEnum


class PenaltyStatus(StrEnum):
    ACTIVE = "active"
    REVERSED = "reversed"


class PenaltyEvent(StrEnum):
    REVERSED = "reversed"


TRANSITIONS: Mapping[tuple[PenaltyStatus, PenaltyEvent], PenaltyStatus] = {
    (PenaltyStatus.ACTIVE, PenaltyEvent.REVERSED): PenaltyStatus.REVERSED,
}
