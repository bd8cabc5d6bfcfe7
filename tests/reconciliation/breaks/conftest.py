"""Breaks seeded straight into the database (the runs that find them are tested on their own),
and the helpers the workflow tests share."""

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.reconciliation.breaks.models import ReconciliationBreak
from tests.conftest import DEFAULT_NOW, Database
from tests.support import Api

SeedBreak = Callable[..., Awaitable[str]]


@pytest.fixture
def seed_break(db: Database, reference: None) -> SeedBreak:
    """``await seed_break(id=..., **columns)``: an open cash break on CASH-USD unless told."""

    async def seed(**columns: Any) -> str:
        break_id = columns.pop("id")
        values: dict[str, Any] = {
            "id": break_id,
            "kind": "missing_in_book",
            "status": "open",
            "key": f"test:{break_id}",
            "account": "CASH-USD",
            "currency": "USD",
            "isin": None,
            "amount": Decimal("125.40"),
            "since": date(2026, 11, 25),
            "value_date": date(2026, 11, 25),
            "detail": "Statement line with no book movement",
            "statement_id": "stm_1",
            "statement_entry_ids": [f"ste_{break_id}"],
            "movement_ids": [],
            "created_at": DEFAULT_NOW,
            "updated_at": DEFAULT_NOW,
            "version": 1,
        }
        values.update(columns)
        async with db.sessionmaker() as session:
            session.add(ReconciliationBreak(**values))
            await session.commit()
        return str(break_id)

    return seed


async def ops_key_id(api: Api, name: str = "test operations") -> str:
    response = await api.get("/api-keys", role="admin")
    assert response.status_code == 200, response.text
    [found] = [key["id"] for key in response.json()["items"] if key["name"] == name]
    return str(found)


async def get_break(api: Api, break_id: str) -> dict[str, Any]:
    response = await api.get(f"/breaks/{break_id}", role="operations")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(api: Api, **params: str) -> list[str]:
    response = await api.get("/breaks", params=params, role="compliance")
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]
