"""/accounts."""

from typing import Any

import pytest

from tests.reference.factories import (
    BAD_IBAN,
    GOOD_IBAN,
    cash_account_payload,
    securities_account_payload,
)
from tests.support import Api, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
STAMPS = {"version": 1, "created_at": CREATED_AT, "updated_at": CREATED_AT}
DEMO_ACCOUNTS = ["CASH-EUR", "CASH-USD", "SEC-CBF", "SEC-DTC", "SEC-EB", "SEC-EOCF"]


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def test_create_cash_account_answers_201_with_location_and_body(api: Api) -> None:
    response = await api.post(
        "/accounts", json=cash_account_payload(iban="gb82 west 1234 5698 7654 32"), role=OPS
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/accounts/CASH-GBP"
    assert response.json() == {
        "code": "CASH-GBP",
        "name": "GBP settlement cash at Barclays",
        "kind": "cash",
        "currency": "GBP",
        "servicer_bic": "BARCGB22",
        "iban": GOOD_IBAN,
        "account_number": None,
        "markets": [],
        **STAMPS,
    }


async def test_create_securities_account_answers_201(api: Api) -> None:
    response = await api.post("/accounts", json=securities_account_payload(), role=OPS)

    assert response.status_code == 201
    assert response.json() == {
        "code": "SEC-CREST",
        "name": "UK equities safekeeping in CREST",
        "kind": "securities",
        "currency": None,
        "servicer_bic": "CRSTGB22",
        "iban": None,
        "account_number": "DEMO-CREST-0001",
        "markets": [],
        **STAMPS,
    }


async def test_get_account_with_etag(api: Api, reference: None) -> None:
    response = await api.get("/accounts/CASH-EUR", role="compliance")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == {
        "code": "CASH-EUR",
        "name": "EUR settlement cash at Commerzbank",
        "kind": "cash",
        "currency": "EUR",
        "servicer_bic": "COBADEFF",
        "iban": "DE89370400440532013000",
        "account_number": None,
        "markets": [],
        **STAMPS,
    }


async def test_unknown_account_is_404(api: Api, reference: None) -> None:
    response = await api.get("/accounts/CASH-GBP", role="trader")

    assert response.status_code == 404
    assert response.json()["detail"] == "No account 'CASH-GBP'."


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({}, DEMO_ACCOUNTS),
        ({"kind": "cash"}, ["CASH-EUR", "CASH-USD"]),
        ({"kind": "securities"}, ["SEC-CBF", "SEC-DTC", "SEC-EB", "SEC-EOCF"]),
        ({"currency": "EUR"}, ["CASH-EUR"]),
        ({"currency": "usd"}, ["CASH-USD"]),
        ({"currency": "GBP"}, []),
        ({"kind": "securities", "currency": "USD"}, []),
    ],
)
async def test_list_accounts_filters(
    api: Api, reference: None, params: dict[str, str], codes: list[str]
) -> None:
    response = await api.get("/accounts", params=params, role="trader")

    assert response.status_code == 200
    assert [a["code"] for a in response.json()["items"]] == codes


async def test_list_accounts_pages(api: Api, reference: None) -> None:
    first = (await api.get("/accounts", params={"limit": 4}, role=OPS)).json()
    second = (
        await api.get("/accounts", params={"limit": 4, "cursor": first["next_cursor"]}, role=OPS)
    ).json()

    assert [a["code"] for a in first["items"]] == DEMO_ACCOUNTS[:4]
    assert [a["code"] for a in second["items"]] == DEMO_ACCOUNTS[4:]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"), [({"kind": "loan"}, "kind"), ({"currency": "ZZ"}, "currency")]
)
async def test_list_accounts_refuses_bad_filters(
    api: Api, reference: None, params: dict[str, str], field: str
) -> None:
    response = await api.get("/accounts", params=params, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


async def test_duplicate_account_is_409(api: Api, reference: None) -> None:
    response = await api.post("/accounts", json=cash_account_payload(code="CASH-EUR"), role=OPS)

    assert response.status_code == 409
    assert response.json()["detail"] == "The account 'CASH-EUR' already exists."


async def test_patch_account_bumps_the_version(api: Api, reference: None) -> None:
    response = await api.patch(
        "/accounts/CASH-USD",
        json={"iban": GOOD_IBAN, "account_number": None},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    body = response.json()
    assert (body["iban"], body["account_number"], body["version"]) == (GOOD_IBAN, None, 2)


async def test_patch_account_stale_missing_unknown_and_no_op(api: Api, reference: None) -> None:
    stale = await api.patch("/accounts/SEC-DTC", json={"name": "x"}, headers=if_match(0), role=OPS)
    missing = await api.patch("/accounts/SEC-DTC", json={"name": "x"}, role=OPS)
    unknown = await api.patch("/accounts/SEC-X", json={"name": "x"}, headers=if_match(1), role=OPS)
    no_op = await api.patch(
        "/accounts/SEC-DTC",
        json={"servicer_bic": "DTCYUS33XXX"},
        headers=if_match(1),
        role=OPS,
    )

    assert (stale.status_code, stale.json()["current_version"]) == (412, 1)
    assert missing.status_code == 428
    assert unknown.status_code == 404
    assert (no_op.status_code, no_op.json()["version"]) == (200, 1)


@pytest.mark.parametrize(
    ("code", "patch", "fields"),
    [
        pytest.param("SEC-DTC", {"name": None}, {"name"}, id="name-null"),
        pytest.param("SEC-DTC", {"servicer_bic": None}, {"servicer_bic"}, id="servicer-null"),
        pytest.param(
            "SEC-DTC", {"account_number": None}, {"iban", "account_number"}, id="no-identifier"
        ),
        pytest.param("CASH-EUR", {"iban": None}, {"iban", "account_number"}, id="iban-removed"),
        pytest.param("CASH-EUR", {"iban": BAD_IBAN}, {"iban"}, id="iban-check-digits"),
        pytest.param("CASH-EUR", {"currency": "USD"}, {"currency"}, id="currency-not-patchable"),
        pytest.param("CASH-EUR", {"kind": "securities"}, {"kind"}, id="kind-not-patchable"),
    ],
)
async def test_invalid_account_patch_is_422_naming_the_field(
    api: Api, reference: None, code: str, patch: dict[str, Any], fields: set[str]
) -> None:
    response = await api.patch(f"/accounts/{code}", json=patch, headers=if_match(1), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields
    assert (await api.get(f"/accounts/{code}", role=OPS)).json()["version"] == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        pytest.param(cash_account_payload(currency=None), {"currency"}, id="cash-without-currency"),
        pytest.param(
            securities_account_payload(currency="GBP"), {"currency"}, id="securities-currency"
        ),
        pytest.param(
            cash_account_payload(iban=None), {"iban", "account_number"}, id="no-iban-or-number"
        ),
        pytest.param(
            securities_account_payload(account_number=None),
            {"iban", "account_number"},
            id="securities-no-number",
        ),
        pytest.param(cash_account_payload(iban=BAD_IBAN), {"iban"}, id="iban-check-digits"),
        pytest.param(cash_account_payload(iban="GB82"), {"iban"}, id="iban-too-short"),
        pytest.param(cash_account_payload(currency="ZZZ"), {"currency"}, id="unknown-currency"),
        pytest.param(cash_account_payload(currency="XAU"), {"currency"}, id="metal-currency"),
        pytest.param(cash_account_payload(kind="loan"), {"kind"}, id="unknown-kind"),
        pytest.param(
            cash_account_payload(servicer_bic="BARC"), {"servicer_bic"}, id="servicer-bic"
        ),
        pytest.param(
            securities_account_payload(account_number=""), {"account_number"}, id="empty-number"
        ),
        pytest.param(cash_account_payload(code="cash gbp"), {"code"}, id="code"),
        pytest.param(cash_account_payload(owner="us"), {"owner"}, id="extra-field"),
    ],
)
async def test_invalid_account_is_422_naming_the_field(
    api: Api, payload: dict[str, Any], fields: set[str]
) -> None:
    response = await api.post("/accounts", json=payload, role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields


async def test_account_may_have_both_iban_and_account_number(api: Api) -> None:
    response = await api.post(
        "/accounts", json=cash_account_payload(account_number="12345678"), role=OPS
    )

    assert response.status_code == 201
    assert (response.json()["iban"], response.json()["account_number"]) == (GOOD_IBAN, "12345678")
