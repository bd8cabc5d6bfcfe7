"""Audit records as compliance reads them."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.audit.drift import DriftKind
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


class DriftOut(BaseModel):
    entity_type: str
    entity_id: str
    kind: DriftKind = Field(
        description="`changed`: the row differs from its last audited after-image; `deleted`: "
        "the row is gone though its last record left it in place; `unaudited`: the row exists "
        "but the trail has no record of it, or its last record deleted it."
    )
    fields: list[str] = Field(description="The differing columns (`changed` only), sorted.")
    audited: dict[str, Any] | None = Field(
        description="`changed`: the differing columns as the last record has them; `deleted`: "
        "the whole last after-image; `unaudited`: null."
    )
    current: dict[str, Any] | None = Field(
        description="`changed`: the differing columns as the row has them now; `unaudited`: "
        "the whole row; `deleted`: null."
    )


class VerifyOut(BaseModel):
    ok: bool = Field(description="The chain verifies over the stretch and no drift was found.")
    checked: int = Field(description="Sealed records whose hash and link were recomputed.")
    first_bad_seq: int | None = Field(
        description="The first record that does not match its seal (content, link or place)."
    )
    unsealed: int = Field(description="Committed records still waiting for the sealer.")
    drift: list[DriftOut] = Field(
        description="Rows changed behind the service's back (at most the first 1000)."
    )
    drift_count: int = Field(description="How many drifts there are in all.")
    from_seq: int | None = Field(description="The stretch checked: first seq (null if empty).")
    to_seq: int | None = Field(description="The stretch checked: last seq (null if empty).")
    head_seq: int = Field(description="The chain's head when the check began (0: no seal yet).")
    head_hash: str = Field(description="The hash at `head_seq` (the genesis hash at 0).")
