"""A batch written by COPY (PostgreSQL, many rows) stores exactly what the executemany INSERTs
store: the same trade rows, audit records, journal entries and postings, byte for byte where
the database keeps text (the audit images), and the chain verifies over both."""

from typing import Any

import pytest
from sqlalchemy import text

from app.core import bulk
from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.reference.demo import load_demo_reference
from tests.conftest import DEFAULT_NOW, Database
from tests.factories import BUND, DEUTSCHE, TOTAL, bund_trade_payload, trade_payload
from tests.support import Api, seal

SAP = "DE0007164600"  # SAP, XETR, EUR: a locked-in venue (two audit records per trade)


def batch(prefix: str) -> list[Any]:
    """Every kind of item and outcome: equities on three venues, a bond with accrued interest,
    a rejected item, a duplicate within the batch."""
    first = trade_payload(external_id=f"{prefix}-1")
    return [
        first,
        trade_payload(external_id=f"{prefix}-2", side="sell", quantity="250", price="190.10"),
        trade_payload(
            external_id=f"{prefix}-3",
            isin=TOTAL,
            counterparty_lei=DEUTSCHE,
            currency="EUR",
            venue="XPAR",
            price="61.37",
        ),
        bund_trade_payload(external_id=f"{prefix}-4"),
        trade_payload(
            external_id=f"{prefix}-5",
            isin=SAP,
            counterparty_lei=DEUTSCHE,
            currency="EUR",
            venue="XETR",
            price="212.35",
        ),
        trade_payload(external_id=f"{prefix}-6", price="0"),
        {**first, "quantity": "300"},
    ]


_TRADES = """
    SELECT t.*, row_to_json(t)::text AS image FROM trades t
     WHERE external_id LIKE :prefix ORDER BY external_id"""
_AUDIT = """
    SELECT a.action, a.entity_type, a.actor_key_id, a.occurred_at, a.before::text AS before,
           a.after::text AS after, a.event_type, a.before IS NULL AS sql_null_before,
           u.record_id IS NOT NULL AS queued
      FROM audit_records a LEFT JOIN audit_unsealed u ON u.record_id = a.id
     WHERE a.entity_id = ANY(:ids) ORDER BY a.id"""
_JOURNAL = """
    SELECT e.id AS entry_id, e.source_id, e.kind, e.accounting_date, e.value_date,
           e.effective_at, e.description, e.created_at, e.created_by,
           p.ledger_account, p.asset, p.amount::text AS amount, p.cost::text AS cost,
           p.realized_pnl::text AS realized_pnl
      FROM journal_entries e JOIN postings p ON p.entry_id = e.id
     WHERE e.source_id = ANY(:ids) ORDER BY p.id"""


async def stored(db: Database, prefix: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the batch wrote, with its generated ids and its prefix replaced by placeholders."""
    ids = [r["id"] for r in results if r["outcome"] == "created"]
    names = {trade_id: f"<trade {n}>" for n, trade_id in enumerate(ids)}

    def neutral(value: Any) -> Any:
        if isinstance(value, str):
            for trade_id, name in names.items():
                value = value.replace(trade_id, name)
            return value.replace(f"{prefix}-", "<prefix>-")
        return value

    async with db.sessionmaker() as session:
        found: dict[str, Any] = {}
        for name, sql in (("trades", _TRADES), ("audit", _AUDIT), ("journal", _JOURNAL)):
            rows = (await session.execute(text(sql), {"prefix": f"{prefix}-%", "ids": ids})).all()
            found[name] = [{k: neutral(v) for k, v in row._mapping.items()} for row in rows]
    entries = {row["entry_id"]: f"<entry {n}>" for n, row in enumerate(found["journal"])}
    for row in found["journal"]:
        row["entry_id"] = entries[row["entry_id"]]
    return found


async def load_reference(db: Database) -> None:
    async with db.sessionmaker() as session, UnitOfWork(session):
        await load_demo_reference(session, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)


async def post(api: Api, items: list[Any]) -> list[dict[str, Any]]:
    response = await api.post("/trades/batch", json={"items": items}, role="trader")
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def test_copy_writes_the_rows_executemany_writes(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.backend != "postgres":
        pytest.skip("COPY is PostgreSQL's; SQLite always takes the executemany INSERT")
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 10**9)
    by_insert = await post(api, batch("FO"))
    inserted = await stored(db, "FO", by_insert)
    # The same batch on the same book again (positions, costs and P&L as the first found them).
    await db.reset()
    await load_reference(db)
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)
    by_copy = await post(api, batch("FO"))
    copied = await stored(db, "FO", by_copy)

    outcomes = ["created"] * 5 + ["rejected", "duplicate"]
    assert [r["outcome"] for r in by_insert] == [r["outcome"] for r in by_copy] == outcomes
    assert copied == inserted
    # Not two empty sets: 5 trades; a record each, the Xetra trade a second; their postings.
    assert len(copied["trades"]) == 5
    assert [r["action"] for r in copied["audit"]] == [
        "captured",
        "captured",
        "captured",
        "captured",
        "captured",
        "confirmed_locked_in",
    ]
    assert {r["sql_null_before"] for r in copied["audit"]} == {False}  # JSON null, as INSERT
    assert {r["queued"] for r in copied["audit"]} == {True}
    assert {r["source_id"] for r in copied["journal"]} == {f"<trade {n}>" for n in range(5)}
    assert {r["asset"] for r in copied["journal"]} >= {"USD", "EUR", BUND, SAP}

    await seal(db.sessionmaker)
    verified = await api.get("/audit/verify", role="compliance")
    assert verified.status_code == 200, verified.text
    assert (verified.json()["ok"], verified.json()["drift"]) == (True, [])
