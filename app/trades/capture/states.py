"""The trade lifecycle as data: every status change goes through this table."""

from collections.abc import Mapping
from enum import StrEnum


class TradeStatus(StrEnum):
    CAPTURED = "captured"
    CONFIRMED = "confirmed"
    MISMATCHED = "mismatched"
    CLEARED = "cleared"
    INSTRUCTED = "instructed"
    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class TradeEvent(StrEnum):
    CONFIRMATION_MATCHED = "confirmation_matched"
    CONFIRMATION_UNMATCHED = "confirmation_unmatched"
    # Booked on a locked-in venue: the CCP confirms the trade, no counterparty confirmation.
    CONFIRMED_LOCKED_IN = "confirmed_locked_in"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    CLEARED = "cleared"
    INSTRUCTED = "instructed"
    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"


_BEFORE_CLEARING = (TradeStatus.CAPTURED, TradeStatus.CONFIRMED, TradeStatus.MISMATCHED)

TRANSITIONS: Mapping[tuple[TradeStatus, TradeEvent], TradeStatus] = {
    (TradeStatus.CAPTURED, TradeEvent.CONFIRMATION_MATCHED): TradeStatus.CONFIRMED,
    (TradeStatus.CAPTURED, TradeEvent.CONFIRMED_LOCKED_IN): TradeStatus.CONFIRMED,
    (TradeStatus.CAPTURED, TradeEvent.CONFIRMATION_UNMATCHED): TradeStatus.MISMATCHED,
    (TradeStatus.MISMATCHED, TradeEvent.CONFIRMATION_MATCHED): TradeStatus.CONFIRMED,
    (TradeStatus.MISMATCHED, TradeEvent.CONFIRMATION_UNMATCHED): TradeStatus.MISMATCHED,
    # A corrected confirmation re-matches a confirmed trade: it stays or falls back.
    (TradeStatus.CONFIRMED, TradeEvent.CONFIRMATION_MATCHED): TradeStatus.CONFIRMED,
    (TradeStatus.CONFIRMED, TradeEvent.CONFIRMATION_UNMATCHED): TradeStatus.MISMATCHED,
    # Amending the economics sends the trade back to be confirmed again.
    **{(status, TradeEvent.AMENDED): TradeStatus.CAPTURED for status in _BEFORE_CLEARING},
    **{(status, TradeEvent.CANCELLED): TradeStatus.CANCELLED for status in _BEFORE_CLEARING},
    (TradeStatus.CONFIRMED, TradeEvent.CLEARED): TradeStatus.CLEARED,
    (TradeStatus.CLEARED, TradeEvent.INSTRUCTED): TradeStatus.INSTRUCTED,
    (TradeStatus.INSTRUCTED, TradeEvent.PARTIALLY_SETTLED): TradeStatus.PARTIALLY_SETTLED,
    (TradeStatus.INSTRUCTED, TradeEvent.SETTLED): TradeStatus.SETTLED,
    (TradeStatus.PARTIALLY_SETTLED, TradeEvent.PARTIALLY_SETTLED): TradeStatus.PARTIALLY_SETTLED,
    (TradeStatus.PARTIALLY_SETTLED, TradeEvent.SETTLED): TradeStatus.SETTLED,
}
