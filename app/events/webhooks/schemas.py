from datetime import datetime
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.text import PrintableStr
from app.events.types import MAX_PATTERNS, PATTERN_SYNTAX, event_id, pattern_problem
from app.events.webhooks.models import WebhookAttempt, WebhookSubscription
from app.events.webhooks.service import LoggedDelivery
from app.events.webhooks.states import DeliveryStatus, SubscriptionStatus

MAX_URL_LENGTH = 2000


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, or None: http or https to a host, no credentials
    (a secret belongs in the signing secret, not in a URL every reader sees)."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsing it refuses a port out of range)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return "is not a valid URL"
    if parts.scheme.lower() not in {"http", "https"}:
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    return None


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://oms.example.com/hooks/settlement",
                    "event_types": ["trade.*", "settlement_instruction.settled"],
                    "description": "OMS: trade status",
                }
            ]
        },
    )

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where to POST the events (http or https).",
        examples=["https://oms.example.com/hooks/settlement"],
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=MAX_PATTERNS,
        description=f"Which events to send: each {PATTERN_SYNTAX}.",
        examples=[["trade.*", "settlement_instruction.settled"]],
    )
    description: PrintableStr | None = Field(
        default=None, max_length=500, examples=["OMS: trade status"]
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        problem = url_problem(url)
        if problem is not None:
            raise ValueError(problem)
        return url

    @field_validator("event_types")
    @classmethod
    def _valid_types(cls, patterns: list[str]) -> list[str]:
        problems = [f"'{p}' {why}" for p in patterns if (why := pattern_problem(p)) is not None]
        if problems:
            raise ValueError("; ".join(problems))
        return patterns


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    status: SubscriptionStatus = Field(
        description="`active` delivers; `paused` queues without delivering (by an admin, or "
        "by the relay after repeated failures); `disabled` (deleted) neither."
    )
    paused_reason: str | None
    consecutive_failures: int = Field(description="Failed attempts since the last success.")
    from_seq: int = Field(description="It receives the events sealed after this `seq`.")
    created_at: datetime
    created_by: str
    status_changed_at: datetime

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> "WebhookOut":
        return cls(
            id=subscription.id,
            url=subscription.url,
            event_types=subscription.event_types,
            description=subscription.description,
            status=SubscriptionStatus(subscription.status),
            paused_reason=subscription.paused_reason,
            consecutive_failures=subscription.consecutive_failures,
            from_seq=subscription.from_seq,
            created_at=subscription.created_at,
            created_by=subscription.created_by,
            status_changed_at=subscription.status_changed_at,
        )


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_` + base64), shown in this answer only. "
        "Verify each delivery's `webhook-signature` with it."
    )


class AttemptOut(BaseModel):
    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status; null when none.")
    error: str | None = Field(description="Why the attempt failed (timeout, refused, HTTP 500).")
    next_attempt_at: datetime | None = Field(description="When it is tried again, if it failed.")

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> "AttemptOut":
        return cls(
            number=attempt.number,
            attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms,
            status_code=attempt.status_code,
            error=attempt.error,
            next_attempt_at=attempt.next_attempt_at,
        )


class DeliveryOut(BaseModel):
    id: str
    subscription_id: str
    event_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    seq: int
    event_type: str
    entity_type: str
    entity_id: str
    generation: int = Field(description="0 for the first delivery, 1, 2... for redeliveries.")
    status: DeliveryStatus
    next_attempt_at: datetime | None = Field(description="When it is due; null once delivered.")
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
    requested_by: str | None = Field(description="The key that asked for this redelivery.")
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, logged: LoggedDelivery) -> "DeliveryOut":
        delivery = logged.delivery
        pending = delivery.status == DeliveryStatus.PENDING
        return cls(
            id=delivery.id,
            subscription_id=delivery.subscription_id,
            event_id=event_id(delivery.seq),
            seq=delivery.seq,
            event_type=delivery.event_type,
            entity_type=delivery.entity_type,
            entity_id=delivery.entity_id,
            generation=delivery.generation,
            status=DeliveryStatus(delivery.status),
            next_attempt_at=delivery.next_attempt_at if pending else None,
            delivered_at=delivery.delivered_at,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            requested_by=delivery.requested_by,
            attempts=[AttemptOut.of(attempt) for attempt in logged.attempts],
        )
