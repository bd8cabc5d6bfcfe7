"""Reconciliation runs over HTTP on the demo's CASH-EUR: statement lines (JSON statements)
against book movements (adjustments), matches and breaks as stored, idempotence, a payment a
day late, dry runs, and every refusal."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.core.snapshots import row_snapshot
from app.reconciliation.breaks.models import ReconciliationBreak
from app.reconciliation.matches.models import ReconciliationMatch
from app.reconciliation.runs import cash
from tests.conftest import Database
from tests.reconciliation.conftest import audit_actions, count
from tests.reconciliation.runs.support import (
    DAY,
    NEXT_DAY,
    OPS,
    entry,
    matched_items,
    pay,
    reconcile,
    send_statement,
    stored_breaks,
    stored_matches,
    summary,
)
from tests.support import Api, SecondKey

RUNS = "/reconciliation-runs"


async def a_day(api: Api, ops2: SecondKey) -> tuple[str, str, str]:
    """The book pays in 100.00 (adjustment, entry); the bank shows it with our reference and a
    fee of 5.00 the book does not know. Opening 0, closing 95.00: the book says 100.00."""
    adjustment, entry_id = await pay(api, ops2, "100.00")
    [statement] = await send_statement(
        api,
        "S-1",
        entry("100.00", reference=adjustment),
        entry("-5.00", remittance_information="Account fee"),
        opening_balance={"amount": "0", "date": "2026-11-24"},
        closing_balance={"amount": "95.00", "date": DAY},
    )
    return adjustment, entry_id, statement["id"]


async def entry_ids(api: Api, statement_id: str) -> list[str]:
    response = await api.get(f"/statements/{statement_id}", role=OPS)
    return [item["id"] for item in response.json()["entries"]]


async def test_a_run_matches_by_reference_and_finds_the_fee_and_the_balance(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    _, entry_id, statement_id = await a_day(api, ops2)
    paid, fee = await entry_ids(api, statement_id)

    run = await reconcile(api)

    assert (run["status"], run["account"], run["date"], run["total"]) == (
        "completed",
        "CASH-EUR",
        DAY,
        3,
    )
    assert (run["matched"], run["breaks_opened"], run["breaks_closed"]) == (1, 2, 0)
    report = run["report"]
    assert report["cash"]["matches"] == {"exact-reference": 1}
    assert report["balance"] == {
        "statement_id": statement_id,
        "currency": "EUR",
        "statement": "95.00",
        "book": "100.00",
        "difference": "-5.00",
    }
    assert report["breaks"]["opened"] == {"balance": 1, "missing_in_book": 1}
    [match] = await stored_matches(db)
    assert (match.rule, match.statement_entry_ids, match.movement_ids, match.run_id) == (
        "exact-reference",
        [paid],
        [entry_id],
        run["id"],
    )
    assert match.amount_difference == 0
    assert summary(await stored_breaks(db)) == {
        ("balance", "open", Decimal("-5.00"), (), ()),
        ("missing_in_book", "open", Decimal("-5.00"), (fee,), ()),
    }
    actions = await audit_actions(db, "reconciliation_break")
    assert sorted(action for _, action in actions) == ["opened", "opened"]
    assert [a for _, a in await audit_actions(db, "reconciliation_match")] == ["matched"]


async def test_matches_stored_a_part_at_a_time_each_audited_as_stored(
    api: Api, ops2: SecondKey, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cash, "STORE_PART", 2)  # three matches: a part of two, a part of one
    amounts = ("100.00", "250.00", "-40.00")
    paid = [await pay(api, ops2, amount) for amount in amounts]
    await send_statement(
        api,
        "S-1",
        *(entry(amount, reference=ref) for amount, (ref, _) in zip(amounts, paid, strict=True)),
    )

    run = await reconcile(api)

    matches = await stored_matches(db)
    assert (run["matched"], sorted(m.movement_ids[0] for m in matches)) == (
        3,
        sorted(entry_id for _, entry_id in paid),
    )
    async with db.sessionmaker() as session:
        statement = select(AuditRecord.entity_id, AuditRecord.after).where(
            AuditRecord.entity_type == "reconciliation_match"
        )
        images = {row.entity_id: row.after for row in (await session.execute(statement)).all()}
    assert images == {m.id: row_snapshot(m) for m in matches}


async def test_running_twice_matches_nothing_twice_and_opens_no_second_break(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    await a_day(api, ops2)
    first = await reconcile(api)
    items = await matched_items(db)

    again = await reconcile(api)

    assert again["id"] != first["id"]
    assert (again["matched"], again["breaks_opened"], again["breaks_closed"]) == (0, 0, 0)
    assert again["report"]["breaks"]["kept"] == {"balance": 1, "missing_in_book": 1}
    assert again["report"]["cash"]["already_matched"] == 2
    assert await count(db, ReconciliationMatch) == 1
    assert await count(db, ReconciliationBreak) == 2
    assert await matched_items(db) == items


async def test_a_payment_a_day_late_closes_yesterdays_break_with_the_match(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    rule = {
        "name": "exact-reference-late",
        "description": "A shared reference, a day apart.",
        "priority": 25,
        "kind": "exact_reference",
        "value_date_days": 1,
    }
    assert (await api.post("/reconciliation-rules", json=rule, role=OPS)).status_code == 201
    adjustment, entry_id = await pay(api, ops2, "250.00")
    first = await reconcile(api)
    [missing] = await stored_breaks(db)
    assert (missing.kind, missing.status, missing.movement_ids) == (
        "missing_at_bank",
        "open",
        [entry_id],
    )
    assert first["breaks_opened"] == 1
    [statement] = await send_statement(api, "S-2", entry("250.00", NEXT_DAY, adjustment))
    [line_id] = await entry_ids(api, statement["id"])

    late = await reconcile(api, day=NEXT_DAY)

    assert late["report"]["cash"]["matches"] == {"exact-reference-late": 1}
    assert late["report"]["breaks"]["closed"] == {"missing_at_bank": 1}
    [match] = await stored_matches(db)
    assert (match.statement_entry_ids, match.movement_ids, match.value_date_difference) == (
        [line_id],
        [entry_id],
        1,
    )
    [closed] = await stored_breaks(db)
    assert (closed.id, closed.status, closed.resolution, closed.closed_by) == (
        missing.id,
        "closed",
        "matched",
        match.id,
    )
    assert (missing.id, "closed") in await audit_actions(db, "reconciliation_break")


async def test_a_dry_run_reports_and_writes_nothing(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    await a_day(api, ops2)

    response = await api.post(
        RUNS, json={"account": "CASH-EUR", "date": DAY, "dry_run": True}, role=OPS
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["dry_run"], body["matched"]) == (
        None,
        "dry_run",
        True,
        1,
    )
    assert body["report"]["breaks"]["opened"] == {"balance": 1, "missing_in_book": 1}
    assert await count(db, ReconciliationMatch) == 0
    assert await count(db, ReconciliationBreak) == 0
    assert (await api.get(RUNS, role=OPS)).json()["items"] == []


async def test_a_run_without_waiting_answers_202_and_the_run_reads_back(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    await a_day(api, ops2)
    response = await api.post(
        RUNS,
        json={"account": "CASH-EUR", "date": DAY},
        role=OPS,
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]
    assert response.headers["Location"] == f"/api/v1{RUNS}/{run_id}"
    replay = await api.post(
        RUNS,
        json={"account": "CASH-EUR", "date": DAY},
        role=OPS,
        headers={"Idempotency-Key": "k-1"},
    )
    assert replay.json()["id"] == run_id

    for role in ("operations", "compliance", "gateway"):
        one = await api.get(f"{RUNS}/{run_id}", role=role)
        assert (one.status_code, one.json()["status"], one.json()["matched"]) == (
            200,
            "completed",
            1,
        )
    listed = await api.get(RUNS, params={"account": "CASH-EUR", "date": DAY}, role=OPS)
    assert [item["id"] for item in listed.json()["items"]] == [run_id]
    other = await api.get(RUNS, params={"account": "CASH-USD"}, role=OPS)
    assert other.json()["items"] == []
    assert (await api.get(f"{RUNS}/rcn_nothing", role=OPS)).status_code == 404
    assert (await api.get(RUNS, role="trader")).status_code == 403
    resumed = await api.post(f"{RUNS}/{run_id}/resume", role=OPS)
    assert resumed.status_code == 409


async def test_who_may_run_and_what_is_refused(api: Api, reference: None) -> None:
    body = {"account": "CASH-EUR", "date": DAY}
    assert (await api.post(RUNS, json=body)).status_code == 401
    for role in ("trader", "compliance", "gateway"):
        assert (await api.post(RUNS, json=body, role=role)).status_code == 403
    unknown = await api.post(RUNS, json={**body, "account": "CASH-XYZ"}, role=OPS)
    assert unknown.status_code == 404, unknown.text
    assert "CASH-XYZ" in unknown.json()["detail"]
    dry_unknown = await api.post(RUNS, json={**body, "account": "NOPE", "dry_run": True}, role=OPS)
    assert dry_unknown.status_code == 404
    for bad in ({**body, "date": "25.11.2026"}, {"account": "CASH-EUR"}, {**body, "x": 1}):
        assert (await api.post(RUNS, json=bad, role=OPS)).status_code == 422


async def test_a_safekeeping_account_without_holdings_reports_none(
    api: Api, reference: None
) -> None:
    run = await reconcile(api, account="SEC-EB")

    assert run["report"] == {
        "account_kind": "securities",
        "holdings": None,
        "breaks": {"opened": {}, "kept": {}, "reopened": {}, "closed": {}},
        "write_offs_decided": 0,
    }
