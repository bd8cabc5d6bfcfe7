"""The pending-entry lifecycle as data: open until posted or voided, exactly once."""

from collections.abc import Mapping
from enum import StrEnum


class PendingStatus(StrEnum):
    OPEN = "open"
    POSTED = "posted"
    VOIDED = "voided"


class PendingEvent(StrEnum):
    POSTED = "posted"
    VOIDED = "voided"


PENDING_TRANSITIONS: Mapping[tuple[PendingStatus, PendingEvent], PendingStatus] = {
    (PendingStatus.OPEN, PendingEvent.POSTED): PendingStatus.POSTED,
    (PendingStatus.OPEN, PendingEvent.VOIDED): PendingStatus.VOIDED,
}
