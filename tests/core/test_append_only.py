"""On PostgreSQL the database itself refuses to rewrite the audit trail (migration 0001)."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditRecord
from tests.conftest import Database
from tests.support import Api


async def _one_audit_record(api: Api, db: Database) -> int:
    created = await api.post("/api-keys", json={"name": "audited", "role": "trader"}, role="admin")
    assert created.status_code == 201, created.text
    async with db.sessionmaker() as session:
        seq = await session.scalar(select(func.max(AuditRecord.seq)))
    assert seq is not None
    return int(seq)


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE audit_records SET action = 'rewritten' WHERE seq = :seq", "UPDATE"),
        ("UPDATE audit_records SET hash = repeat('0', 64) WHERE seq = :seq", "UPDATE"),
        ("DELETE FROM audit_records WHERE seq = :seq", "DELETE"),
        ("DELETE FROM audit_records", "DELETE"),
    ],
)
async def test_audit_records_cannot_be_updated_or_deleted(
    api: Api, db: Database, statement: str, operation: str
) -> None:
    if db.backend != "postgres":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    seq = await _one_audit_record(api, db)
    async with db.sessionmaker() as session:
        before = (await session.execute(select(AuditRecord.action, AuditRecord.hash))).all()

    with pytest.raises(DBAPIError) as caught:
        async with db.engine.begin() as connection:
            await connection.execute(text(statement), {"seq": seq})
    message = str(caught.value.orig)
    assert f"{operation} on audit_records is not allowed: the table is append-only" in message
    assert getattr(caught.value.orig, "sqlstate", None) == "42501"  # insufficient_privilege

    async with db.sessionmaker() as session:
        after = (await session.execute(select(AuditRecord.action, AuditRecord.hash))).all()
    assert after == before


async def test_audit_records_can_still_be_appended(api: Api, db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    first = await _one_audit_record(api, db)
    second = await _one_audit_record(api, db)
    assert second == first + 1
