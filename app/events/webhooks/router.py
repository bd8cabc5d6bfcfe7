"""``/webhooks``: subscriptions (admin manages, compliance reads), their delivery log, and
redelivery."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.events.auth import WebhooksRead, WebhooksWrite
from app.events.webhooks import service
from app.events.webhooks.schemas import CreatedWebhookOut, DeliveryOut, WebhookIn, WebhookOut
from app.events.webhooks.states import DeliveryStatus

router = APIRouter(prefix="/webhooks", tags=["Webhooks"])

WEBHOOKS = "/api/v1/webhooks"
SubscriptionId = Annotated[str, Path(min_length=1, max_length=40)]
DeliveryId = Annotated[str, Path(min_length=1, max_length=40)]

SIGNING = """Each delivery is a `POST` of `{"type", "timestamp", "data"}` (`data`: `event_id`,
`seq`, `entity_type`, `entity_id`, `before`, `after`) with the Standard Webhooks headers
`webhook-id` (the event's `event_id`, the same on every retry and redelivery: deduplicate on
it), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
(`v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the
base64-decoded part of the secret after `whsec_`). A 2xx answer delivers; anything else, no
answer within the timeout or a redirect is retried with exponential back-off and jitter. Events of
one entity arrive in order. After repeated failures in a row the subscription is paused until
an admin resumes it."""


@router.post(
    "",
    status_code=201,
    response_model=CreatedWebhookOut,
    responses=problem_responses(),
    summary="Subscribe a URL to event types (the secret is shown once)",
    description=(
        "The answer carries the signing secret, once (a replay of the same `Idempotency-Key` "
        "by the same key answers the same). The subscription receives the events sealed from "
        "now on; older ones are on `GET /events`.\n\n" + SIGNING
    ),
)
async def create_webhook(
    body: WebhookIn,
    request: Request,
    uow: Uow,
    actor: WebhooksWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: Any) -> CreatedWebhookOut:
        created = await service.create_subscription(
            session,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            actor=actor,
            now=clock(),
        )
        out = WebhookOut.of(created.subscription)
        return CreatedWebhookOut(**out.model_dump(), secret=created.secret)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{WEBHOOKS}/{out['id']}",
    )


@router.get(
    "",
    response_model=Page[WebhookOut],
    responses=problem_responses(),
    summary="List subscriptions (never their secrets)",
)
async def list_webhooks(
    uow: Uow,
    _actor: WebhooksRead,
    page: Paging,
    include_disabled: Annotated[bool, Query(description="Deleted ones too.")] = False,
) -> Page[WebhookOut]:
    rows, cursor = await service.list_subscriptions(
        uow.session, page=page, include_disabled=include_disabled
    )
    return Page(items=[WebhookOut.of(row) for row in rows], next_cursor=cursor)


@router.get("/{subscription_id}", response_model=WebhookOut, responses=problem_responses(404))
async def get_webhook(
    subscription_id: SubscriptionId, uow: Uow, _actor: WebhooksRead
) -> WebhookOut:
    return WebhookOut.of(
        await service.get_subscription(uow.session, subscription_id=subscription_id)
    )


@router.post(
    "/{subscription_id}/pause",
    response_model=WebhookOut,
    responses=problem_responses(404, 409),
    summary="Stop delivering; events are still queued (409 unless active)",
)
async def pause_webhook(
    subscription_id: SubscriptionId, uow: Uow, actor: WebhooksWrite, clock: Now
) -> WebhookOut:
    async with uow:
        subscription = await service.pause_subscription(
            uow.session, subscription_id=subscription_id, actor=actor, now=clock()
        )
    return WebhookOut.of(subscription)


@router.post(
    "/{subscription_id}/resume",
    response_model=WebhookOut,
    responses=problem_responses(404, 409),
    summary="Deliver again, what is queued at once (409 unless paused)",
)
async def resume_webhook(
    subscription_id: SubscriptionId, uow: Uow, actor: WebhooksWrite, clock: Now
) -> WebhookOut:
    async with uow:
        subscription = await service.resume_subscription(
            uow.session, subscription_id=subscription_id, actor=actor, now=clock()
        )
    return WebhookOut.of(subscription)


@router.delete(
    "/{subscription_id}",
    status_code=204,
    responses=problem_responses(404),
    summary="Delete (disable) a subscription",
    description=(
        "Nothing more is queued or sent; the subscription and its delivery log stay readable "
        "(`?include_disabled=true`). Deleting it again changes nothing."
    ),
)
async def delete_webhook(
    subscription_id: SubscriptionId, uow: Uow, actor: WebhooksWrite, clock: Now
) -> Response:
    async with uow:
        await service.disable_subscription(
            uow.session, subscription_id=subscription_id, actor=actor, now=clock()
        )
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=problem_responses(404),
    summary="The delivery log: every delivery with each attempt",
)
async def list_webhook_deliveries(
    subscription_id: SubscriptionId,
    uow: Uow,
    _actor: WebhooksRead,
    page: Paging,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> Page[DeliveryOut]:
    logged, cursor = await service.list_deliveries(
        uow.session, subscription_id=subscription_id, status=status, page=page
    )
    return Page(items=[DeliveryOut.of(item) for item in logged], next_cursor=cursor)


@router.get(
    "/{subscription_id}/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    responses=problem_responses(404),
    summary="One delivery with each attempt",
)
async def get_webhook_delivery(
    subscription_id: SubscriptionId, delivery_id: DeliveryId, uow: Uow, _actor: WebhooksRead
) -> DeliveryOut:
    logged = await service.get_delivery(
        uow.session, subscription_id=subscription_id, delivery_id=delivery_id
    )
    return DeliveryOut.of(logged)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=201,
    response_model=DeliveryOut,
    responses=problem_responses(404, 409),
    summary="Send a delivery's event again (a new delivery, same webhook-id)",
    description=(
        "Queues the event again, due now, as a new delivery (`generation` one more) with the "
        "same `webhook-id`. A paused subscription gets it when resumed; a disabled one is 409."
    ),
)
async def redeliver_webhook_delivery(
    subscription_id: SubscriptionId,
    delivery_id: DeliveryId,
    request: Request,
    uow: Uow,
    actor: WebhooksWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: Any) -> DeliveryOut:
        logged = await service.redeliver(
            session,
            subscription_id=subscription_id,
            delivery_id=delivery_id,
            actor=actor,
            now=clock(),
        )
        return DeliveryOut.of(logged)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=[],
        now=clock(),
        work=work,
        location=lambda out: f"{WEBHOOKS}/{subscription_id}/deliveries/{out['id']}",
    )
