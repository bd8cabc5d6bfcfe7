"""Every query and lock of webhook subscriptions, deliveries, attempts and the relay's cursor.

Lock order, everywhere: the cursor, then a subscription, then its deliveries. The relay's claim
takes deliveries only, with SKIP LOCKED, so it never waits for anyone.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.db import dialect_insert, table_of
from app.core.pagination import PageRequest, fetch_page
from app.events.webhooks.models import (
    RelayCursor,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from app.events.webhooks.states import RECEIVING, DeliveryStatus, SubscriptionStatus

CURSOR_ID = 1

# Subscriptions -------------------------------------------------------------------------------


def add(session: AsyncSession, subscription: WebhookSubscription) -> None:
    session.add(subscription)


async def get(session: AsyncSession, subscription_id: str) -> WebhookSubscription | None:
    return await session.get(WebhookSubscription, subscription_id)


async def lock(session: AsyncSession, subscription_id: str) -> WebhookSubscription | None:
    return await session.get(
        WebhookSubscription, subscription_id, with_for_update=True, populate_existing=True
    )


async def page(
    session: AsyncSession, *, page: PageRequest, include_disabled: bool
) -> tuple[Sequence[WebhookSubscription], str | None]:
    statement = select(WebhookSubscription)
    if not include_disabled:
        statement = statement.where(WebhookSubscription.status != SubscriptionStatus.DISABLED)
    return await fetch_page(session, statement, WebhookSubscription.id, page)


async def receiving(session: AsyncSession) -> Sequence[WebhookSubscription]:
    """Subscriptions the fan-out queues events for (active and paused)."""
    statement = select(WebhookSubscription).where(WebhookSubscription.status.in_(RECEIVING))
    return (await session.scalars(statement.order_by(WebhookSubscription.id))).all()


# The relay's cursor --------------------------------------------------------------------------


async def lock_cursor(session: AsyncSession, *, skip_locked: bool) -> RelayCursor | None:
    """The cursor row, locked; None when ``skip_locked`` and another relay holds it."""
    statement = (
        select(RelayCursor)
        .where(RelayCursor.id == CURSOR_ID)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def cursor_position(session: AsyncSession) -> int:
    statement = select(RelayCursor.last_seq).where(RelayCursor.id == CURSOR_ID)
    return int((await session.execute(statement)).scalar_one())


# Deliveries ----------------------------------------------------------------------------------


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Queue deliveries; one already queued for the same (subscription, seq, generation) is
    left as it is, so a fan-out repeated after a crash adds nothing twice."""
    if rows:
        statement = dialect_insert(session, table_of(WebhookDelivery)).on_conflict_do_nothing(
            index_elements=["subscription_id", "seq", "generation"]
        )
        await session.execute(statement, list(rows))


def add_delivery(session: AsyncSession, delivery: WebhookDelivery) -> None:
    session.add(delivery)


async def get_delivery(
    session: AsyncSession, *, subscription_id: str, delivery_id: str
) -> WebhookDelivery | None:
    statement = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription_id
    )
    return (await session.scalars(statement)).one_or_none()


async def lock_delivery(session: AsyncSession, delivery_id: str) -> WebhookDelivery | None:
    return await session.get(
        WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True
    )


async def last_generation(session: AsyncSession, *, subscription_id: str, seq: int) -> int:
    statement = select(func.max(WebhookDelivery.generation)).where(
        WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.seq == seq
    )
    return int((await session.execute(statement)).scalar_one() or 0)


async def page_of_deliveries(
    session: AsyncSession, *, subscription_id: str, status: DeliveryStatus | None, page: PageRequest
) -> tuple[Sequence[WebhookDelivery], str | None]:
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return await fetch_page(session, statement, WebhookDelivery.id, page)


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> Sequence[WebhookAttempt]:
    """Every attempt of these deliveries, in order: one query for a whole page."""
    if not delivery_ids:
        return []
    statement = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
    )
    return (await session.scalars(statement)).all()


def add_attempt(session: AsyncSession, attempt: WebhookAttempt) -> None:
    session.add(attempt)


async def make_due(session: AsyncSession, *, subscription_id: str, now: datetime) -> None:
    """Every pending delivery of the subscription is due now (it was resumed)."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(next_attempt_at=now)
    )


async def pending_count(session: AsyncSession) -> int:
    """Deliveries still to make (those of a deleted subscription never will be)."""
    statement = (
        select(func.count())
        .select_from(WebhookDelivery)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookSubscription.status.in_(RECEIVING),
        )
    )
    return int((await session.execute(statement)).scalar_one())


# The relay's claim ---------------------------------------------------------------------------


def _no_earlier_pending() -> Any:
    """No delivery of the same entity to the same subscription is pending before this one:
    events of one entity reach a receiver in the order they happened."""
    earlier = aliased(WebhookDelivery)
    return ~exists().where(
        earlier.subscription_id == WebhookDelivery.subscription_id,
        earlier.entity_type == WebhookDelivery.entity_type,
        earlier.entity_id == WebhookDelivery.entity_id,
        earlier.status == DeliveryStatus.PENDING,
        or_(
            earlier.seq < WebhookDelivery.seq,
            and_(
                earlier.seq == WebhookDelivery.seq,
                earlier.generation < WebhookDelivery.generation,
            ),
        ),
    )


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[tuple[WebhookDelivery, str, str]]:
    """Up to ``limit`` deliveries due now, not leased, of active subscriptions, each the
    earliest pending one of its entity; locked, skipping those another relay is claiming.
    With each, its subscription's URL and secret."""
    statement = (
        select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now),
            WebhookSubscription.status == SubscriptionStatus.ACTIVE,
            _no_earlier_pending(),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.seq)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
        .execution_options(populate_existing=True)
    )
    rows = (await session.execute(statement)).all()
    return [(delivery, url, secret) for delivery, url, secret in rows]
