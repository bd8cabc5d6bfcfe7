"""Assign, comment and resolve breaks: explained, or written off under four-eyes."""

from datetime import date
from decimal import Decimal
from typing import Any

from app.core.auth import Actor, Role
from app.core.db import UnitOfWork
from app.reconciliation.breaks import service
from tests.conftest import DEFAULT_NOW, Database
from tests.reconciliation.breaks.conftest import SeedBreak, get_break, ops_key_id
from tests.reconciliation.conftest import audit_actions
from tests.support import Api, SecondKey

JPM = "US46625H1005"


async def post(api: Api, break_id: str, action: str, body: dict[str, Any], **kwargs: Any) -> Any:
    kwargs.setdefault("role", "operations")
    return await api.post(f"/breaks/{break_id}/{action}", json=body, **kwargs)


# Assign ------------------------------------------------------------------------------------


async def test_assign_sets_the_owner_and_bumps_the_version(
    api: Api, seed_break: SeedBreak, db: Database
) -> None:
    await seed_break(id="brk_a")
    response = await post(api, "brk_a", "assign", {"owner": "cash-desk:ana"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["owner"], body["version"], body["status"]) == ("cash-desk:ana", 2, "open")
    assert await audit_actions(db, "reconciliation_break") == [("brk_a", "assigned")]


async def test_assign_honours_if_match(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a")
    stale = await post(api, "brk_a", "assign", {"owner": "ana"}, headers={"If-Match": '"2"'})
    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == 1
    fresh = await post(api, "brk_a", "assign", {"owner": "ana"}, headers={"If-Match": '"1"'})
    assert (fresh.status_code, fresh.json()["version"]) == (200, 2)


async def test_a_finished_break_cannot_be_assigned(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a", status="explained")
    response = await post(api, "brk_a", "assign", {"owner": "ana"})
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "Break brk_a is explained: it can no longer be assigned."


# Comment -----------------------------------------------------------------------------------


async def test_comment_is_201_and_shows_on_the_break(
    api: Api, seed_break: SeedBreak, db: Database
) -> None:
    await seed_break(id="brk_a")
    response = await post(api, "brk_a", "comment", {"text": "Asked the bank for the MT103"})

    assert response.status_code == 201, response.text
    comment = response.json()
    ops = await ops_key_id(api)
    assert comment["id"].startswith("bcm_")
    assert (comment["text"], comment["created_at"], comment["created_by"]) == (
        "Asked the bank for the MT103",
        "2026-11-25T15:00:00Z",
        ops,
    )
    body = await get_break(api, "brk_a")
    assert (body["comments"], body["version"]) == ([comment], 2)
    assert await audit_actions(db, "break_comment") == [(comment["id"], "created")]
    assert await audit_actions(db, "reconciliation_break") == [("brk_a", "commented")]


async def test_comment_replays_with_the_same_idempotency_key(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_break(id="brk_a")
    headers = {"Idempotency-Key": "note-1"}
    first = await post(api, "brk_a", "comment", {"text": "Chasing"}, headers=headers)
    again = await post(api, "brk_a", "comment", {"text": "Chasing"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len((await get_break(api, "brk_a"))["comments"]) == 1


async def test_an_empty_comment_is_422(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a")
    for text in ("", "   "):
        response = await post(api, "brk_a", "comment", {"text": text})
        assert response.status_code == 422, text


# Resolve as explained ----------------------------------------------------------------------


async def test_resolve_explained_ends_the_break(
    api: Api, seed_break: SeedBreak, db: Database
) -> None:
    await seed_break(id="brk_a")
    response = await post(
        api, "brk_a", "resolve", {"resolution": "explained", "note": "Bank fee, refunded"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("status", "resolution", "resolution_note", "version")} == {
        "status": "explained",
        "resolution": "explained",
        "resolution_note": "Bank fee, refunded",
        "version": 2,
    }
    assert (body["resolved_at"], body["resolved_by"]) == (
        "2026-11-25T15:00:00Z",
        await ops_key_id(api),
    )
    assert await audit_actions(db, "reconciliation_break") == [("brk_a", "explained")]
    again = await post(api, "brk_a", "resolve", {"resolution": "explained", "note": "again"})
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "'explained' is not allowed when the status is 'explained'"


async def test_resolve_and_comment_honour_if_match(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a", version=3)
    stale = {"If-Match": '"2"'}
    explained = {"resolution": "explained", "note": "x"}
    assert (await post(api, "brk_a", "resolve", explained, headers=stale)).status_code == 412
    assert (await post(api, "brk_a", "comment", {"text": "x"}, headers=stale)).status_code == 412
    done = await post(api, "brk_a", "resolve", explained, headers={"If-Match": '"3"'})
    assert (done.status_code, done.json()["status"], done.json()["version"]) == (
        200,
        "explained",
        4,
    )


async def test_a_closed_break_cannot_be_resolved(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a", status="closed")
    for resolution in ("explained", "write_off"):
        response = await post(api, "brk_a", "resolve", {"resolution": resolution, "note": "x"})
        assert response.status_code == 409, response.text


async def test_bad_resolutions_are_422(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a")
    for body in (
        {"resolution": "ignored", "note": "x"},
        {"resolution": "explained", "note": ""},
        {"resolution": "explained"},
    ):
        response = await post(api, "brk_a", "resolve", body)
        assert response.status_code == 422, body


# Write off under four-eyes -----------------------------------------------------------------


async def propose_write_off(api: Api, break_id: str) -> dict[str, Any]:
    response = await post(
        api, break_id, "resolve", {"resolution": "write_off", "note": "Unrecoverable"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def adjustment_lines(api: Api, adjustment_id: str) -> list[tuple[str, str, str]]:
    response = await api.get(f"/adjustments/{adjustment_id}", role="operations")
    assert response.status_code == 200, response.text
    return [(x["account"], x["asset"], x["amount"]) for x in response.json()["lines"]]


async def test_write_off_proposes_an_adjustment_then_approval_writes_the_break_off(
    api: Api, seed_break: SeedBreak, ops2: SecondKey
) -> None:
    await seed_break(id="brk_a", value_date=date(2026, 11, 24))
    proposed = await propose_write_off(api, "brk_a")

    adjustment_id = proposed["adjustment_id"]
    assert (proposed["status"], proposed["adjustment_status"]) == ("write_off_proposed", "proposed")
    assert (proposed["resolution"], proposed["resolution_note"]) == (None, "Unrecoverable")
    assert await adjustment_lines(api, adjustment_id) == [
        ("CASH-USD", "USD", "125.40"),
        ("write-offs", "USD", "-125.40"),
    ]
    approved = await api.post(f"/adjustments/{adjustment_id}/approve", headers=ops2.headers)
    assert approved.status_code == 200, approved.text
    entry_id = approved.json()["entry_id"]

    waiting = await get_break(api, "brk_a")  # reads never write: the status shows the decision
    assert (waiting["status"], waiting["adjustment_status"]) == ("write_off_proposed", "approved")
    await post(api, "brk_a", "comment", {"text": "Approved"})  # any action refreshes
    done = await get_break(api, "brk_a")
    assert {k: done[k] for k in ("status", "resolution", "closed_by", "resolved_by")} == {
        "status": "written_off",
        "resolution": "write_off",
        "closed_by": entry_id,
        "resolved_by": ops2.id,
    }
    entry = await api.get(f"/journal-entries/{entry_id}", role="operations")
    assert entry.status_code == 200, entry.text
    assert entry.json()["value_date"] == "2026-11-24"
    postings = [(p["ledger_account"], p["asset"], p["amount"]) for p in entry.json()["postings"]]
    assert sorted(postings) == [
        ("cash:CASH-USD", "USD", "125.40"),
        ("write-offs", "USD", "-125.40"),
    ]


async def test_a_rejected_write_off_opens_the_break_again_with_a_comment(
    api: Api, seed_break: SeedBreak, ops2: SecondKey, db: Database
) -> None:
    await seed_break(id="brk_a")
    adjustment_id = (await propose_write_off(api, "brk_a"))["adjustment_id"]
    rejected = await api.post(
        f"/adjustments/{adjustment_id}/reject",
        json={"reason": "Chase the bank"},
        headers=ops2.headers,
    )
    assert rejected.status_code == 200, rejected.text

    actor = Actor(key_id="recon-run", role=Role.OPERATIONS, name="run")
    async with db.sessionmaker() as session, UnitOfWork(session):
        moved = await service.refresh_write_offs(
            session, account="CASH-USD", actor=actor, now=DEFAULT_NOW
        )
    assert moved == 1
    body = await get_break(api, "brk_a")
    assert (body["status"], body["adjustment_id"], body["resolution_note"]) == ("open", None, None)
    assert [(c["created_by"], c["text"]) for c in body["comments"]] == [
        (
            "system",
            f"Write-off adjustment {adjustment_id} was rejected by {ops2.id}: Chase the bank. "
            "The break is open again.",
        )
    ]
    assert [a for _, a in await audit_actions(db, "reconciliation_break")] == [
        "write_off_proposed",
        "write_off_rejected",
        "commented",
    ]


async def test_a_break_missing_at_bank_is_written_off_the_other_way(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_break(id="brk_a", kind="missing_at_bank", amount=Decimal("-80.00"))
    proposed = await propose_write_off(api, "brk_a")
    assert await adjustment_lines(api, proposed["adjustment_id"]) == [
        ("CASH-USD", "USD", "80.00"),
        ("write-offs", "USD", "-80.00"),
    ]


async def test_a_holdings_break_writes_securities_off(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(
        id="brk_a",
        kind="holdings",
        account="SEC-DTC",
        currency=None,
        isin=JPM,
        amount=Decimal("-100"),
    )
    proposed = await propose_write_off(api, "brk_a")
    assert await adjustment_lines(api, proposed["adjustment_id"]) == [
        ("SEC-DTC", JPM, "-100"),
        ("write-offs", JPM, "100"),
    ]


async def test_value_date_and_integrity_breaks_cannot_be_written_off(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_break(id="brk_vd", kind="value_date_difference")
    await seed_break(id="brk_int", kind="integrity")
    for break_id, kind in (("brk_vd", "value_date_difference"), ("brk_int", "integrity")):
        response = await post(api, break_id, "resolve", {"resolution": "write_off", "note": "x"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith(f"A {kind} break cannot be written off: ")
        assert (await get_break(api, break_id))["status"] == "open"
    listed = await api.get("/adjustments", role="operations")
    assert listed.json()["items"] == []


async def test_a_proposed_write_off_cannot_be_proposed_again(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_break(id="brk_a")
    await propose_write_off(api, "brk_a")
    again = await post(api, "brk_a", "resolve", {"resolution": "write_off", "note": "again"})
    assert again.status_code == 409, again.text


# Who may ----------------------------------------------------------------------------------


async def test_only_operations_work_breaks(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_a")
    bodies = {
        "assign": {"owner": "ana"},
        "comment": {"text": "x"},
        "resolve": {"resolution": "explained", "note": "x"},
    }
    for action, body in bodies.items():
        for role in ("trader", "compliance", "gateway"):
            assert (await post(api, "brk_a", action, body, role=role)).status_code == 403
        assert (await post(api, "brk_a", action, body, role=None)).status_code == 401
        missing = await post(api, "brk_nope", action, body)
        assert missing.status_code == 404, action
    assert (await get_break(api, "brk_a"))["version"] == 1
