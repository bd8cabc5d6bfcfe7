"""Audit records as compliance reads them."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.core.auth import Role


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
    event_type: str | None = Field(description="The event the change published on `/events`.")
    hash: str = Field(description="SHA-256 over the record's canonical form and `prev_hash`.")
    prev_hash: str
    sealed_at: datetime = Field(
        description="When the sealer chained the record (well under a second after its commit)."
    )
