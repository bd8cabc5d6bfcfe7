"""The sealer's queue names records of the trail only: what its foreign key refused, the database
refuses still (once per statement on PostgreSQL since migration 0034b, per row on SQLite), by
INSERT and by COPY alike."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditRecord, UnsealedRecord
from app.core.bulk import copies, insert_rows
from app.core.db import table_of
from tests.conftest import Database
from tests.support import Api, seal

QUEUED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def _sealed_record(api: Api, db: Database) -> int:
    """A record of the trail, sealed: the queue holds it no more."""
    created = await api.post("/api-keys", json={"name": "audited", "role": "trader"}, role="admin")
    assert created.status_code == 201, created.text
    await seal(db.sessionmaker)
    async with db.sessionmaker() as session:
        record_id = await session.scalar(select(func.max(AuditRecord.id)))
        assert await session.scalar(select(func.count()).select_from(UnsealedRecord)) == 0
    assert record_id is not None
    return int(record_id)


@pytest.mark.parametrize("rows", [1, 64], ids=["insert", "copy"])
async def test_a_queued_record_that_does_not_exist_is_refused(
    api: Api, db: Database, rows: int
) -> None:
    record_id = await _sealed_record(api, db)
    missing = record_id + 1_000
    # With a record that exists first, when there are several: the statement is refused whole.
    ids = [record_id, *range(missing, missing + rows - 1)] if rows > 1 else [missing]
    queued = [{"record_id": queued_id, "queued_at": QUEUED_AT} for queued_id in ids]
    async with db.sessionmaker() as session:
        assert copies(session.sync_session, rows) == (rows >= 64 and db.backend == "postgres")
        with pytest.raises(IntegrityError) as caught:
            await insert_rows(session, table_of(UnsealedRecord), queued)
    if db.backend == "postgres":
        named = re.search(
            r"audit record (\d+) is queued for sealing but does not exist", str(caught.value.orig)
        )
        assert named is not None
        assert int(named.group(1)) in set(ids) - {record_id}
        assert getattr(caught.value.orig, "sqlstate", None) == "23503"  # foreign_key_violation
    else:
        assert "FOREIGN KEY constraint failed" in str(caught.value.orig)
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(UnsealedRecord)) == 0
