"""GET /audit/export: every sealed record of a stretch, in chain order, then the chain head it
was checked against; and the standalone offline verifier run on what the API exported."""

import asyncio
import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app.audit import export
from app.audit.models import AuditRecord
from app.audit.service import Change, record_changes
from app.core.auth import SYSTEM_ACTOR
from app.core.db import table_of
from tests.audit.support import (
    behind_the_back,
    book,
    canonical_hash,
    head,
    seal_at,
    seq_of,
)
from tests.conftest import DEFAULT_NOW, Database
from tests.support import Api, problem_fields, seal

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_audit_export.py"


# GET /audit/export ----------------------------------------------------------------------------


async def known_history(db: Database) -> tuple[datetime, int, str]:
    """Two records of a probe entity, sealed a day from now: the window start, the seq of the
    first and the hash it links to."""
    async with db.sessionmaker() as session:
        await record_changes(
            session,
            [
                Change("probe", "prb_1", "created", None, {"name": "Zoë", "n": 1}),
                Change("probe", "prb_1", "renamed", {"name": "Zoë", "n": 1}, {"name": "Zo"}),
            ],
            actor=SYSTEM_ACTOR,
            now=DEFAULT_NOW,
        )
        await session.commit()
    before_seq, before_hash = await head(db)
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    assert await seal_at(db, moment) == 2
    return moment, before_seq + 1, before_hash


def expected_records(moment: datetime, seq: int, prev_hash: str) -> list[dict[str, Any]]:
    common = {
        "occurred_at": "2026-11-25T15:00:00+00:00",
        "actor_key_id": "system",
        "actor_role": "admin",
        "actor_name": "system",
        "request_id": None,
        "entity_type": "probe",
        "entity_id": "prb_1",
    }
    first = {
        "seq": seq, **common, "action": "created", "before": None,
        "after": {"name": "Zoë", "n": 1}, "prev_hash": prev_hash,
    }  # fmt: skip
    first_hash = canonical_hash(first)
    second = {
        "seq": seq + 1, **common, "action": "renamed", "before": {"name": "Zoë", "n": 1},
        "after": {"name": "Zo"}, "prev_hash": first_hash,
    }  # fmt: skip
    sealed_at = moment.isoformat()
    return [
        {**first, "hash": first_hash, "sealed_at": sealed_at, "event_type": "probe.created"},
        {
            **second,
            "hash": canonical_hash(second),
            "sealed_at": sealed_at,
            "event_type": "probe.renamed",
        },
    ]


async def test_export_jsonl_writes_each_record_then_the_chain_head(api: Api, db: Database) -> None:
    moment, seq, prev_hash = await known_history(db)

    response = await api.get(
        "/audit/export", role="compliance", params={"format": "jsonl", "from": moment.isoformat()}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="audit-trail-{seq}-{seq + 1}.jsonl"'
    )
    lines = response.text.splitlines()
    records = expected_records(moment, seq, prev_hash)
    assert [json.loads(line) for line in lines] == [
        *records,
        {
            "chain_head": {"seq": seq + 1, "hash": records[1]["hash"]},
            "verified": True,
            "records": 2,
            "first_bad_seq": None,
        },
    ]
    # Keys in the export's own order, non-ASCII written as is.
    assert list(json.loads(lines[0])) == list(export.RECORD_COLUMNS)
    assert '"name":"Zoë"' in lines[0]


async def test_export_csv_writes_a_row_per_record_and_a_chain_head_row(
    api: Api, db: Database
) -> None:
    moment, seq, prev_hash = await known_history(db)

    response = await api.get(
        "/audit/export", role="admin", params={"format": "csv", "from": moment.isoformat()}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="audit-trail-{seq}-{seq + 1}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    first, second = expected_records(moment, seq, prev_hash)

    def cells(record: dict[str, Any]) -> list[str]:
        shown = {
            **record,
            "seq": str(record["seq"]),
            "request_id": "",
            "before": json.dumps(record["before"], separators=(",", ":"), ensure_ascii=False),
            "after": json.dumps(record["after"], separators=(",", ":"), ensure_ascii=False),
        }
        return ["record", *(shown[column] for column in export.RECORD_COLUMNS), "", "", ""]

    assert rows == [
        [
            "row_type", "seq", "prev_hash", "hash", "sealed_at", "occurred_at", "actor_key_id",
            "actor_role", "actor_name", "request_id", "entity_type", "entity_id", "action",
            "before", "after", "event_type", "verified", "records", "first_bad_seq",
        ],
        cells(first),
        cells(second),
        ["chain_head", str(seq + 1), "", second["hash"], *[""] * 12, "true", "2", ""],
    ]  # fmt: skip


async def test_export_pages_through_the_whole_chain_up_to_the_head(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXPORT_PAGE", 7)
    await book(api)
    await seal(db.sessionmaker)
    await book(api)  # committed, not sealed yet: not in the export
    head_seq, head_hash = await head(db)

    response = await api.get("/audit/export", role="compliance")

    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["seq"] for line in lines[:-1]] == list(range(1, head_seq + 1))
    assert lines[-1] == {
        "chain_head": {"seq": head_seq, "hash": head_hash},
        "verified": True,
        "records": head_seq,
        "first_bad_seq": None,
    }
    assert response.headers["content-disposition"] == (
        f'attachment; filename="audit-trail-1-{head_seq}.jsonl"'
    )


async def test_export_of_a_tampered_trail_says_where_it_stopped_verifying(
    api: Api, db: Database, reference: None
) -> None:
    trade_id = await book(api)
    await book(api)
    await seal(db.sessionmaker)
    record_id, seq = await seq_of(db, trade_id, "captured")
    records = table_of(AuditRecord)
    await behind_the_back(
        db, update(records).where(records.c.id == record_id).values(entity_id="trd_other")
    )

    response = await api.get("/audit/export", role="compliance", params={"format": "csv"})

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["row_type"] for row in rows[-2:]] == ["record", "chain_head"]
    assert (rows[-1]["verified"], rows[-1]["first_bad_seq"]) == ("false", str(seq))
    assert rows[-1]["records"] == str(len(rows) - 1)  # every record is still exported


async def test_an_empty_window_exports_only_the_head(api: Api, db: Database) -> None:
    head_seq, head_hash = await head(db)
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    response = await api.get("/audit/export", role="compliance", params={"from": later})

    assert response.headers["content-disposition"] == (
        'attachment; filename="audit-trail-empty.jsonl"'
    )
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {
            "chain_head": {"seq": head_seq, "hash": head_hash},
            "verified": True,
            "records": 0,
            "first_bad_seq": None,
        }
    ]


# The offline verifier -------------------------------------------------------------------------


async def run_script(path: Path) -> tuple[int, str]:
    """The offline verifier in a Python of its own, isolated (``-I``): no app on its path."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-I", str(SCRIPT), str(path)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode().strip()


@pytest.mark.parametrize("export_format", ["jsonl", "csv"])
async def test_the_offline_verifier_accepts_an_export_and_names_a_tampered_record(
    api: Api, db: Database, reference: None, tmp_path: Path, export_format: str
) -> None:
    trade_id = await book(api)
    await book(api, quantity="7")
    await seal(db.sessionmaker)
    _, seq = await seq_of(db, trade_id, "captured")
    head_seq, head_hash = await head(db)
    response = await api.get("/audit/export", role="compliance", params={"format": export_format})
    assert response.status_code == 200, response.text
    original = tmp_path / f"trail.{export_format}"
    original.write_bytes(response.content)
    # Someone moves the trade's quantity in the file: its record no longer hashes.
    tampered = tmp_path / f"tampered.{export_format}"
    lines = response.content.decode().splitlines(keepends=True)
    # Or cuts the file short: the chain head is missing.
    truncated = tmp_path / f"truncated.{export_format}"
    truncated.write_text("".join(lines[:-1]), encoding="utf-8")
    quote = '"' if export_format == "jsonl" else '""'  # CSV doubles the quotes in a cell
    line = seq - 1 if export_format == "jsonl" else seq  # CSV has its header first
    was, now = (f"{quote}quantity{quote}:{quote}{n}{quote}" for n in ("100", "10"))
    assert lines[line].count(was) == 1
    lines[line] = lines[line].replace(was, now)
    tampered.write_text("".join(lines), encoding="utf-8")

    assert await run_script(original) == (
        0,
        f"OK: {head_seq} records, seq 1 to {head_seq}; chain head {head_hash}",
    )
    assert await run_script(tampered) == (
        1,
        f"FAILED at seq {seq}: the record does not hash to its hash",
    )
    assert await run_script(truncated) == (
        1,
        "FAILED: the file ends without its chain head (truncated?)",
    )


async def test_the_offline_verifier_refuses_a_file_rewritten_consistently_to_another_head(
    api: Api, db: Database, tmp_path: Path
) -> None:
    """Re-hashing every record after a forged one makes the links hold, but the last record is
    no longer the chain head the file ends with."""
    response = await api.get("/audit/export", role="compliance")
    rows = [json.loads(line) for line in response.text.splitlines()]
    records, trailer = rows[:-1], rows[-1]
    records[2]["actor_name"] = "forged"
    previous = records[1]["hash"]
    for record in records[2:]:
        record["prev_hash"] = previous
        fields = {k: record[k] for k in record if k not in ("hash", "sealed_at", "event_type")}
        record["hash"] = previous = canonical_hash(fields)
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(json.dumps(r) + "\n" for r in [*records, trailer]))

    code, message = await run_script(forged)

    assert (code, message) == (
        1,
        f"FAILED at seq {len(records)}: the last record is not the chain head "
        f"(seq {len(records)} {trailer['chain_head']['hash']})",
    )


# Who may call, and what is refused --------------------------------------------------------


@pytest.mark.parametrize("role", ["trader", "operations", "gateway"])
async def test_other_roles_are_refused(api: Api, role: str) -> None:
    response = await api.get("/audit/export", role=role)
    assert response.status_code == 403, response.text


async def test_no_key_is_401(api: Api) -> None:
    response = await api.get("/audit/export")
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"format": "xml"}, {"format"}),
        ({"format": "JSONL"}, {"format"}),
        ({"to": "2026-11-25"}, {"to"}),  # a date, not a moment
        ({"from": "2026-11-26T00:00:00Z", "to": "2026-11-25T00:00:00Z"}, {"from"}),
    ],
)  # fmt: skip
async def test_bad_values_are_422(api: Api, params: dict[str, str], fields: set[str]) -> None:
    response = await api.get("/audit/export", role="compliance", params=params)
    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields
