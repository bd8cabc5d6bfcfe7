"""/counterparties, /books and /accounts."""

from typing import Any

import pytest

from tests.reference.factories import (
    BAD_IBAN,
    BAD_LEI,
    BARCLAYS,
    GOLDMAN,
    GOOD_IBAN,
    UBS,
    book_payload,
    cash_account_payload,
    counterparty_payload,
    securities_account_payload,
)
from tests.support import Api, FrozenClock, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
STAMPS = {"version": 1, "created_at": CREATED_AT, "updated_at": CREATED_AT}
DEMO_LEIS = sorted(
    [
        "FOR8UP27PHTHYVLBNG30",
        "9R7GPTSO7KV3UQJZQ078",
        "R0MUWSFPU8MPRO8K5P83",
        "7LTWFZYICNSX8D621K86",
        "O2RNE8IBXP4R0TD8PU41",
        # The CCPs: NSCC (a stand-in LEI), LCH SA, Eurex Clearing.
        "NSCCDEMO000000000060",
        "R1IO4YJ0O79SMWVCHB58",
        "529900LN3S50JPU47S06",
    ]
)
DEMO_ACCOUNTS = ["CASH-EUR", "CASH-USD", "SEC-CBF", "SEC-DTC", "SEC-EB", "SEC-EOCF"]


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


# Counterparties ----------------------------------------------------------------------------


async def test_create_counterparty_answers_201_with_location_and_body(api: Api) -> None:
    response = await api.post("/counterparties", json=counterparty_payload(), role=OPS)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/counterparties/{BARCLAYS}"
    assert response.json() == {
        "lei": BARCLAYS,
        "name": "Barclays Bank PLC",
        "bic": "BARCGB22",
        "netting": "bilateral",
        **STAMPS,
    }


async def test_counterparty_defaults_to_no_bic_and_no_netting(api: Api) -> None:
    response = await api.post(
        "/counterparties", json={"lei": UBS.lower(), "name": "UBS AG"}, role=OPS
    )

    assert response.status_code == 201
    assert response.json() == {
        "lei": UBS,
        "name": "UBS AG",
        "bic": None,
        "netting": "none",
        **STAMPS,
    }


async def test_counterparty_bic_with_xxx_branch_is_stored_as_bic8(api: Api) -> None:
    response = await api.post(
        "/counterparties", json=counterparty_payload(bic="barcgb22xxx"), role=OPS
    )

    assert response.json()["bic"] == "BARCGB22"


async def test_get_counterparty_with_etag(api: Api, reference: None) -> None:
    response = await api.get(f"/counterparties/{GOLDMAN.lower()}", role="gateway")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == {
        "lei": GOLDMAN,
        "name": "Goldman Sachs & Co. LLC",
        "bic": "GOLDUS33",
        "netting": "none",
        **STAMPS,
    }


async def test_unknown_counterparty_is_404(api: Api, reference: None) -> None:
    response = await api.get(f"/counterparties/{BARCLAYS}", role="trader")

    assert response.status_code == 404
    assert response.json()["detail"] == f"No counterparty '{BARCLAYS}'."


async def test_list_counterparties_by_lei_and_in_pages(api: Api, reference: None) -> None:
    everything = (await api.get("/counterparties", role=OPS)).json()
    first = (await api.get("/counterparties", params={"limit": 2}, role=OPS)).json()
    second = (
        await api.get(
            "/counterparties", params={"limit": 2, "cursor": first["next_cursor"]}, role=OPS
        )
    ).json()
    third = (
        await api.get(
            "/counterparties", params={"limit": 6, "cursor": second["next_cursor"]}, role=OPS
        )
    ).json()

    assert [c["lei"] for c in everything["items"]] == DEMO_LEIS
    assert everything["next_cursor"] is None
    pages = [first, second, third]
    assert [[c["lei"] for c in page["items"]] for page in pages] == [
        DEMO_LEIS[0:2],
        DEMO_LEIS[2:4],
        DEMO_LEIS[4:],
    ]
    assert third["next_cursor"] is None


async def test_duplicate_counterparty_is_409(api: Api, reference: None) -> None:
    response = await api.post("/counterparties", json=counterparty_payload(lei=GOLDMAN), role=OPS)

    assert response.status_code == 409
    assert response.json()["detail"] == f"The counterparty '{GOLDMAN}' already exists."


async def test_patch_counterparty_bumps_the_version(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.advance(days=1)

    response = await api.patch(
        f"/counterparties/{GOLDMAN}",
        json={"netting": "bilateral", "bic": None},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json() == {
        "lei": GOLDMAN,
        "name": "Goldman Sachs & Co. LLC",
        "bic": None,
        "netting": "bilateral",
        "version": 2,
        "created_at": CREATED_AT,
        "updated_at": "2026-11-26T15:00:00Z",
    }


async def test_patch_counterparty_stale_missing_unknown_and_no_op(
    api: Api, reference: None
) -> None:
    stale = await api.patch(
        f"/counterparties/{GOLDMAN}", json={"name": "GS"}, headers=if_match(2), role=OPS
    )
    missing = await api.patch(f"/counterparties/{GOLDMAN}", json={"name": "GS"}, role=OPS)
    unknown = await api.patch(
        f"/counterparties/{BARCLAYS}", json={"name": "B"}, headers=if_match(1), role=OPS
    )
    no_op = await api.patch(
        f"/counterparties/{GOLDMAN}", json={"netting": "none"}, headers=if_match(1), role=OPS
    )

    assert (stale.status_code, stale.json()["current_version"]) == (412, 1)
    assert missing.status_code == 428
    assert unknown.status_code == 404
    assert (no_op.status_code, no_op.json()["version"], no_op.headers["etag"]) == (200, 1, '"1"')


@pytest.mark.parametrize("field", ["name", "netting"])
async def test_patch_counterparty_required_field_to_null_is_422(
    api: Api, reference: None, field: str
) -> None:
    response = await api.patch(
        f"/counterparties/{GOLDMAN}", json={field: None}, headers=if_match(1), role=OPS
    )

    assert response.status_code == 422
    assert problem_fields(response) == {field}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"lei": BAD_LEI}, "lei", id="lei-check-digits"),
        pytest.param({"lei": "G5GSEF7VJP5I7OUK55"}, "lei", id="lei-too-short"),
        pytest.param({"bic": "BARC1B22"}, "bic", id="bic-malformed"),
        pytest.param({"bic": "BARCZZ22"}, "bic", id="bic-unknown-country"),
        pytest.param({"netting": "multilateral"}, "netting", id="netting"),
        pytest.param({"name": "  "}, "name", id="blank-name"),
        pytest.param({"country": "GB"}, "country", id="extra-field"),
    ],
)
async def test_invalid_counterparty_is_422_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/counterparties", json=counterparty_payload(**overrides), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


@pytest.mark.parametrize(("patch", "field"), [({"bic": "XX"}, "bic"), ({"lei": UBS}, "lei")])
async def test_invalid_counterparty_patch_is_422(
    api: Api, reference: None, patch: dict[str, Any], field: str
) -> None:
    response = await api.patch(
        f"/counterparties/{GOLDMAN}", json=patch, headers=if_match(1), role=OPS
    )

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Books -------------------------------------------------------------------------------------


async def test_create_book_answers_201_with_location_and_body(api: Api) -> None:
    response = await api.post("/books", json=book_payload(), role=OPS)

    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/books/EM-CREDIT"
    assert response.json() == {"code": "EM-CREDIT", "name": "Emerging-market credit", **STAMPS}


async def test_get_and_list_books(api: Api, reference: None) -> None:
    one = await api.get("/books/FI-RATES", role="trader")
    listed = await api.get("/books", role="trader")
    paged = await api.get("/books", params={"limit": 1}, role="trader")

    assert one.status_code == 200
    assert one.headers["etag"] == '"1"'
    assert one.json() == {"code": "FI-RATES", "name": "Rates / government bonds", **STAMPS}
    assert [b["code"] for b in listed.json()["items"]] == ["EQ-FLOW", "FI-RATES"]
    assert [b["code"] for b in paged.json()["items"]] == ["EQ-FLOW"]
    rest = await api.get(
        "/books", params={"limit": 1, "cursor": paged.json()["next_cursor"]}, role="trader"
    )
    assert [b["code"] for b in rest.json()["items"]] == ["FI-RATES"]
    assert rest.json()["next_cursor"] is None


async def test_book_codes_are_case_sensitive_keys(api: Api, reference: None) -> None:
    response = await api.get("/books/eq-flow", role="trader")

    assert response.status_code == 404
    assert response.json()["detail"] == "No book 'eq-flow'."


async def test_duplicate_book_is_409(api: Api, reference: None) -> None:
    response = await api.post("/books", json=book_payload(code="EQ-FLOW"), role=OPS)

    assert response.status_code == 409


async def test_patch_book(api: Api, reference: None) -> None:
    renamed = await api.patch(
        "/books/EQ-FLOW", json={"name": "Cash equities"}, headers=if_match(1), role=OPS
    )
    stale = await api.patch("/books/EQ-FLOW", json={"name": "x"}, headers=if_match(1), role=OPS)
    missing = await api.patch("/books/EQ-FLOW", json={"name": "x"}, role=OPS)
    unknown = await api.patch("/books/NOPE", json={"name": "x"}, headers=if_match(1), role=OPS)
    no_op = await api.patch(
        "/books/EQ-FLOW", json={"name": "Cash equities"}, headers=if_match(2), role=OPS
    )
    null = await api.patch("/books/EQ-FLOW", json={"name": None}, headers=if_match(2), role=OPS)

    assert renamed.status_code == 200
    assert renamed.headers["etag"] == '"2"'
    assert renamed.json()["name"] == "Cash equities"
    assert (stale.status_code, stale.json()["current_version"]) == (412, 2)
    assert missing.status_code == 428
    assert unknown.status_code == 404
    assert (no_op.status_code, no_op.json()["version"]) == (200, 2)
    assert (null.status_code, problem_fields(null)) == (422, {"name"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"code": "eq-flow"}, "code", id="lower-case-code"),
        pytest.param({"code": "-EQ"}, "code", id="leading-dash"),
        pytest.param({"code": "EQ FLOW"}, "code", id="space"),
        pytest.param({"code": "E" * 41}, "code", id="41-characters"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "n" * 201}, "name", id="long-name"),
        pytest.param({"owner": "desk"}, "owner", id="extra-field"),
    ],
)
async def test_invalid_book_is_422_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/books", json=book_payload(**overrides), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Accounts ----------------------------------------------------------------------------------


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
