"""The adjustment and pending-entry lifecycles as data."""

from collections.abc import Mapping
from enum import StrEnum


class AdjustmentStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class AdjustmentEvent(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


ADJUSTMENT_TRANSITIONS: Mapping[tuple[AdjustmentStatus, AdjustmentEvent], AdjustmentStatus] = {
    (AdjustmentStatus.PROPOSED, AdjustmentEvent.APPROVED): AdjustmentStatus.APPROVED,
    (AdjustmentStatus.PROPOSED, AdjustmentEvent.REJECTED): AdjustmentStatus.REJECTED,
}


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
