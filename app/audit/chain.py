"""The hash of a sealed audit record: SHA-256 over its canonical JSON form, which includes its
place in the chain (``seq``) and the hash of the record before it (``prev_hash``).

Canonical bytes: a JSON object of ``HASHED_FIELDS``, keys sorted by code point, no whitespace,
UTF-8 with no escaping beyond JSON's own (``"``, ``\\`` and control characters), integers as
written, ``occurred_at`` as ISO 8601 in UTC with its offset (``2026-11-25T15:00:00+00:00``).
Python's ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
writes the same bytes, which is how an auditor recomputes a chain without this service.
"""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

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
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def record_hash(fields: Mapping[str, Any]) -> str:
    """The hash of a record given its ``HASHED_FIELDS`` (``prev_hash`` links the chain)."""
    return hash_of_own({name: fields[name] for name in HASHED_FIELDS})


def hash_of_own(hashed: dict[str, Any]) -> str:
    """``record_hash`` of a dictionary of exactly ``HASHED_FIELDS`` that the caller gives up
    (its ``occurred_at`` is replaced by its text): the sealer's, sparing a copy per record."""
    occurred_at: datetime = hashed["occurred_at"]
    hashed["occurred_at"] = occurred_at.astimezone(UTC).isoformat()
    return hashlib.sha256(canonical(hashed)).hexdigest()
