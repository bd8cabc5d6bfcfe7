"""On PostgreSQL the database itself refuses to rewrite the audit trail: records (migration
0001) and their seals (0018)."""

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord, AuditSeal
from tests.conftest import Database
from tests.support import Api, seal


async def _trail(session: AsyncSession) -> list[Any]:
    statement = select(AuditRecord.id, AuditRecord.action, AuditSeal.hash).join(
        AuditSeal, AuditSeal.record_id == AuditRecord.id
    )
    return list((await session.execute(statement.order_by(AuditRecord.id))).all())


async def _one_audit_record(api: Api, db: Database) -> int:
    created = await api.post("/api-keys", json={"name": "audited", "role": "trader"}, role="admin")
    assert created.status_code == 201, created.text
    async with db.sessionmaker() as session:
        record_id = await session.scalar(select(func.max(AuditRecord.id)))
    assert record_id is not None
    await seal(db.sessionmaker)
    return int(record_id)


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE audit_records SET action = 'rewritten' WHERE id = :id", "UPDATE"),
        ("DELETE FROM audit_records WHERE id = :id", "DELETE"),
        ("DELETE FROM audit_records", "DELETE"),
        ("UPDATE audit_seals SET hash = repeat('0', 64) WHERE record_id = :id", "UPDATE"),
        ("DELETE FROM audit_seals WHERE record_id = :id", "DELETE"),
    ],
)
async def test_audit_records_cannot_be_updated_or_deleted(
    api: Api, db: Database, statement: str, operation: str
) -> None:
    if db.backend != "postgres":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    record_id = await _one_audit_record(api, db)
    table = (
        statement.split(" FROM ")[-1].split()[0] if operation == "DELETE" else statement.split()[1]
    )
    async with db.sessionmaker() as session:
        before = await _trail(session)

    with pytest.raises(DBAPIError) as caught:
        async with db.engine.begin() as connection:
            await connection.execute(text(statement), {"id": record_id})
    message = str(caught.value.orig)
    assert f"{operation} on {table} is not allowed: the table is append-only" in message
    assert getattr(caught.value.orig, "sqlstate", None) == "42501"  # insufficient_privilege

    async with db.sessionmaker() as session:
        after = await _trail(session)
    assert after == before


async def test_audit_records_can_still_be_appended(api: Api, db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    first = await _one_audit_record(api, db)
    second = await _one_audit_record(api, db)
    assert second == first + 1
