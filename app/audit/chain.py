"""The hash of an audit record: SHA-256 over a canonical JSON form and the previous hash."""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_key_id",
    "actor_role",
    "actor_name",
    "request_id",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
    "prev_hash",
)


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(fields: Mapping[str, Any]) -> str:
    """The hash of a record given its ``HASHED_FIELDS`` (``prev_hash`` links the chain)."""
    hashed = {name: fields[name] for name in HASHED_FIELDS}
    occurred_at: datetime = hashed["occurred_at"]
    hashed["occurred_at"] = occurred_at.astimezone(UTC).isoformat()
    return hashlib.sha256(canonical(hashed)).hexdigest()
