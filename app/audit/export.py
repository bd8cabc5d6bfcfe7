"""Exporting the trail for an auditor: every sealed record of a stretch, a page at a time, as
JSON Lines or CSV, ending with the chain head the export was checked against.

Each record carries its place (``seq``, ``prev_hash``, ``hash``, ``sealed_at``) and every
field its hash covers, as the hash covers them: ``occurred_at`` in ISO 8601 UTC with its
offset, ``before`` and ``after`` as JSON. The export recomputes each hash as it writes, so the
last line says whether what was written verified; ``scripts/verify_audit_export.py`` checks a
file again with nothing but Python's standard library.

The chain head is the last seal when the export starts, or, for a window with an end, the last
seal before that end (the head as it stood then): the last record exported is that seal.

CSV: one row per record, ``row_type`` = ``record``; then one ``row_type`` = ``chain_head`` row
with the head's ``seq`` and ``hash`` and the ``verified``, ``records`` and ``first_bad_seq``
columns (empty in record rows). ``before`` and ``after`` are JSON text (``null`` for none);
an empty ``request_id`` is null (the service never records an empty one).
"""

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import repository
from app.audit.models import AuditRecord, AuditSeal
from app.audit.verification import ChainWalk, Stretch, anchor

EXPORT_PAGE = 1000


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


MEDIA_TYPES = {ExportFormat.JSONL: "application/x-ndjson", ExportFormat.CSV: "text/csv"}

RECORD_COLUMNS = ("seq", "prev_hash", "hash", "sealed_at", *repository.RECORD_COLUMNS)
CSV_COLUMNS = ("row_type", *RECORD_COLUMNS, "verified", "records", "first_bad_seq")


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def exported(record: AuditRecord, seal: AuditSeal) -> dict[str, Any]:
    """One record as the export writes it (``RECORD_COLUMNS``, in order)."""
    return {
        "seq": seal.seq,
        "prev_hash": seal.prev_hash,
        "hash": seal.hash,
        "sealed_at": _moment(seal.sealed_at),
        "occurred_at": _moment(record.occurred_at),
        "actor_key_id": record.actor_key_id,
        "actor_role": record.actor_role,
        "actor_name": record.actor_name,
        "request_id": record.request_id,
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "action": record.action,
        "before": record.before,
        "after": record.after,
        "event_type": record.event_type,
    }


@dataclass(frozen=True)
class Trailer:
    head_seq: int
    head_hash: str
    verified: bool
    records: int
    first_bad_seq: int | None


def jsonl_records(rows: list[dict[str, Any]]) -> str:
    return "".join(orjson.dumps(row).decode() + "\n" for row in rows)


def jsonl_trailer(trailer: Trailer) -> str:
    line = {
        "chain_head": {"seq": trailer.head_seq, "hash": trailer.head_hash},
        "verified": trailer.verified,
        "records": trailer.records,
        "first_bad_seq": trailer.first_bad_seq,
    }
    return orjson.dumps(line).decode() + "\n"


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def csv_header() -> str:
    return _csv([list(CSV_COLUMNS)])


def csv_records(rows: list[dict[str, Any]]) -> str:
    return _csv(
        [
            [
                "record",
                *(
                    _json_text(row[c]) if c in ("before", "after") else row[c]
                    for c in RECORD_COLUMNS
                ),
                None,
                None,
                None,
            ]
            for row in rows
        ]
    )


def csv_trailer(trailer: Trailer) -> str:
    cells: dict[str, Any] = {
        "row_type": "chain_head",
        "seq": trailer.head_seq,
        "hash": trailer.head_hash,
        "verified": "true" if trailer.verified else "false",
        "records": trailer.records,
        "first_bad_seq": trailer.first_bad_seq,
    }
    return _csv([[cells.get(column) for column in CSV_COLUMNS]])


def filename(stretch: Stretch, export_format: ExportFormat) -> str:
    if stretch.empty:
        return f"audit-trail-empty.{export_format.value}"
    return f"audit-trail-{stretch.first_seq}-{stretch.last_seq}.{export_format.value}"


async def export_lines(
    sessionmaker: async_sessionmaker[AsyncSession],
    stretch: Stretch,
    export_format: ExportFormat,
) -> AsyncIterator[str]:
    """The export of ``stretch``, a page of ``EXPORT_PAGE`` records per chunk, each page read
    in a short transaction of its own (SQLite's would keep writers out for the whole export)."""
    jsonl = export_format is ExportFormat.JSONL
    if not jsonl:
        yield csv_header()
    async with sessionmaker() as session:
        previous = await anchor(session, stretch.first_seq)
    walk = ChainWalk(stretch.first_seq, previous or "")
    if previous is None:  # the seal before the stretch is missing: its first link cannot hold
        walk.first_bad_seq = stretch.first_seq - 1
    written = 0
    after_seq = stretch.first_seq - 1
    while after_seq < stretch.last_seq:
        async with sessionmaker() as session:
            page = await repository.chain_slice(
                session, after_seq=after_seq, last_seq=stretch.last_seq, limit=EXPORT_PAGE
            )
        if not page:
            break
        for sealed in page:
            walk.step(sealed.record, sealed.seal)
        rows = [exported(sealed.record, sealed.seal) for sealed in page]
        yield jsonl_records(rows) if jsonl else csv_records(rows)
        written += len(page)
        after_seq = page[-1].seal.seq
    first_bad = walk.first_bad_seq
    if first_bad is None and not stretch.empty and after_seq != stretch.last_seq:
        first_bad = after_seq + 1  # the stretch's last seals are missing
    trailer = Trailer(stretch.last_seq, stretch.last_hash, first_bad is None, written, first_bad)
    yield jsonl_trailer(trailer) if jsonl else csv_trailer(trailer)
