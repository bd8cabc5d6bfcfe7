"""Reconciliation tests run on the demo reference data plus the cash accounts the statement
samples name."""

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from tests.conftest import Database
from tests.factories import STATEMENT_ACCOUNTS
from tests.support import Api


@pytest.fixture
async def accounts(api: Api, reference: None) -> None:
    for payload in STATEMENT_ACCOUNTS:
        response = await api.post("/accounts", json=payload, role="operations")
        assert response.status_code == 201, response.text


async def audit_actions(db: Database, entity_type: str) -> list[tuple[str, str]]:
    """(entity id, action) of every audit record of that entity type, in seq order."""
    async with db.sessionmaker() as session:
        statement = (
            select(AuditRecord.entity_id, AuditRecord.action)
            .where(AuditRecord.entity_type == entity_type)
            .order_by(AuditRecord.id)
        )
        return [(row.entity_id, row.action) for row in (await session.execute(statement)).all()]


async def count(db: Database, model: type) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
