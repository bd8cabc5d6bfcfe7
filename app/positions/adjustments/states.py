"""The adjustment lifecycle as data: proposed, then approved or rejected by another key."""

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
