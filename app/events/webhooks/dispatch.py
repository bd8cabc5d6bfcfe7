"""The relay's three steps, each one short transaction, safe with several relays at once.

1. ``fan_out``: sealed events after the cursor become deliveries for every subscription whose
   types match; the cursor moves on in the same transaction. The cursor row is locked (SKIP
   LOCKED: one relay fans out at a time, the others go on delivering) and the deliveries'
   unique key makes a repeated fan-out add nothing.
2. ``claim_due``: due deliveries are locked with SKIP LOCKED and leased (``lease_until``), so no
   other relay takes them while they are in flight; a relay that dies loses them when the
   lease ends (at least once).
3. ``record_attempt``: the attempt is logged; delivered, or due again after a back-off; after
   too many failures in a row the subscription is paused (by the system, audited).
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.feed import SealedEvent, event_heads_after, events_at, last_sealed_seq
from app.core.auth import SYSTEM_ACTOR
from app.core.ids import new_id
from app.core.states import next_state
from app.events.backoff import Backoff
from app.events.types import select_types
from app.events.webhooks import repository
from app.events.webhooks.models import WebhookAttempt, WebhookSubscription
from app.events.webhooks.service import move
from app.events.webhooks.states import (
    DELIVERY_TRANSITIONS,
    DeliveryEvent,
    DeliveryStatus,
    SubscriptionEvent,
    SubscriptionStatus,
)


async def fan_out(session: AsyncSession, *, now: datetime, batch: int) -> int | None:
    """Queue deliveries for up to ``batch`` events after the cursor, in the caller's
    transaction. Returns how many events it read (fewer than ``batch``: caught up), or None
    when another relay is fanning out."""
    cursor = await repository.lock_cursor(session, skip_locked=True)
    if cursor is None:
        return None
    # Read the head first: every seal up to it is visible, so nothing below is skipped.
    head = await last_sealed_seq(session)
    if head <= cursor.last_seq:
        return 0
    subscriptions = await repository.receiving(session)
    if not subscriptions:
        cursor.last_seq = head  # nobody to queue for: past these events at once
        return 0
    heads = await event_heads_after(session, after=cursor.last_seq, up_to=head, limit=batch)
    rows = []
    for subscription in subscriptions:
        selection = select_types(subscription.event_types)
        rows += [
            {
                "id": new_id("dlv"),
                "subscription_id": subscription.id,
                "seq": event.seq,
                "generation": 0,
                "event_type": event.event_type,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in heads
            if event.seq > subscription.from_seq and selection.admits(event.event_type)
        ]
    await repository.insert_deliveries(session, rows)
    cursor.last_seq = heads[-1].seq if len(heads) == batch else head
    return len(heads)


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this relay, with all it needs to send it outside a transaction."""

    delivery_id: str
    subscription_id: str
    url: str
    secret: str
    event: SealedEvent
    attempts: int
    lease_owner: str


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries to the caller, in the caller's transaction."""
    rows = await repository.claim_due(session, now=now, limit=limit)
    if not rows:
        return []
    owner = secrets.token_hex(8)
    for delivery, _url, _secret in rows:
        delivery.lease_until = now + lease
        delivery.lease_owner = owner
    events = await events_at(session, [delivery.seq for delivery, _url, _secret in rows])
    return [
        Claimed(
            delivery_id=delivery.id,
            subscription_id=delivery.subscription_id,
            url=url,
            secret=secret,
            event=events[delivery.seq],
            attempts=delivery.attempts,
            lease_owner=owner,
        )
        for delivery, url, secret in rows
    ]


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or an error (a timeout, a refused connection)."""

    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class RetryPolicy:
    backoff: Backoff
    pause_after: int  # failed attempts in a row
    jitter: Callable[[], float]


async def record_attempt(
    session: AsyncSession, *, claimed: Claimed, outcome: Outcome, policy: RetryPolicy
) -> None:
    """Log the attempt and move the delivery on, in the caller's transaction. Should the lease
    have passed to another relay meanwhile, the attempt is logged and the delivery left to it."""
    subscription = await repository.lock(session, claimed.subscription_id)
    delivery = await repository.lock_delivery(session, claimed.delivery_id)
    # Neither is ever deleted (a deleted subscription is disabled).
    assert subscription is not None
    assert delivery is not None
    now = outcome.attempted_at
    delivery.attempts += 1
    next_attempt_at = None
    if not outcome.delivered:
        next_attempt_at = now + policy.backoff.delay(delivery.attempts, policy.jitter)
    repository.add_attempt(
        session, _attempt(delivery.id, delivery.attempts, outcome, next_attempt_at)
    )
    if delivery.lease_owner == claimed.lease_owner and delivery.status == DeliveryStatus.PENDING:
        delivery.lease_until = delivery.lease_owner = None
        delivery.last_error = _error_text(outcome)
        if next_attempt_at is None:
            delivered = next_state(
                DELIVERY_TRANSITIONS, DeliveryStatus(delivery.status), DeliveryEvent.DELIVERED
            )
            delivery.status = delivered.value
            delivery.delivered_at = now
        else:
            delivery.next_attempt_at = next_attempt_at
    await _count(session, subscription, outcome, policy=policy)


def _attempt(
    delivery_id: str, number: int, outcome: Outcome, next_attempt_at: datetime | None
) -> WebhookAttempt:
    return WebhookAttempt(
        delivery_id=delivery_id,
        number=number,
        attempted_at=outcome.attempted_at,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        error=None if outcome.delivered else _error_text(outcome),
        next_attempt_at=next_attempt_at,
    )


def _error_text(outcome: Outcome) -> str | None:
    if outcome.delivered:
        return None
    if outcome.error is not None:
        return outcome.error[:500]
    return f"the receiver answered HTTP {outcome.status_code}"


async def _count(
    session: AsyncSession,
    subscription: WebhookSubscription,
    outcome: Outcome,
    *,
    policy: RetryPolicy,
) -> None:
    """Failures in a row, per subscription; at the threshold an active one is paused."""
    if outcome.delivered:
        subscription.consecutive_failures = 0
        return
    subscription.consecutive_failures += 1
    failures = subscription.consecutive_failures
    if failures >= policy.pause_after and subscription.status == SubscriptionStatus.ACTIVE:
        reason = f"paused after {failures} failed attempts in a row; last: {_error_text(outcome)}"
        await move(
            session,
            subscription,
            SubscriptionEvent.PAUSED,
            actor=SYSTEM_ACTOR,
            now=outcome.attempted_at,
            paused_reason=reason[:500],
        )


async def backlog(session: AsyncSession) -> dict[str, Any]:
    """How far behind the relay is: events sealed but not fanned out, deliveries pending."""
    head = await last_sealed_seq(session)
    position = await repository.cursor_position(session)
    return {
        "events_not_fanned_out": max(head - position, 0),
        "pending_deliveries": await repository.pending_count(session),
    }
