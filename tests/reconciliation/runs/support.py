"""Reconciliation run test helpers: statements as JSON on the demo's CASH-EUR, book movements
as approved adjustments, runs waited for, and the breaks and matches as stored."""

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.reconciliation.breaks.models import ReconciliationBreak
from app.reconciliation.matches.models import MatchedItem, ReconciliationMatch
from tests.conftest import Database
from tests.support import Api, SecondKey

OPS = "operations"
EUR_IBAN = "DE89370400440532013000"
DAY, NEXT_DAY = "2026-11-25", "2026-11-26"


def entry(
    amount: str, day: str = DAY, reference: str | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount, "booking_date": day, "value_date": day, **fields}
    if reference is not None:
        body["references"] = {"end_to_end_id": reference}
    return body


async def send_statement(
    api: Api, statement_id: str, *entries: dict[str, Any], **balances: Any
) -> list[dict[str, Any]]:
    """A JSON statement of CASH-EUR with these entries (and balances, when given)."""
    statement = {
        "account": EUR_IBAN,
        "currency": "EUR",
        "statement_id": statement_id,
        "entries": list(entries),
        **balances,
    }
    response = await api.post(
        "/statements", json={"statements": [statement]}, params={"format": "json"}, role="gateway"
    )
    assert response.status_code == 201, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def pay(
    api: Api,
    ops2: SecondKey,
    amount: str,
    day: str = DAY,
    account: str = "CASH-EUR",
    currency: str = "EUR",
) -> tuple[str, str]:
    """A cash movement (an approved adjustment with this value date): (adjustment id, journal
    entry id)."""
    body = {
        "kind": "opening",
        "reason": f"pay {amount} on {day}",
        "value_date": day,
        "lines": [{"account": account, "asset": currency, "amount": amount}],
    }
    proposed = await api.post("/adjustments", json=body, role=OPS)
    assert proposed.status_code == 201, proposed.text
    approved = await api.post(f"/adjustments/{proposed.json()['id']}/approve", headers=ops2.headers)
    assert approved.status_code == 200, approved.text
    return approved.json()["id"], approved.json()["entry_id"]


async def reconcile(
    api: Api, account: str = "CASH-EUR", day: str = DAY, **body: Any
) -> dict[str, Any]:
    response = await api.post(
        "/reconciliation-runs",
        json={"account": account, "date": day, **body},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def stored_breaks(db: Database) -> list[ReconciliationBreak]:
    async with db.sessionmaker() as session:
        statement = select(ReconciliationBreak).order_by(ReconciliationBreak.key)
        return list((await session.scalars(statement)).all())


def summary(
    rows: list[ReconciliationBreak],
) -> set[tuple[str, str, Decimal, tuple[str, ...], tuple[str, ...]]]:
    return {
        (row.kind, row.status, row.amount, tuple(row.statement_entry_ids), tuple(row.movement_ids))
        for row in rows
    }


async def stored_matches(db: Database) -> list[ReconciliationMatch]:
    async with db.sessionmaker() as session:
        statement = select(ReconciliationMatch).order_by(
            ReconciliationMatch.created_at, ReconciliationMatch.id
        )
        return list((await session.scalars(statement)).all())


async def matched_items(db: Database) -> list[tuple[str, str, str]]:
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(MatchedItem))).all()
        return sorted((row.item_kind, row.item_id, row.match_id) for row in rows)
