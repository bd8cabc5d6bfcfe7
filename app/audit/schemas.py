"""Audit records as compliance reads them."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from app.core.auth import Role


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable instant
        raise ValueError("is out of range once converted to UTC") from None


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A timestamp with an offset (a naive one is refused: the trail is in UTC)."""


class AuditActorOut(BaseModel):
    key_id: str = Field(description="The API key that made the change (`system` for the service).")
    role: Role
    name: str


class AuditEventOut(BaseModel):
    seq: int = Field(description="Position in the audit chain; items are listed in this order.")
    occurred_at: datetime
    entity_type: str
    entity_id: str
    action: str
    actor: AuditActorOut
    request_id: str | None = Field(description="The `X-Request-ID` of the request that did it.")
    before: dict[str, Any] | None = Field(description="The entity before (null when created).")
    after: dict[str, Any] | None
    hash: str = Field(description="SHA-256 over the record's canonical form and `prev_hash`.")
    prev_hash: str
