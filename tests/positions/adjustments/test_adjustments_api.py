"""POST /adjustments and its four-eyes decision over HTTP: the preview, idempotent replays,
approval by another key (and only then a journal entry), rejection, and every refusal."""

from typing import Any

import httpx

from tests.factories import BUND, JPM, trade_payload
from tests.positions.conftest import cash_balances, line, positions
from tests.support import Api, SecondKey, problem_fields

TYPE_BASE = "https://settlement.example/problems/"


def opening(*lines: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"kind": "opening", "reason": "Opening balances", "lines": list(lines), **overrides}


def posting(
    account: str, asset: str, amount: str, cost: str | None = None, pnl: str | None = None
) -> dict[str, Any]:
    return {
        "ledger_account": account,
        "asset": asset,
        "amount": amount,
        "cost": cost,
        "realized_pnl": pnl,
    }


async def propose(api: Api, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return await api.post("/adjustments", json=body, role="operations", **kwargs)


async def proposed(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await propose(api, body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def approve(api: Api, adjustment_id: str, **kwargs: Any) -> httpx.Response:
    return await api.post(f"/adjustments/{adjustment_id}/approve", **kwargs)


async def reject(api: Api, adjustment_id: str, reason: str, **kwargs: Any) -> httpx.Response:
    return await api.post(f"/adjustments/{adjustment_id}/reject", json={"reason": reason}, **kwargs)


async def adjustment(api: Api, adjustment_id: str) -> dict[str, Any]:
    response = await api.get(f"/adjustments/{adjustment_id}", role="compliance")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def journal(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/journal-entries", role="operations")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# Propose ---------------------------------------------------------------------------------------


async def test_propose_answers_201_with_the_postings_approval_will_make(
    api: Api, reference: None
) -> None:
    body = opening(
        line("SEC-EB", BUND, "5000000"),
        line("CASH-EUR", "EUR", "25000000.00"),
        reason="Opening inventory migrated from the legacy stock record",
    )
    response = await propose(api, body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("adj_")
    assert response.headers["location"] == f"/api/v1/adjustments/{created['id']}"
    assert created == {
        "id": created["id"],
        "kind": "opening",
        "status": "proposed",
        "reason": "Opening inventory migrated from the legacy stock record",
        "value_date": "2026-11-25",
        "lines": [
            {"account": "SEC-EB", "asset": BUND, "amount": "5000000", "cost": None},
            {"account": "CASH-EUR", "asset": "EUR", "amount": "25000000.00", "cost": None},
        ],
        # Our accounts become ledger codes; each asset is offset against opening-equity.
        "postings": [
            posting("securities:SEC-EB", BUND, "5000000"),
            posting("cash:CASH-EUR", "EUR", "25000000.00"),
            posting("opening-equity", BUND, "-5000000"),
            posting("opening-equity", "EUR", "-25000000.00"),
        ],
        "proposed_by": created["proposed_by"],
        "proposed_at": "2026-11-25T15:00:00Z",
        "decided_by": None,
        "decided_at": None,
        "rejection_reason": None,
        "entry_id": None,
        "version": 1,
    }
    assert created["proposed_by"].startswith("key_")
    assert "idempotent-replayed" not in response.headers
    assert await adjustment(api, created["id"]) == created
    # Nothing is posted before approval.
    assert await journal(api) == []
    assert await cash_balances(api) == []


async def test_propose_with_an_idempotency_key_replays_the_first_answer(
    api: Api, reference: None
) -> None:
    body = opening(line("CASH-USD", "USD", "1000000.00"))
    headers = {"Idempotency-Key": "opening-usd-1"}
    first = await propose(api, body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers

    again = await propose(api, body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]

    other = await propose(api, opening(line("CASH-USD", "USD", "2000000.00")), headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["type"] == TYPE_BASE + "idempotency-key-reused"

    listed = await api.get("/adjustments", role="operations")
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]


# Approve and reject ----------------------------------------------------------------------------


async def test_approval_by_a_second_key_posts_the_entry(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    created = await proposed(
        api, opening(line("CASH-USD", "USD", "1000000.00"), reason="Opening cash at JPMorgan")
    )
    response = await approve(api, created["id"], headers=ops2.headers)

    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["status"] == "approved"
    assert (approved["decided_by"], approved["decided_at"]) == (ops2.id, "2026-11-25T15:00:00Z")
    assert approved["version"] == 2
    assert approved["entry_id"].startswith("je_")
    assert approved["postings"] == created["postings"]
    assert await adjustment(api, created["id"]) == approved

    entry = await api.get(f"/journal-entries/{approved['entry_id']}", role="compliance")
    assert entry.status_code == 200, entry.text
    assert entry.json() == {
        "id": approved["entry_id"],
        "kind": "adjustment",
        "accounting_date": "2026-11-25",
        "value_date": "2026-11-25",
        "effective_at": None,
        "description": "Opening: Opening cash at JPMorgan",
        "source_type": "adjustment",
        "source_id": created["id"],
        "reverses_id": None,
        "reversed_by": None,
        "pending_id": None,
        "created_at": "2026-11-25T15:00:00Z",
        "created_by": ops2.id,
        "postings": [
            posting("cash:CASH-USD", "USD", "1000000.00"),
            posting("opening-equity", "USD", "-1000000.00"),
        ],
    }
    [cash] = await cash_balances(api)
    assert (cash["account"], cash["settled"]) == ("CASH-USD", "1000000.00")


async def test_a_past_value_date_counts_from_that_day_but_was_not_known_then(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    created = await proposed(
        api, opening(line("CASH-USD", "USD", "10.00"), value_date="2026-11-20")
    )
    assert created["value_date"] == "2026-11-20"
    response = await approve(api, created["id"], headers=ops2.headers)
    assert response.status_code == 200, response.text
    entry = await api.get(f"/journal-entries/{response.json()['entry_id']}", role="operations")
    assert (entry.json()["value_date"], entry.json()["accounting_date"]) == (
        "2026-11-20",
        "2026-11-25",
    )
    [effective] = await cash_balances(api, as_of="2026-11-20")
    assert (effective["settled"], effective["as_of"]) == ("10.00", "2026-11-20")
    assert await cash_balances(api, as_of="2026-11-19") == []
    assert await cash_balances(api, as_of="2026-11-24", known_at="2026-11-24T23:00:00Z") == []


async def test_the_proposer_may_neither_approve_nor_reject(api: Api, reference: None) -> None:
    created = await proposed(api, opening(line("CASH-USD", "USD", "1000000.00")))

    own_approval = await approve(api, created["id"], role="operations")
    assert own_approval.status_code == 403, own_approval.text
    assert own_approval.json()["type"] == TYPE_BASE + "forbidden"
    own_rejection = await reject(api, created["id"], "Changed my mind", role="operations")
    assert own_rejection.status_code == 403, own_rejection.text

    assert await adjustment(api, created["id"]) == created
    assert await journal(api) == []
    assert await cash_balances(api) == []


async def test_a_rejected_adjustment_cannot_be_approved(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    created = await proposed(api, opening(line("CASH-USD", "USD", "1000000.00")))
    response = await reject(api, created["id"], "Wrong account", headers=ops2.headers)

    assert response.status_code == 200, response.text
    rejected = response.json()
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected", "Wrong account")
    assert (rejected["decided_by"], rejected["entry_id"], rejected["version"]) == (
        ops2.id,
        None,
        2,
    )

    late = await approve(api, created["id"], headers=ops2.headers)
    assert late.status_code == 409, late.text
    assert late.json()["type"] == TYPE_BASE + "invalid-transition"
    assert await adjustment(api, created["id"]) == rejected
    assert await journal(api) == []


async def test_an_approved_adjustment_is_posted_once(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    created = await proposed(api, opening(line("CASH-USD", "USD", "1000000.00")))
    assert (await approve(api, created["id"], headers=ops2.headers)).status_code == 200

    again = await approve(api, created["id"], headers=ops2.headers)
    assert again.status_code == 409, again.text
    late_rejection = await reject(api, created["id"], "Too late", headers=ops2.headers)
    assert late_rejection.status_code == 409, late_rejection.text
    assert len(await journal(api)) == 1
    [cash] = await cash_balances(api)
    assert cash["settled"] == "1000000.00"


async def test_an_unknown_adjustment_is_404(api: Api, ops2: SecondKey, reference: None) -> None:
    unknown = "adj_01m898az7rgww7p9vrfzyg81ba"
    for response in (
        await approve(api, unknown, headers=ops2.headers),
        await reject(api, unknown, "No such thing", headers=ops2.headers),
        await api.get(f"/adjustments/{unknown}", role="operations"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["type"] == TYPE_BASE + "not-found"


async def test_a_rejection_needs_a_reason(api: Api, ops2: SecondKey, reference: None) -> None:
    created = await proposed(api, opening(line("CASH-USD", "USD", "1000000.00")))
    response = await api.post(
        f"/adjustments/{created['id']}/reject", json={"reason": ""}, headers=ops2.headers
    )
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"reason"}
    assert (await adjustment(api, created["id"]))["status"] == "proposed"


# Validation ------------------------------------------------------------------------------------


def correction(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "correction", "reason": "Stock record break", "lines": list(lines)}


# (what is wrong, the body, the field the problem names)
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("unknown account", opening(line("CASH-GBP", "GBP", "10.00")), "lines[0].account"),
    ("unknown book", opening(line("book:NOPE", "USD", "10.00")), "lines[0].account"),
    ("wrong kind", opening(line("securities:CASH-USD", JPM, "100")), "lines[0].account"),
    ("ISIN on cash", opening(line("CASH-USD", JPM, "100")), "lines[0].asset"),
    ("cash on securities", opening(line("SEC-DTC", "USD", "100.00")), "lines[0].asset"),
    ("EUR on CASH-USD", opening(line("CASH-USD", "EUR", "100.00")), "lines[0].asset"),
    ("unknown ISIN", opening(line("SEC-DTC", "US0378331005", "100")), "lines[0].asset"),
    ("no such currency", opening(line("suspense", "XXY", "1.00")), "lines[0].asset"),
    (
        "second line",
        opening(line("CASH-USD", "USD", "10.00"), line("SEC-DTC", "USD", "1.00")),
        "lines[1].asset",
    ),
    ("zero", opening(line("CASH-USD", "USD", "0.00")), "lines[0].amount"),
    ("cents of a cent", opening(line("CASH-USD", "USD", "100.001")), "lines[0].amount"),
    (
        "JSON float",
        opening({"account": "CASH-USD", "asset": "USD", "amount": 100.5}),
        "lines[0].amount",
    ),
    (
        "too large",
        opening({"account": "CASH-USD", "asset": "USD", "amount": "1e400"}),
        "lines[0].amount",
    ),
    (
        "unbalanced correction",
        correction(line("SEC-DTC", JPM, "100"), line("suspense", JPM, "-90")),
        "lines",
    ),
    (
        "unbalanced write-off",
        {"kind": "write_off", "reason": "Charge", "lines": [line("CASH-USD", "USD", "-12.34")]},
        "lines",
    ),
    ("book line without cost", opening(line("book:EQ-FLOW", JPM, "-100")), "lines[0].cost"),
    ("half a share", opening(line("SEC-DTC", JPM, "0.5")), "lines[0].amount"),
    (
        "a long that cost less than nothing",
        opening(line("book:EQ-FLOW", JPM, "-100", cost="-18925.00")),
        "lines[0].cost",
    ),
    (
        "a short that cost something",
        opening(line("book:EQ-FLOW", JPM, "100", cost="18925.00")),
        "lines[0].cost",
    ),
    (
        "cost off the book",
        opening(line("SEC-DTC", JPM, "100", cost="18925.00")),
        "lines[0].cost",
    ),
    (
        "cost on book cash",
        opening(line("book:EQ-FLOW", "USD", "100.00", cost="100.00")),
        "lines[0].cost",
    ),
    (
        "cost in cents of a cent",
        opening(line("book:EQ-FLOW", JPM, "-100", cost="18925.001")),
        "lines[0].cost",
    ),
    (
        "future value date",
        opening(line("CASH-USD", "USD", "10.00"), value_date="2026-11-26"),
        "value_date",
    ),
    ("no lines", opening(), "lines"),
    ("no reason", opening(line("CASH-USD", "USD", "10.00"), reason=""), "reason"),
    ("unknown kind", opening(line("CASH-USD", "USD", "10.00"), kind="gift"), "kind"),
    (
        "unknown field",
        opening({**line("CASH-USD", "USD", "10.00"), "book": "EQ-FLOW"}),
        "lines[0].book",
    ),
]


async def test_an_invalid_adjustment_is_422_naming_the_field_and_nothing_is_stored(
    api: Api, reference: None
) -> None:
    # One database for all the cases: validation happens before anything is written.
    for case, body, field in INVALID:
        response = await propose(api, body)
        assert response.status_code == 422, (case, response.text)
        assert problem_fields(response) == {field}, (case, response.text)
    listed = await api.get("/adjustments", role="operations")
    assert listed.json()["items"] == []


async def _post_opening_usd(api: Api, ops2: SecondKey) -> None:
    created = await proposed(api, opening(line("CASH-USD", "USD", "1000.00")))
    assert (await approve(api, created["id"], headers=ops2.headers)).status_code == 200


async def test_a_write_off_that_balances_is_accepted_and_posted_as_proposed(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    await _post_opening_usd(api, ops2)
    created = await proposed(
        api,
        {
            "kind": "write_off",
            "reason": "Unrecoverable bank charge",
            "lines": [line("CASH-USD", "USD", "-12.34"), line("write-offs", "USD", "12.34")],
        },
    )
    assert created["postings"] == [
        posting("cash:CASH-USD", "USD", "-12.34"),
        posting("write-offs", "USD", "12.34"),
    ]
    response = await approve(api, created["id"], headers=ops2.headers)
    assert response.status_code == 200, response.text
    # 1000.00 - 12.34 = 987.66.
    [cash] = await cash_balances(api)
    assert (cash["settled"], cash["projected"]) == ("987.66", "987.66")


async def test_a_correction_that_balances_moves_securities_and_a_book_position(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    created = await proposed(
        api,
        correction(
            line("SEC-DTC", JPM, "100"),
            line("book:EQ-FLOW", JPM, "-100", cost="18925.00"),
            line("suspense", JPM, "-100"),
            line("suspense", JPM, "100"),
        ),
    )
    assert created["postings"] == [
        posting("securities:SEC-DTC", JPM, "100"),
        posting("book:EQ-FLOW", JPM, "-100", cost="18925.00", pnl="0"),
        posting("suspense", JPM, "-100"),
        posting("suspense", JPM, "100"),
    ]
    response = await approve(api, created["id"], headers=ops2.headers)
    assert response.status_code == 200, response.text

    [book] = await positions(api)
    assert (book["book"], book["quantity"], book["average_cost"], book["cost"]) == (
        "EQ-FLOW",
        "100",
        "189.25000000",
        "18925.00",
    )
    [held] = await positions(api, basis="settlement_date")
    assert (held["account"], held["quantity"]) == ("SEC-DTC", "100")


async def test_an_opening_book_position_carries_its_cost_into_later_sells(
    api: Api, ops2: SecondKey, reference: None
) -> None:
    created = await proposed(
        api, opening(line("book:EQ-FLOW", JPM, "-100", cost="18925.00"), reason="Legacy book")
    )
    assert created["postings"] == [
        posting("book:EQ-FLOW", JPM, "-100", cost="18925.00", pnl="0"),
        posting("opening-equity", JPM, "100"),
    ]
    assert (await approve(api, created["id"], headers=ops2.headers)).status_code == 200
    sold = await api.post(
        "/trades", json=trade_payload(side="sell", quantity="40", price="190.00"), role="trader"
    )
    assert sold.status_code == 201, sold.text
    # 40 x 190.00 = 7600.00 against 18925.00 x 40 / 100 = 7570.00: realised 30.00.
    [position] = await positions(api)
    assert (
        position["quantity"],
        position["average_cost"],
        position["cost"],
        position["realized_pnl"],
    ) == ("60", "189.25000000", "11355.00", "30.00")


# Listing ---------------------------------------------------------------------------------------


async def test_adjustments_list_by_status(api: Api, ops2: SecondKey, reference: None) -> None:
    first = await proposed(api, opening(line("CASH-USD", "USD", "1.00")))
    second = await proposed(api, opening(line("CASH-USD", "USD", "2.00")))
    third = await proposed(api, opening(line("CASH-USD", "USD", "3.00")))
    assert (await approve(api, first["id"], headers=ops2.headers)).status_code == 200
    assert (await reject(api, second["id"], "Duplicate", headers=ops2.headers)).status_code == 200

    async def listed(**params: str) -> list[str]:
        response = await api.get("/adjustments", params=params, role="compliance")
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await listed(status="proposed") == [third["id"]]
    assert await listed(status="approved") == [first["id"]]
    assert await listed(status="rejected") == [second["id"]]
    assert await listed() == [first["id"], second["id"], third["id"]]

    page = await api.get("/adjustments", params={"limit": 2}, role="operations")
    assert [item["id"] for item in page.json()["items"]] == [first["id"], second["id"]]
    rest = await api.get(
        "/adjustments", params={"limit": 2, "cursor": page.json()["next_cursor"]}, role="trader"
    )
    assert [item["id"] for item in rest.json()["items"]] == [third["id"]]
    assert rest.json()["next_cursor"] is None

    bad = await api.get("/adjustments", params={"status": "pending"}, role="operations")
    assert bad.status_code == 422, bad.text
    assert problem_fields(bad) == {"status"}


# Who may ---------------------------------------------------------------------------------------


async def test_only_operations_propose_and_decide(api: Api, reference: None) -> None:
    body = opening(line("CASH-USD", "USD", "1000000.00"))
    created = await proposed(api, body)
    for role in ("trader", "gateway", "compliance", "admin"):
        refused = await api.post("/adjustments", json=body, role=role)
        assert refused.status_code == 403, (role, refused.text)
        assert (await approve(api, created["id"], role=role)).status_code == 403, role
        assert (await reject(api, created["id"], "No", role=role)).status_code == 403, role
    assert (await adjustment(api, created["id"]))["status"] == "proposed"
    listed = await api.get("/adjustments", role="operations")
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert await journal(api) == []


async def test_adjustments_without_a_key_are_401(api: Api, reference: None) -> None:
    created = await proposed(api, opening(line("CASH-USD", "USD", "1000000.00")))
    for response in (
        await api.post("/adjustments", json=opening(line("CASH-USD", "USD", "1.00"))),
        await approve(api, created["id"]),
        await api.get("/adjustments"),
    ):
        assert response.status_code == 401, response.text
    assert (await api.get("/adjustments", role="admin")).status_code == 403
