"""Helpers of the verify and export tests: a trail to check, sealed when and as a test says,
and tampering done straight in the database."""

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from app.audit.models import AuditRecord, AuditSeal
from app.audit.sealing import seal_pending
from tests.conftest import Database
from tests.factories import trade_payload
from tests.support import Api

# Sealed before any test: the rows seeded by migrations (8 penalty rates, 5 reconciliation
# rules, 4 buy-in extension periods) and the test keys (5); then the demo reference data loads
# 73 records.
BASELINE_SEALS = 22
REFERENCE_RECORDS = 73


async def book(api: Api, **overrides: Any) -> str:
    response = await api.post("/trades", json=trade_payload(**overrides), role="trader")
    assert response.status_code == 201, response.text
    trade_id: str = response.json()["id"]
    return trade_id


async def verify(api: Api, role: str = "compliance", **params: str) -> dict[str, Any]:
    response = await api.get("/audit/verify", role=role, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def seal_at(db: Database, moment: datetime) -> int:
    """Seal what has committed, stamping the seals ``moment`` (the sealer's clock)."""
    sealed = 0
    while True:
        async with db.sessionmaker() as session, session.begin():
            lags = await seal_pending(session, now=moment)
        if not lags:
            return sealed
        sealed += len(lags)


async def head(db: Database) -> tuple[int, str]:
    async with db.sessionmaker() as session:
        row = (
            await session.execute(
                select(AuditSeal.seq, AuditSeal.hash).order_by(AuditSeal.seq.desc()).limit(1)
            )
        ).one()
    return row.seq, row.hash


async def seq_of(db: Database, entity_id: str, action: str) -> tuple[int, int]:
    """The record id and seq of the record of ``action`` on ``entity_id``."""
    async with db.sessionmaker() as session:
        row = (
            await session.execute(
                select(AuditRecord.id, AuditSeal.seq)
                .join(AuditSeal, AuditSeal.record_id == AuditRecord.id)
                .where(AuditRecord.entity_id == entity_id, AuditRecord.action == action)
            )
        ).one()
    return row.id, row.seq


async def behind_the_back(db: Database, statement: Any, **params: Any) -> None:
    """Run ``statement`` straight against the database, as someone bypassing the service
    would; on PostgreSQL with the append-only trigger on audit records disabled for it."""
    async with db.engine.begin() as connection:
        postgres = db.backend == "postgres"
        if postgres:
            await connection.execute(
                text("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
            )
        await connection.execute(statement, params)
        if postgres:
            await connection.execute(
                text("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")
            )


def canonical_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical bytes, computed here as an auditor would (no app code)."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()
