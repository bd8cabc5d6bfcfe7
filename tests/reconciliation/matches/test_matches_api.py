"""Matches over HTTP: by hand (closing the breaks it explains), undone (the items free for the
next run, which finds the break again), read; every refusal."""

from decimal import Decimal

from tests.conftest import Database
from tests.reconciliation.conftest import audit_actions
from tests.reconciliation.runs.support import (
    DAY,
    OPS,
    entry,
    matched_items,
    pay,
    reconcile,
    send_statement,
    stored_breaks,
)
from tests.support import Api, SecondKey, problem_fields

MATCHES = "/matches"


async def unexplained(api: Api, ops2: SecondKey) -> tuple[str, str]:
    """A statement line of 99.98 and a book movement of 100.00 with no reference in common:
    two breaks. Returns (line id, journal entry id)."""
    _, entry_id = await pay(api, ops2, "100.00")
    [statement] = await send_statement(api, "S-9", entry("99.98", remittance_information="?"))
    response = await api.get(f"/statements/{statement['id']}", role=OPS)
    [line] = response.json()["entries"]
    return line["id"], entry_id


async def test_a_manual_match_records_the_difference_and_closes_the_breaks(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    line_id, entry_id = await unexplained(api, ops2)
    await reconcile(api)
    assert {row.kind for row in await stored_breaks(db)} == {"missing_in_book", "missing_at_bank"}

    response = await api.post(
        MATCHES,
        json={"statement_entry_ids": [line_id], "movement_ids": [entry_id], "comment": "fee"},
        role=OPS,
    )

    assert response.status_code == 201, response.text
    match = response.json()
    assert response.headers["Location"] == f"/api/v1/matches/{match['id']}"
    assert (match["rule"], match["status"], match["account"], match["value_date"]) == (
        "manual",
        "active",
        "CASH-EUR",
        DAY,
    )
    assert (match["amount_difference"], match["value_date_difference"], match["comment"]) == (
        "-0.02",
        0,
        "fee",
    )
    closed = await stored_breaks(db)
    assert {(row.status, row.resolution, row.closed_by) for row in closed} == {
        ("closed", "matched", match["id"])
    }
    assert await matched_items(db) == sorted(
        [("line", line_id, match["id"]), ("movement", entry_id, match["id"])]
    )
    again = await api.post(
        MATCHES, json={"statement_entry_ids": [line_id], "movement_ids": [entry_id]}, role=OPS
    )
    assert again.status_code == 409, again.text
    assert match["id"] in again.json()["detail"]
    assert again.json()["matches"] == [match["id"]]
    rerun = await reconcile(api)
    assert (rerun["matched"], rerun["breaks_opened"]) == (0, 0)


async def test_unmatch_frees_the_items_and_the_next_run_reopens_the_breaks(
    api: Api, ops2: SecondKey, db: Database, reference: None
) -> None:
    line_id, entry_id = await unexplained(api, ops2)
    await reconcile(api)
    created = await api.post(
        MATCHES, json={"statement_entry_ids": [line_id], "movement_ids": [entry_id]}, role=OPS
    )
    match_id = created.json()["id"]
    stale = await api.post(
        f"{MATCHES}/{match_id}/unmatch",
        json={"reason": "wrong"},
        headers={"If-Match": '"7"'},
        role=OPS,
    )
    assert stale.status_code == 412, stale.text

    response = await api.post(
        f"{MATCHES}/{match_id}/unmatch",
        json={"reason": "not the same payment"},
        headers={"If-Match": '"1"'},
        role=OPS,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["unmatch_reason"], body["version"]) == (
        "unmatched",
        "not the same payment",
        2,
    )
    assert response.headers["ETag"] == '"2"'
    assert await matched_items(db) == []
    assert [a for _, a in await audit_actions(db, "reconciliation_match")] == [
        "matched",
        "unmatched",
    ]
    twice = await api.post(f"{MATCHES}/{match_id}/unmatch", json={"reason": "x"}, role=OPS)
    assert twice.status_code == 409
    rerun = await reconcile(api)
    assert rerun["report"]["breaks"]["reopened"] == {"missing_at_bank": 1, "missing_in_book": 1}
    assert {(row.status, row.amount) for row in await stored_breaks(db)} == {
        ("open", Decimal("99.98")),
        ("open", Decimal("100.00")),
    }


async def test_matches_are_listed_and_read_by_operations_compliance_and_gateways(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    line_id, entry_id = await unexplained(api, ops2)
    created = await api.post(
        MATCHES, json={"statement_entry_ids": [line_id], "movement_ids": [entry_id]}, role=OPS
    )
    match_id = created.json()["id"]
    for role in ("operations", "compliance", "gateway"):
        one = await api.get(f"{MATCHES}/{match_id}", role=role)
        assert (one.status_code, one.json()["id"], one.headers["ETag"]) == (200, match_id, '"1"')
        listed = await api.get(
            MATCHES, params={"account": "CASH-EUR", "date": DAY, "status": "active"}, role=role
        )
        assert [item["id"] for item in listed.json()["items"]] == [match_id]
    none = await api.get(MATCHES, params={"status": "unmatched"}, role=OPS)
    assert none.json()["items"] == []
    assert (await api.get(f"{MATCHES}/mch_none", role=OPS)).status_code == 404
    assert (await api.get(MATCHES, role="trader")).status_code == 403
    assert (await api.get(MATCHES)).status_code == 401


async def test_what_a_manual_match_refuses(api: Api, ops2: SecondKey, reference: None) -> None:
    line_id, entry_id = await unexplained(api, ops2)
    _, usd_entry = await pay(api, ops2, "10.00", account="CASH-USD", currency="USD")
    body = {"statement_entry_ids": [line_id], "movement_ids": [entry_id]}
    assert (await api.post(MATCHES, json=body)).status_code == 401
    for role in ("trader", "compliance", "gateway"):
        assert (await api.post(MATCHES, json=body, role=role)).status_code == 403
    refused = {
        "empty side": {"statement_entry_ids": [line_id], "movement_ids": []},
        "unknown line": {"statement_entry_ids": ["ste_nope"], "movement_ids": [entry_id]},
        "unknown movement": {"statement_entry_ids": [line_id], "movement_ids": ["je_nope"]},
        "other account": {"statement_entry_ids": [line_id], "movement_ids": [usd_entry]},
        "extra field": {**body, "rule": "x"},
    }
    for why, payload in refused.items():
        response = await api.post(MATCHES, json=payload, role=OPS)
        assert response.status_code == 422, (why, response.text)
    unknown = await api.post(
        MATCHES, json={"statement_entry_ids": ["ste_nope"], "movement_ids": [entry_id]}, role=OPS
    )
    assert "ste_nope" in unknown.json()["detail"]
    assert (
        await api.post(f"{MATCHES}/mch_none/unmatch", json={"reason": "x"}, role=OPS)
    ).status_code == 404
    assert (await api.post(f"{MATCHES}/mch_none/unmatch", json={}, role=OPS)).status_code == 422


async def test_the_list_refuses_an_unknown_status_or_an_empty_account(api: Api) -> None:
    for params, field in [({"status": "undone"}, "status"), ({"account": ""}, "account")]:
        response = await api.get(MATCHES, params=params, role=OPS)
        assert response.status_code == 422, (params, response.text)
        assert problem_fields(response) == {field}, (params, response.text)
