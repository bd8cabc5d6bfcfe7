#!/usr/bin/env python3
"""Verify an audit trail export offline, with nothing but Python's standard library.

    python3 scripts/verify_audit_export.py audit-trail-1-5230.jsonl
    python3 scripts/verify_audit_export.py audit-trail-1-5230.csv

Takes a file from ``GET /api/v1/audit/export?format=jsonl|csv`` and, for every record:
recomputes its SHA-256 from the canonical bytes of the fields the hash covers,

    json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

encoded as UTF-8, where ``fields`` are ``seq``, ``occurred_at``, ``actor_key_id``,
``actor_role``, ``actor_name``, ``request_id``, ``entity_type``, ``entity_id``, ``action``,
``before``, ``after`` and ``prev_hash``, as the file gives them; checks that ``seq`` follows on
without a gap, that ``prev_hash`` is the hash of the record before (the genesis hash, 64 zeros,
before ``seq`` 1), and that the last record is the chain head the file ends with. A file that
starts after ``seq`` 1 (an export with ``from``) is taken to link to the ``prev_hash`` of its
first record; an export of the whole trail is anchored at the genesis hash.

Prints ``OK ...`` and exits 0, or ``FAILED at seq N: ...`` (or a reason the file cannot be read)
and exits 1. Compare the chain head it prints with one obtained independently (``head_hash``
of ``GET /api/v1/audit/verify``, or a head recorded earlier): a trail rewritten from some
record on verifies on its own, but cannot end at a head published before the rewrite.
"""

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
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


class Unreadable(Exception):
    """The file is not an export this script understands."""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    records: int


def record_hash(record: dict[str, Any]) -> str:
    fields = {name: record[name] for name in HASHED_FIELDS}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _head(line: dict[str, Any]) -> Head:
    try:
        head = line["chain_head"]
        return Head(int(head["seq"]), str(head["hash"]), int(line["records"]))
    except (KeyError, TypeError, ValueError) as error:
        raise Unreadable(f"the last line is not a chain head: {error}") from None


def read_jsonl(path: Path) -> Iterator[dict[str, Any] | Head]:
    with path.open(encoding="utf-8", newline="") as lines:
        for number, text in enumerate(lines, start=1):
            try:
                line = json.loads(text)
            except json.JSONDecodeError as error:
                raise Unreadable(f"line {number} is not JSON: {error}") from None
            yield _head(line) if "chain_head" in line else line


def read_csv(path: Path) -> Iterator[dict[str, Any] | Head]:
    with path.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            if row.get("row_type") == "chain_head":
                yield _head(
                    {
                        "chain_head": {"seq": row["seq"], "hash": row["hash"]},
                        "records": row["records"],
                    }
                )
                continue
            if row.get("row_type") != "record":
                raise Unreadable(f"unknown row_type {row.get('row_type')!r}")
            try:
                yield {
                    **row,
                    "seq": int(row["seq"]),
                    "request_id": row["request_id"] or None,  # an empty cell is null
                    "before": json.loads(row["before"]),
                    "after": json.loads(row["after"]),
                }
            except (KeyError, ValueError) as error:
                raise Unreadable(f"record row is not readable: {error}") from None


def verify(items: Iterator[dict[str, Any] | Head]) -> tuple[bool, str]:
    previous: str | None = None
    expected_seq: int | None = None
    count = 0
    first_seq: int | None = None
    head: Head | None = None
    for item in items:
        if head is not None:
            return False, "FAILED: there is more after the chain head"
        if isinstance(item, Head):
            head = item
            continue
        seq = item["seq"]
        if expected_seq is None:
            first_seq = seq
            previous = GENESIS_HASH if seq == 1 else item["prev_hash"]
        elif seq != expected_seq:
            return False, f"FAILED at seq {expected_seq}: the next record is seq {seq}"
        if item["prev_hash"] != previous:
            return False, f"FAILED at seq {seq}: prev_hash does not link to the record before"
        if record_hash(item) != item["hash"]:
            return False, f"FAILED at seq {seq}: the record does not hash to its hash"
        previous, expected_seq, count = item["hash"], seq + 1, count + 1
    if head is None:
        return False, "FAILED: the file ends without its chain head (truncated?)"
    return _against_head(head, previous, expected_seq, count, first_seq)


def _against_head(
    head: Head, last_hash: str | None, next_seq: int | None, count: int, first_seq: int | None
) -> tuple[bool, str]:
    if head.records != count:
        return False, f"FAILED: the chain head says {head.records} records, the file has {count}"
    if count == 0:
        return True, f"OK: no records; chain head seq {head.seq} {head.hash}"
    assert next_seq is not None
    if next_seq - 1 != head.seq or last_hash != head.hash:
        return False, (
            f"FAILED at seq {next_seq - 1}: the last record is not the chain head "
            f"(seq {head.seq} {head.hash})"
        )
    return True, f"OK: {count} records, seq {first_seq} to {head.seq}; chain head {head.hash}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: verify_audit_export.py FILE (.jsonl or .csv)", file=sys.stderr)
        return 2
    path = Path(argv[1])
    with path.open("rb") as start:
        jsonl = start.read(1) == b"{"
    try:
        ok, message = verify(read_jsonl(path) if jsonl else read_csv(path))
    except Unreadable as error:
        ok, message = False, f"FAILED: {error}"
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
