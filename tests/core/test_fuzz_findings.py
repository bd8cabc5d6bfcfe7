"""What schemathesis found (issue 17), each fixed and proven here directly."""

from typing import Any

import pytest

from app.core.versioning import IF_MATCH_PATTERN
from tests.support import Api

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/trades", {"settlement_date": "0"}),
        ("/trades", {"trade_date": "20261124"}),
        ("/clearing-runs", {"settlement_date": "0"}),
        ("/positions", {"as_of": "0"}),
        ("/positions", {"known_at": "0.5"}),
        ("/journal-entries", {"booked_to": "1700000000"}),
    ],
)
async def test_a_number_is_no_date_in_a_query(api: Api, path: str, query: dict[str, str]) -> None:
    response = await api.get(path, params=query, role="operations")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    ((name, value),) = query.items()
    assert response.json()["errors"] == [
        {"field": name, "message": f"'{value}' is not {_EXAMPLES[path, name]}"}
    ]


_EXAMPLES = {
    ("/trades", "settlement_date"): "a date such as 2026-11-24",
    ("/trades", "trade_date"): "a date such as 2026-11-24",
    ("/clearing-runs", "settlement_date"): "a date such as 2026-11-24",
    ("/positions", "as_of"): "a date such as 2026-11-24",
    ("/positions", "known_at"): "a date and time such as 2026-11-24T15:00:00Z",
    ("/journal-entries", "booked_to"): "a date and time such as 2026-11-24T15:00:00Z",
}


async def test_iso_dates_in_a_query_still_filter(api: Api) -> None:
    response = await api.get("/trades", params={"settlement_date": "2026-11-26"}, role="operations")
    assert response.status_code == 200, response.text
    positions = await api.get(
        "/positions", params={"known_at": "2026-11-25T14:00:00Z"}, role="operations"
    )
    assert positions.status_code == 200, positions.text


async def test_a_wrong_method_names_every_method_of_the_path(api: Api) -> None:
    # GET and POST /accounts are two routes; Starlette named only the first one's method.
    response = await api.request("OPTIONS", "/accounts", role="operations")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    item = await api.request("OPTIONS", "/accounts/CASH-USD", role="operations")
    assert item.headers["allow"] == "GET, PATCH"


async def _document(api: Api) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_every_api_operation_documents_the_shared_refusals(api: Api) -> None:
    document = await _document(api)
    missing = []
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            expected = {"400", "401", "403", "422"}
            if "requestBody" in operation:
                expected |= {"408", "413", "415"}
            if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
                expected |= {"412", "428"}
            absent = expected - set(operation["responses"])
            if absent:
                missing.append((method, path, sorted(absent)))
    assert missing == []


async def test_if_match_is_a_version_and_required_where_the_route_requires_it(api: Api) -> None:
    document = await _document(api)
    patch = document["paths"]["/api/v1/trades/{trade_id}"]["patch"]
    (if_match,) = [p for p in patch["parameters"] if p["name"] == "If-Match"]
    assert if_match["required"] is True
    assert if_match["schema"] == {"type": "string", "pattern": IF_MATCH_PATTERN}
    response = await api.request(
        "PATCH", "/trades/trd_x", json={}, headers={"If-Match": "abc"}, role="trader"
    )
    assert response.status_code == 428


async def test_a_nul_in_an_adjustment_account_is_a_422_not_a_database_error(api: Api) -> None:
    # PostgreSQL refuses NUL in text: the lookup failed with a 500 before the pattern.
    body = {
        "kind": "correction",
        "reason": "Fuzzed",
        "lines": [
            {"account": "CASH\x00EUR", "asset": "EUR", "amount": "1"},
            {"account": "suspense", "asset": "EUR", "amount": "-1"},
        ],
    }
    response = await api.post("/adjustments", json=body, role="operations")
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["lines[0].account"]
