"""/counterparties."""

from typing import Any

import pytest

from tests.reference.factories import (
    BAD_LEI,
    BARCLAYS,
    GOLDMAN,
    UBS,
    counterparty_payload,
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


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def test_create_counterparty_answers_201_with_location_and_body(api: Api) -> None:
    response = await api.post("/counterparties", json=counterparty_payload(), role=OPS)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/counterparties/{BARCLAYS}"
    assert response.json() == {
        "lei": BARCLAYS,
        "name": "Barclays Bank PLC",
        "bic": "BARCGB22",
        "netting": "bilateral",
        "partial_settlement": None,
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
        "partial_settlement": None,
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
        "partial_settlement": None,
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
        "partial_settlement": None,
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


# Partial settlement ----------------------------------------------------------------------------


async def test_a_counterpartys_partial_indicator_is_kept_and_null_means_the_markets(
    api: Api, reference: None
) -> None:
    created = await api.post(
        "/counterparties", json=counterparty_payload(partial_settlement="PARQ"), role=OPS
    )
    assert created.status_code == 201, created.text
    assert created.json()["partial_settlement"] == "PARQ"

    cleared = await api.patch(
        f"/counterparties/{BARCLAYS}",
        json={"partial_settlement": None},
        headers=if_match(1),
        role=OPS,
    )

    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["partial_settlement"], cleared.json()["version"]) == (None, 2)
    listed = (await api.get("/counterparties", role=OPS)).json()["items"]
    demo = {c["lei"]: c["partial_settlement"] for c in listed if c["partial_settlement"]}
    # BNP Paribas, Deutsche Bank and Société Générale; the others take their market's.
    assert demo == {
        "R0MUWSFPU8MPRO8K5P83": "PART",
        "7LTWFZYICNSX8D621K86": "PARQ",
        "O2RNE8IBXP4R0TD8PU41": "PARC",
    }


@pytest.mark.parametrize("value", ["part", "PARX", 1, True])
async def test_an_unknown_partial_indicator_is_422(api: Api, value: Any) -> None:
    response = await api.post(
        "/counterparties", json=counterparty_payload(partial_settlement=value), role=OPS
    )

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"partial_settlement"}
