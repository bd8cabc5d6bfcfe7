"""The hash of an audit record: SHA-256 over a canonical JSON form and the previous hash."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor_key_id: str,
    actor_role: str,
    actor_name: str,
    request_id: str | None,
    entity_type: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    fields = {
        "seq": seq,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "actor_key_id": actor_key_id,
        "actor_role": actor_role,
        "actor_name": actor_name,
        "request_id": request_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(fields)).hexdigest()
