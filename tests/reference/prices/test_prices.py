"""/prices (closing prices)."""

import base64
import json
from typing import Any

import pytest

from tests.reference.factories import (
    APPLE,
    BAD_ISIN,
    BUND,
    JPM,
    TOTAL,
    price_payload,
)
from tests.support import Api, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"

DEMO_PRICES_2026_11_24 = {
    "DE0001102614": "72.45",
    "DE0007164600": "212.35",
    "DE0007236101": "238.90",
    "DE0008404005": "371.20",
    "FR0000120271": "57.42",
    "FR0000121014": "618.70",
    "FR0000131104": "79.86",
    "FR001400WYO4": "95.10",
    "US1912161007": "71.85",
    "US30231G1022": "118.60",
    "US4592001014": "298.10",
    "US46625H1005": "312.40",
    "US4781601046": "204.30",
    "US92826C8394": "346.25",
}


def cursor_after(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode().rstrip("=")


async def test_create_price_answers_201_with_the_row(api: Api, reference: None) -> None:
    response = await api.post("/prices", json=price_payload(isin=JPM.lower()), role=OPS)

    assert response.status_code == 201, response.text
    assert "location" not in response.headers
    assert response.json() == {
        "isin": JPM,
        "date": "2026-11-25",
        "price": "314.05",
        "created_at": CREATED_AT,
    }


@pytest.mark.parametrize(
    ("sent", "answered"), [(315, "315"), ("0.000001", "0.000001"), ("72.4500", "72.4500")]
)
async def test_price_keeps_the_exact_decimal(
    api: Api, reference: None, sent: Any, answered: str
) -> None:
    response = await api.post("/prices", json=price_payload(price=sent), role=OPS)

    assert response.status_code == 201
    assert response.json()["price"] == answered
    listed = await api.get("/prices", params={"isin": JPM, "date": "2026-11-25"}, role=OPS)
    assert listed.json()["items"][0]["price"] == answered


async def test_second_price_for_the_same_isin_and_date_is_409(api: Api, reference: None) -> None:
    response = await api.post(
        "/prices", json=price_payload(date="2026-11-24", price="1.00"), role=OPS
    )

    assert response.status_code == 409
    assert response.json()["detail"] == f"The price '{JPM}/2026-11-24' already exists."


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"price": "0"}, "price", id="zero"),
        pytest.param({"price": "-312.40"}, "price", id="negative"),
        pytest.param({"price": 312.4}, "price", id="json-float"),
        pytest.param({"price": "312,40"}, "price", id="comma"),
        pytest.param({"price": "NaN"}, "price", id="nan"),
        pytest.param({"price": "Infinity"}, "price", id="infinity"),
        pytest.param({"price": None}, "price", id="null"),
        pytest.param({"isin": BAD_ISIN}, "isin", id="isin-check-digit"),
        pytest.param({"date": "2026-11-31"}, "date", id="bad-date"),
        pytest.param({"currency": "USD"}, "currency", id="extra-field"),
    ],
)
async def test_invalid_price_is_422_naming_the_field(
    api: Api, reference: None, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/prices", json=price_payload(**overrides), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}


async def test_price_for_an_unknown_instrument_is_422_naming_isin(
    api: Api, reference: None
) -> None:
    response = await api.post("/prices", json=price_payload(isin=APPLE), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"isin"}
    assert response.json()["detail"] == f"isin '{APPLE}' is not known."


async def test_prices_of_one_date_are_listed_by_isin(api: Api, reference: None) -> None:
    response = await api.get("/prices", params={"date": "2026-11-24"}, role="compliance")

    assert response.status_code == 200
    body = response.json()
    assert {p["isin"]: p["price"] for p in body["items"]} == DEMO_PRICES_2026_11_24
    assert [p["isin"] for p in body["items"]] == sorted(DEMO_PRICES_2026_11_24)
    assert {p["date"] for p in body["items"]} == {"2026-11-24"}
    assert body["next_cursor"] is None


async def test_prices_of_one_date_page_by_isin(api: Api, reference: None) -> None:
    first = (await api.get("/prices", params={"date": "2026-11-24", "limit": 10}, role=OPS)).json()
    second = (
        await api.get(
            "/prices",
            params={"date": "2026-11-24", "limit": 10, "cursor": first["next_cursor"]},
            role=OPS,
        )
    ).json()

    isins = sorted(DEMO_PRICES_2026_11_24)
    assert [p["isin"] for p in first["items"]] == isins[:10]
    assert [p["isin"] for p in second["items"]] == isins[10:]
    assert second["next_cursor"] is None


async def test_prices_of_one_isin_are_listed_and_paged_by_date(api: Api, reference: None) -> None:
    for day, price in (("2026-11-26", "316.00"), ("2026-11-25", "314.05")):
        await api.post("/prices", json=price_payload(date=day, price=price), role=OPS)

    everything = (await api.get("/prices", params={"isin": JPM}, role=OPS)).json()
    first = (await api.get("/prices", params={"isin": JPM, "limit": 2}, role=OPS)).json()
    second = (
        await api.get(
            "/prices", params={"isin": JPM, "limit": 2, "cursor": first["next_cursor"]}, role=OPS
        )
    ).json()

    assert [(p["date"], p["price"]) for p in everything["items"]] == [
        ("2026-11-24", "312.40"),
        ("2026-11-25", "314.05"),
        ("2026-11-26", "316.00"),
    ]
    assert [p["date"] for p in first["items"]] == ["2026-11-24", "2026-11-25"]
    assert [p["date"] for p in second["items"]] == ["2026-11-26"]
    assert second["next_cursor"] is None


async def test_prices_filtered_by_isin_and_date_answer_that_one_price(
    api: Api, reference: None
) -> None:
    response = await api.get("/prices", params={"isin": TOTAL, "date": "2026-11-24"}, role=OPS)

    assert response.status_code == 200
    assert [(p["isin"], p["price"]) for p in response.json()["items"]] == [(TOTAL, "57.42")]


@pytest.mark.parametrize(
    "params", [{"isin": BUND, "date": "2026-11-23"}, {"isin": APPLE}, {"date": "2026-11-25"}]
)
async def test_prices_with_no_match_are_an_empty_page(
    api: Api, reference: None, params: dict[str, str]
) -> None:
    response = await api.get("/prices", params=params, role=OPS)

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({}, "isin", id="neither-isin-nor-date"),
        pytest.param({"limit": 5}, "isin", id="only-paging"),
        pytest.param({"isin": BAD_ISIN}, "isin", id="isin-check-digit"),
        pytest.param({"date": "24/11/2026"}, "date", id="date-format"),
        pytest.param({"isin": JPM, "cursor": cursor_after("yesterday")}, "cursor", id="cursor"),
    ],
)
async def test_bad_price_query_is_422_naming_the_parameter(
    api: Api, reference: None, params: dict[str, Any], field: str
) -> None:
    response = await api.get("/prices", params=params, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}
