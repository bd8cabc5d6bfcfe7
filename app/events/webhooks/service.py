"""Webhook subscriptions (admin creates, pauses, resumes, disables; compliance reads), their
delivery log and redeliveries. Every change of a subscription is audited, without its secret."""

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.feed import last_sealed_seq
from app.audit.service import audited, transition
from app.core.auth import Actor
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.events.signing import new_secret
from app.events.webhooks import repository
from app.events.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.events.webhooks.states import (
    SUBSCRIPTION_TRANSITIONS,
    DeliveryStatus,
    SubscriptionEvent,
    SubscriptionStatus,
)

ENTITY = "webhook_subscription"
# The secret never reaches the audit trail, and so never the event feed or another webhook.
# The failure count moves with every attempt: the relay's bookkeeping, not a change to audit
# (a pause says how many failures led to it).
_SNAPSHOT_EXCLUDE = frozenset({"secret", "consecutive_failures"})


def audited_subscription(
    session: AsyncSession,
    subscription: WebhookSubscription,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    created: bool = False,
) -> AbstractAsyncContextManager[None]:
    return audited(
        session,
        subscription,
        entity_type=ENTITY,
        action=action,
        actor=actor,
        now=now,
        created=created,
        exclude=_SNAPSHOT_EXCLUDE,
    )


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str


async def create_subscription(
    session: AsyncSession,
    *,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    actor: Actor,
    now: datetime,
) -> CreatedSubscription:
    """A new active subscription with a new secret. It receives the events sealed from now
    on. The relay's cursor is locked meanwhile, so a fan-out either finished before (and stayed
    at or below the chain head read here) or starts after the commit and sees the subscription:
    no event falls between "before it existed" and "fanned out to it"."""
    cursor = await repository.lock_cursor(session, skip_locked=False)
    assert cursor is not None, "migration 0019 creates the relay's cursor"
    head = await last_sealed_seq(session)
    secret = new_secret()
    subscription = WebhookSubscription(
        id=new_id("whk"),
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        secret=secret,
        status=SubscriptionStatus.ACTIVE.value,
        paused_reason=None,
        consecutive_failures=0,
        from_seq=max(head, cursor.last_seq),
        created_at=now,
        created_by=actor.key_id,
        status_changed_at=now,
    )
    async with audited_subscription(
        session, subscription, "created", actor=actor, now=now, created=True
    ):
        repository.add(session, subscription)
    return CreatedSubscription(subscription, secret)


async def get_subscription(session: AsyncSession, *, subscription_id: str) -> WebhookSubscription:
    subscription = await repository.get(session, subscription_id)
    if subscription is None:
        raise NotFound(f"No webhook subscription '{subscription_id}'.")
    return subscription


async def list_subscriptions(
    session: AsyncSession, *, page: PageRequest, include_disabled: bool
) -> tuple[Sequence[WebhookSubscription], str | None]:
    return await repository.page(session, page=page, include_disabled=include_disabled)


async def _locked(session: AsyncSession, subscription_id: str) -> WebhookSubscription:
    subscription = await repository.lock(session, subscription_id)
    if subscription is None:
        raise NotFound(f"No webhook subscription '{subscription_id}'.")
    return subscription


async def move(
    session: AsyncSession,
    subscription: WebhookSubscription,
    event: SubscriptionEvent,
    *,
    actor: Actor,
    now: datetime,
    paused_reason: str | None = None,
) -> None:
    """Move a locked subscription on by ``event`` through its table, audited."""
    restarted: dict[str, Any] = (
        {"consecutive_failures": 0} if event is SubscriptionEvent.RESUMED else {}
    )
    await transition(
        session,
        subscription,
        transitions=SUBSCRIPTION_TRANSITIONS,
        event=event,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        exclude=_SNAPSHOT_EXCLUDE,
        status_changed_at=now,
        paused_reason=paused_reason,
        **restarted,
    )


async def pause_subscription(
    session: AsyncSession, *, subscription_id: str, actor: Actor, now: datetime
) -> WebhookSubscription:
    """Stop delivering (events are still queued for it); 409 unless active."""
    subscription = await _locked(session, subscription_id)
    reason = f"paused by {actor.name} ({actor.key_id})"
    await move(
        session, subscription, SubscriptionEvent.PAUSED, actor=actor, now=now, paused_reason=reason
    )
    return subscription


async def resume_subscription(
    session: AsyncSession, *, subscription_id: str, actor: Actor, now: datetime
) -> WebhookSubscription:
    """Deliver again, starting at once with what is pending (the back-off is forgotten);
    409 unless paused."""
    subscription = await _locked(session, subscription_id)
    await move(session, subscription, SubscriptionEvent.RESUMED, actor=actor, now=now)
    await repository.make_due(session, subscription_id=subscription_id, now=now)
    return subscription


async def disable_subscription(
    session: AsyncSession, *, subscription_id: str, actor: Actor, now: datetime
) -> WebhookSubscription:
    """Nothing more is queued or sent; the subscription and its log stay readable. Disabling
    a disabled subscription changes nothing."""
    subscription = await _locked(session, subscription_id)
    if subscription.status != SubscriptionStatus.DISABLED:
        await move(session, subscription, SubscriptionEvent.DISABLED, actor=actor, now=now)
    return subscription


# The delivery log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedDelivery:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


async def _with_attempts(
    session: AsyncSession, deliveries: Sequence[WebhookDelivery]
) -> list[LoggedDelivery]:
    attempts = await repository.attempts_of(session, [d.id for d in deliveries])
    by_delivery: dict[str, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    for attempt in attempts:
        by_delivery[attempt.delivery_id].append(attempt)
    return [LoggedDelivery(d, by_delivery[d.id]) for d in deliveries]


async def list_deliveries(
    session: AsyncSession,
    *,
    subscription_id: str,
    status: DeliveryStatus | None,
    page: PageRequest,
) -> tuple[list[LoggedDelivery], str | None]:
    """The subscription's deliveries, oldest first, each with every attempt."""
    await get_subscription(session, subscription_id=subscription_id)
    deliveries, cursor = await repository.page_of_deliveries(
        session, subscription_id=subscription_id, status=status, page=page
    )
    return await _with_attempts(session, deliveries), cursor


async def get_delivery(
    session: AsyncSession, *, subscription_id: str, delivery_id: str
) -> LoggedDelivery:
    delivery = await repository.get_delivery(
        session, subscription_id=subscription_id, delivery_id=delivery_id
    )
    if delivery is None:
        raise NotFound(f"No delivery '{delivery_id}' of webhook subscription '{subscription_id}'.")
    return (await _with_attempts(session, [delivery]))[0]


async def redeliver(
    session: AsyncSession, *, subscription_id: str, delivery_id: str, actor: Actor, now: datetime
) -> LoggedDelivery:
    """Queue the delivery's event again, due now, as a new delivery (the next generation) with
    the same ``webhook-id``; 409 when the subscription is disabled. A paused subscription gets
    it when resumed."""
    subscription = await _locked(session, subscription_id)  # orders concurrent redeliveries
    original = (
        await get_delivery(session, subscription_id=subscription_id, delivery_id=delivery_id)
    ).delivery
    if subscription.status == SubscriptionStatus.DISABLED:
        raise Conflict(f"Webhook subscription '{subscription_id}' is disabled.")
    generation = await repository.last_generation(
        session, subscription_id=subscription_id, seq=original.seq
    )
    delivery = WebhookDelivery(
        id=new_id("dlv"),
        subscription_id=subscription_id,
        seq=original.seq,
        generation=generation + 1,
        event_type=original.event_type,
        entity_type=original.entity_type,
        entity_id=original.entity_id,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        requested_by=actor.key_id,
    )
    repository.add_delivery(session, delivery)
    await session.flush()
    return LoggedDelivery(delivery, [])
