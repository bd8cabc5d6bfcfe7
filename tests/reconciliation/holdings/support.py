"""Helpers for the holdings statement tests: sample files, posting them, reading the tables."""

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.core.auth import Role
from app.reconciliation.holdings.models import HoldingsFile, HoldingsLine, HoldingsStatement
from tests.conftest import Database
from tests.support import Api

SAMPLES = Path(__file__).parent / "parsing" / "samples"
JPM, APPLE, TOTAL, BNP, SAP, BUND = (
    "US46625H1005",
    "US0378331005",
    "FR0000120271",
    "FR0000131104",
    "DE0007164600",
    "DE0001102614",
)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


async def post_file(
    api: Api,
    data: bytes | str,
    *,
    role: Role | str = "gateway",
    content_type: str | None = None,
    params: dict[str, str] | None = None,
    key: str | None = None,
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = data.encode() if isinstance(data, str) else data
    return await api.post(
        "/holdings-statements", content=body, headers=headers, params=params, role=role
    )


def holdings_json(
    *holdings: tuple[str, str], account: str = "DEMO-DTC-0001", statement_id: str = "S-1"
) -> str:
    lines = ", ".join(
        f'{{"isin": "{isin}", "quantity": "{quantity}"}}' for isin, quantity in holdings
    )
    return (
        f'{{"statements": [{{"account": "{account}", "statement_id": "{statement_id}", '
        f'"statement_date": "2026-11-24", "holdings": [{lines}]}}]}}'
    )


async def counts(db: Database) -> dict[str, int]:
    """Rows in the holdings tables and holdings audit records."""
    async with db.sessionmaker() as session:
        found: dict[str, int] = {}
        for name, model in (
            ("files", HoldingsFile),
            ("statements", HoldingsStatement),
            ("lines", HoldingsLine),
        ):
            found[name] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        audited = select(func.count()).where(AuditRecord.entity_type == "holdings_statement")
        found["audit"] = int(await session.scalar(audited) or 0)
        return found


async def key_id(api: Api, role: Role | str) -> str:
    response = await api.get("/api-keys", role="admin")
    return str(next(k["id"] for k in response.json()["items"] if k["name"] == f"test {role}"))


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    return body
