"""A subscription's lifecycle as data, and a delivery's two states."""

from collections.abc import Mapping
from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"  # events are queued and delivered
    PAUSED = "paused"  # events are queued, not delivered until an admin resumes it
    DISABLED = "disabled"  # deleted: nothing more is queued or delivered; the log stays


class SubscriptionEvent(StrEnum):
    PAUSED = "paused"
    RESUMED = "resumed"
    DISABLED = "disabled"


SUBSCRIPTION_TRANSITIONS: Mapping[
    tuple[SubscriptionStatus, SubscriptionEvent], SubscriptionStatus
] = {
    (SubscriptionStatus.ACTIVE, SubscriptionEvent.PAUSED): SubscriptionStatus.PAUSED,
    (SubscriptionStatus.PAUSED, SubscriptionEvent.RESUMED): SubscriptionStatus.ACTIVE,
    (SubscriptionStatus.ACTIVE, SubscriptionEvent.DISABLED): SubscriptionStatus.DISABLED,
    (SubscriptionStatus.PAUSED, SubscriptionEvent.DISABLED): SubscriptionStatus.DISABLED,
}

# Subscriptions the fan-out queues events for.
RECEIVING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


class DeliveryEvent(StrEnum):
    DELIVERED = "delivered"  # the receiver answered 2xx


# A failed attempt leaves a delivery pending (due again later); only success moves it.
DELIVERY_TRANSITIONS: Mapping[tuple[DeliveryStatus, DeliveryEvent], DeliveryStatus] = {
    (DeliveryStatus.PENDING, DeliveryEvent.DELIVERED): DeliveryStatus.DELIVERED,
}
