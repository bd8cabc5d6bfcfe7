"""The confirmation lifecycle as data: every status change goes through this table."""

from collections.abc import Mapping
from enum import StrEnum


class ConfirmationStatus(StrEnum):
    ALLEGED = "alleged"  # no trade of ours (yet)
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    SUPERSEDED = "superseded"  # replaced by a newer confirmation of the same trade


class ConfirmationEvent(StrEnum):
    NO_TRADE = "no_trade"
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    FORCE_MATCHED = "force_matched"
    SUPERSEDED = "superseded"


_OPEN = (ConfirmationStatus.ALLEGED, ConfirmationStatus.MATCHED, ConfirmationStatus.UNMATCHED)

CONFIRMATION_TRANSITIONS: Mapping[
    tuple[ConfirmationStatus, ConfirmationEvent], ConfirmationStatus
] = {
    **{(s, ConfirmationEvent.NO_TRADE): ConfirmationStatus.ALLEGED for s in _OPEN},
    **{(s, ConfirmationEvent.MATCHED): ConfirmationStatus.MATCHED for s in _OPEN},
    **{(s, ConfirmationEvent.UNMATCHED): ConfirmationStatus.UNMATCHED for s in _OPEN},
    (ConfirmationStatus.UNMATCHED, ConfirmationEvent.FORCE_MATCHED): ConfirmationStatus.MATCHED,
    (ConfirmationStatus.ALLEGED, ConfirmationEvent.FORCE_MATCHED): ConfirmationStatus.MATCHED,
    (ConfirmationStatus.ALLEGED, ConfirmationEvent.SUPERSEDED): ConfirmationStatus.SUPERSEDED,
    (ConfirmationStatus.UNMATCHED, ConfirmationEvent.SUPERSEDED): ConfirmationStatus.SUPERSEDED,
}
