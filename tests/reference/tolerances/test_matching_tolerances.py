"""/matching-tolerances: how far a confirmation may differ from our trade, per currency.

The demo data holds USD (price 0.0001, net amount 0.05) and EUR (price 0.0001, net amount 0.05
or 0.1 bp); operations write, every business role reads, and the next confirmation uses what is
stored.
"""

from typing import Any

import pytest

from tests.factories import trade_payload
from tests.support import Api, FrozenClock, problem_fields
from tests.trades.confirmations.factories import confirmation_payload, reason

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
TYPE_BASE = "https://settlement.example/problems/"

USD = {
    "currency": "USD",
    "price_abs": "0.0001",
    "net_amount_abs": "0.05",
    "net_amount_bps": None,
    "version": 1,
    "created_at": CREATED_AT,
    "updated_at": CREATED_AT,
}
EUR = {**USD, "currency": "EUR", "net_amount_bps": "0.1"}


def jpy_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "currency": "JPY",
        "price_abs": "0.5",
        "net_amount_abs": "100",
        "net_amount_bps": "2",
        **overrides,
    }


def if_match(version: int | str) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


# Create, read, list --------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_body(api: Api, reference: None) -> None:
    response = await api.post("/matching-tolerances", json=jpy_payload(), role=OPS)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/matching-tolerances/JPY"
    assert response.json() == {
        "currency": "JPY",
        "price_abs": "0.5",
        "net_amount_abs": "100",
        "net_amount_bps": "2",
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


async def test_create_defaults_to_an_exact_match(api: Api, reference: None) -> None:
    response = await api.post("/matching-tolerances", json={"currency": "GBP"}, role=OPS)
    assert response.status_code == 201, response.text
    assert response.json() == {
        **USD,
        "currency": "GBP",
        "price_abs": "0",
        "net_amount_abs": None,
    }


async def test_get_answers_the_tolerance_with_its_etag(api: Api, reference: None) -> None:
    response = await api.get("/matching-tolerances/USD", role="trader")
    assert response.status_code == 200
    assert response.json() == USD
    assert response.headers["etag"] == '"1"'
    lower = await api.get("/matching-tolerances/eur", role="gateway")
    assert lower.json() == EUR


async def test_get_of_an_unknown_currency_is_404(api: Api, reference: None) -> None:
    response = await api.get("/matching-tolerances/GBP", role=OPS)
    assert response.status_code == 404
    assert response.json()["detail"] == "No matching tolerance 'GBP'."


async def test_list_answers_every_tolerance_by_currency(api: Api, reference: None) -> None:
    created = await api.post("/matching-tolerances", json=jpy_payload(), role=OPS)
    response = await api.get("/matching-tolerances", role="compliance")
    assert response.status_code == 200
    assert response.json() == {"items": [EUR, created.json(), USD], "next_cursor": None}

    first = (await api.get("/matching-tolerances?limit=2", role=OPS)).json()
    assert [t["currency"] for t in first["items"]] == ["EUR", "JPY"]
    rest = await api.get(f"/matching-tolerances?limit=2&cursor={first['next_cursor']}", role=OPS)
    assert rest.json() == {"items": [USD], "next_cursor": None}


# Update --------------------------------------------------------------------------------------


async def test_patch_with_if_match_bumps_the_version(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.advance(hours=1)
    response = await api.patch(
        "/matching-tolerances/USD",
        json={"net_amount_abs": "0.10", "net_amount_bps": "0.5"},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        **USD,
        "net_amount_abs": "0.10",
        "net_amount_bps": "0.5",
        "version": 2,
        "updated_at": "2026-11-25T16:00:00Z",
    }
    assert response.headers["etag"] == '"2"'
    assert (await api.get("/matching-tolerances/USD", role=OPS)).json() == response.json()


async def test_patch_may_empty_the_amount_allowances(api: Api, reference: None) -> None:
    response = await api.patch(
        "/matching-tolerances/EUR",
        json={"net_amount_abs": None, "net_amount_bps": None},
        headers=if_match(1),
        role=OPS,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["net_amount_abs"], response.json()["net_amount_bps"]) == (None, None)


async def test_patch_with_a_stale_version_is_412_and_without_one_428(
    api: Api, reference: None
) -> None:
    stale = await api.patch(
        "/matching-tolerances/USD", json={"price_abs": "0.01"}, headers=if_match(7), role=OPS
    )
    assert stale.status_code == 412
    assert stale.json()["type"] == TYPE_BASE + "precondition-failed"
    missing = await api.patch("/matching-tolerances/USD", json={"price_abs": "0.01"}, role=OPS)
    assert missing.status_code == 428
    assert (await api.get("/matching-tolerances/USD", role=OPS)).json() == USD


async def test_patch_of_an_unknown_currency_is_404(api: Api, reference: None) -> None:
    response = await api.patch(
        "/matching-tolerances/GBP", json={"price_abs": "0.01"}, headers=if_match(1), role=OPS
    )
    assert response.status_code == 404


# Refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_abs": "-0.0001"}, "price_abs"),
        ({"net_amount_abs": "-1"}, "net_amount_abs"),
        ({"net_amount_bps": "-0.1"}, "net_amount_bps"),
        ({"price_abs": 0.5}, "price_abs"),
        ({"price_abs": None}, "price_abs"),
        ({"net_amount_abs": "NaN"}, "net_amount_abs"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "XAU"}, "currency"),  # gold has no minor units
        ({"tolerance": "1"}, "tolerance"),
    ],
)
async def test_create_refuses_bad_values_naming_the_field(
    api: Api, reference: None, changes: dict[str, Any], field: str
) -> None:
    response = await api.post("/matching-tolerances", json=jpy_payload(**changes), role=OPS)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert (await api.get("/matching-tolerances/JPY", role=OPS)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_abs": "-0.01"}, "price_abs"),
        ({"net_amount_abs": "-0.05"}, "net_amount_abs"),
        ({"net_amount_bps": "-1"}, "net_amount_bps"),
        ({"price_abs": None}, "price_abs"),
        ({"currency": "EUR"}, "currency"),
        ({"version": 5}, "version"),
    ],
)
async def test_patch_refuses_bad_values_naming_the_field(
    api: Api, reference: None, changes: dict[str, Any], field: str
) -> None:
    response = await api.patch(
        "/matching-tolerances/USD", json=changes, headers=if_match(1), role=OPS
    )
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert (await api.get("/matching-tolerances/USD", role=OPS)).json() == USD


async def test_a_second_tolerance_for_a_currency_is_409(api: Api, reference: None) -> None:
    response = await api.post(
        "/matching-tolerances", json={"currency": "USD", "price_abs": "1"}, role=OPS
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "The matching tolerance 'USD' already exists."
    assert (await api.get("/matching-tolerances/USD", role=OPS)).json() == USD


# Roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_write(api: Api, reference: None, role: str) -> None:
    created = await api.post("/matching-tolerances", json=jpy_payload(), role=role)
    assert created.status_code == 403
    assert created.json()["type"] == TYPE_BASE + "forbidden"
    patched = await api.patch(
        "/matching-tolerances/USD", json={"price_abs": "1"}, headers=if_match(1), role=role
    )
    assert patched.status_code == 403
    assert (await api.get("/matching-tolerances/USD", role=OPS)).json() == USD
    assert (await api.get("/matching-tolerances/JPY", role=OPS)).status_code == 404


@pytest.mark.parametrize("role", ["trader", "gateway", "operations", "compliance"])
async def test_business_roles_read(api: Api, reference: None, role: str) -> None:
    assert (await api.get("/matching-tolerances", role=role)).status_code == 200
    assert (await api.get("/matching-tolerances/USD", role=role)).status_code == 200


async def test_admin_and_no_key_cannot_read(api: Api, reference: None) -> None:
    for path in ("/matching-tolerances", "/matching-tolerances/USD"):
        assert (await api.get(path, role="admin")).status_code == 403
        assert (await api.get(path)).status_code == 401
    assert (await api.post("/matching-tolerances", json=jpy_payload())).status_code == 401


# Matching uses what is stored ----------------------------------------------------------------


async def _book_and_confirm(api: Api, net_amount: str) -> dict[str, Any]:
    booked = await api.post("/trades", json=trade_payload(), role="trader")
    assert booked.status_code == 201, booked.text
    sent = await api.post(
        "/confirmations",
        json=confirmation_payload(
            trade_reference=booked.json()["external_id"], net_amount=net_amount
        ),
        role="gateway",
    )
    assert sent.status_code == 201, sent.text
    body: dict[str, Any] = sent.json()
    return body


async def test_a_widened_tolerance_applies_to_the_next_confirmation(
    api: Api, reference: None
) -> None:
    # Our net 18926.52; 0.06 off is beyond the demo's 0.05.
    before = await _book_and_confirm(api, "18926.58")
    assert before["status"] == "unmatched"
    patched = await api.patch(
        "/matching-tolerances/USD", json={"net_amount_abs": "0.06"}, headers=if_match(1), role=OPS
    )
    assert patched.status_code == 200
    after = await _book_and_confirm(api, "18926.58")
    assert (after["status"], after["reasons"]) == ("matched", [])


async def test_without_amount_allowances_amounts_must_be_equal(api: Api, reference: None) -> None:
    patched = await api.patch(
        "/matching-tolerances/USD",
        json={"price_abs": "0", "net_amount_abs": None},
        headers=if_match(1),
        role=OPS,
    )
    assert patched.status_code == 200
    off_by_a_cent = await _book_and_confirm(api, "18926.53")
    assert off_by_a_cent["reasons"] == [reason("DMON", "net_amount", "18926.52", "18926.53")]
    exact = await _book_and_confirm(api, "18926.520")
    assert exact["status"] == "matched"
