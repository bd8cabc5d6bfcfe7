"""The outbound message lifecycle as data: queued, claimed by a gateway, sent, then the
depository's processing status (acknowledged or rejected)."""

from collections.abc import Mapping
from enum import StrEnum


class MessageStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"


class MessageEvent(StrEnum):
    CLAIMED = "claimed"
    # A claim older than the lease: the gateway that took it is presumed gone.
    LEASE_EXPIRED = "lease_expired"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"


class MessageKind(StrEnum):
    NEW = "new"
    CANCEL = "cancel"


S, E = MessageStatus, MessageEvent

TRANSITIONS: Mapping[tuple[MessageStatus, MessageEvent], MessageStatus] = {
    (S.PENDING, E.CLAIMED): S.CLAIMED,
    (S.CLAIMED, E.LEASE_EXPIRED): S.PENDING,
    (S.CLAIMED, E.SENT): S.SENT,
    (S.SENT, E.ACKNOWLEDGED): S.ACKNOWLEDGED,
    (S.SENT, E.REJECTED): S.REJECTED,
    # The depository may answer before the gateway reports the message sent.
    (S.CLAIMED, E.ACKNOWLEDGED): S.ACKNOWLEDGED,
    (S.CLAIMED, E.REJECTED): S.REJECTED,
}

# Sent or beyond: ``/sent`` again answers the message as it is.
SENT_OR_LATER = (S.SENT, S.ACKNOWLEDGED, S.REJECTED)
# What the depository answered.
ADVISED = {"acknowledged": E.ACKNOWLEDGED, "rejected": E.REJECTED}
