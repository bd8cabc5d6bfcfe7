"""Sending statement files as a gateway does, and what the tests read back."""

import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.reconciliation.statements.models import StatementFile
from tests.conftest import Database
from tests.support import Api

STATEMENTS = "/statements"
SAMPLES = Path(__file__).parent / "parsing" / "samples"
STATEMENT_ID = re.compile(r"^stm_[0-9a-z]{26}$")
PROBLEMS = "https://settlement.example/problems/"


def sample(name: str, *replacements: tuple[str, str]) -> bytes:
    text = (SAMPLES / name).read_bytes()
    for old, new in replacements:
        assert old.encode() in text, old
        text = text.replace(old.encode(), new.encode())
    return text


async def receive(
    api: Api,
    data: bytes,
    *,
    role: str = "gateway",
    params: dict[str, str] | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    return await api.post(STATEMENTS, content=data, params=params, headers=sent, role=role)


async def received(api: Api, data: bytes, **kwargs: Any) -> list[dict[str, Any]]:
    response = await receive(api, data, **kwargs)
    assert response.status_code == 201, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def files(db: Database) -> list[StatementFile]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(StatementFile))).all())


def json_statement(statement_id: str, opening: str, closing: str, **fields: Any) -> dict[str, Any]:
    """A statement in the service's JSON format on the demo's CASH-EUR."""
    return {
        "account": "DE89370400440532013000",
        "currency": "EUR",
        "statement_id": statement_id,
        "opening_balance": {"amount": opening, "date": "2026-11-24"},
        "closing_balance": {"amount": closing, "date": "2026-11-25"},
        "entries": [],
        **fields,
    }
