"""/ssis: standing settlement instructions for one market or one currency."""

import re
from typing import Any

import pytest

from tests.reference.factories import BAD_LEI, BARCLAYS, GOLDMAN, ssi_payload
from tests.support import Api, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
MORGAN = "9R7GPTSO7KV3UQJZQ078"
SSI_ID = re.compile(r"^ssi_[0-9a-z]{26}$")


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def create(api: Api, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/ssis", json=ssi_payload(**overrides), role=OPS)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def all_ssis(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/ssis", params=params, role="trader")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# Create ------------------------------------------------------------------------------------


async def test_create_currency_ssi_answers_201_with_location_and_body(
    api: Api, reference: None
) -> None:
    response = await api.post("/ssis", json=ssi_payload(), role=OPS)

    assert response.status_code == 201, response.text
    body = response.json()
    assert SSI_ID.match(body["id"])
    assert response.headers["location"] == f"/api/v1/ssis/{body['id']}"
    assert body == {
        "id": body["id"],
        "counterparty_lei": GOLDMAN,
        "mic": None,
        "currency": "USD",
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "CHASUS33",
        "account": "DEMO-GS-USD-01",
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


async def test_create_market_ssi(api: Api, reference: None) -> None:
    body = await create(
        api,
        counterparty_lei=GOLDMAN.lower(),
        mic="xnys",
        currency=None,
        agent_bic="irvtus3nxxx",
        account="  DEMO-GS-DTC-02 ",
    )

    assert (body["counterparty_lei"], body["mic"], body["currency"]) == (GOLDMAN, "XNYS", None)
    assert body["agent_bic"] == "IRVTUS3N"
    assert body["account"] == "DEMO-GS-DTC-02"


async def test_two_ssis_for_one_market_may_exist(api: Api, reference: None) -> None:
    await create(api, mic="XNYS", currency=None, account="DEMO-GS-DTC-02")

    rows = await all_ssis(api, counterparty_lei=GOLDMAN, mic="XNYS")

    assert sorted(r["account"] for r in rows) == ["DEMO-GS-DTC-01", "DEMO-GS-DTC-02"]


async def test_get_ssi_with_etag(api: Api, reference: None) -> None:
    created = await create(api)

    response = await api.get(f"/ssis/{created['id']}", role="compliance")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == created


async def test_unknown_ssi_is_404(api: Api, reference: None) -> None:
    response = await api.get("/ssis/ssi_nope", role="trader")

    assert response.status_code == 404
    assert response.json()["detail"] == "No ssi 'ssi_nope'."


# List --------------------------------------------------------------------------------------


async def test_demo_ssis_cover_every_counterparty_and_market(api: Api, reference: None) -> None:
    rows = await all_ssis(api)

    # Five broker-dealers on four markets, and each of the three CCPs on its market.
    assert len(rows) == 23
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert {r["currency"] for r in rows} == {None}
    assert len({(r["counterparty_lei"], r["mic"]) for r in rows}) == 23


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"counterparty_lei": GOLDMAN},
            [
                (GOLDMAN, None, "DEMO-GS-USD-01"),
                (GOLDMAN, "XETR", "DEMO-GS-CBF-01"),
                (GOLDMAN, "XNYS", "DEMO-GS-DTC-01"),
                (GOLDMAN, "XOFF", "DEMO-GS-EB-01"),
                (GOLDMAN, "XPAR", "DEMO-GS-EOCF-01"),
            ],
            id="counterparty",
        ),
        pytest.param(
            {"counterparty_lei": MORGAN, "mic": "XOFF"},
            [(MORGAN, "XOFF", "DEMO-MS-EB-01")],
            id="counterparty-and-market",
        ),
        pytest.param(
            {"mic": "xpar"},
            [
                ("7LTWFZYICNSX8D621K86", "XPAR", "DEMO-DB-EOCF-01"),
                ("9R7GPTSO7KV3UQJZQ078", "XPAR", "DEMO-MS-EOCF-01"),
                ("FOR8UP27PHTHYVLBNG30", "XPAR", "DEMO-GS-EOCF-01"),
                ("O2RNE8IBXP4R0TD8PU41", "XPAR", "DEMO-SG-EOCF-01"),
                ("R0MUWSFPU8MPRO8K5P83", "XPAR", "DEMO-BNP-EOCF-01"),
                ("R1IO4YJ0O79SMWVCHB58", "XPAR", "DEMO-LCH-EOCF-01"),
            ],
            id="market",
        ),
        pytest.param({"currency": "USD"}, [(GOLDMAN, None, "DEMO-GS-USD-01")], id="currency"),
        pytest.param({"currency": "EUR"}, [], id="no-match"),
        pytest.param({"counterparty_lei": BARCLAYS}, [], id="unknown-counterparty"),
    ],
)
async def test_list_ssis_filters(
    api: Api, reference: None, params: dict[str, str], expected: list[tuple[str, Any, str]]
) -> None:
    await create(api)

    rows = await all_ssis(api, **params)

    found = [(r["counterparty_lei"], r["mic"], r["account"]) for r in rows]
    assert sorted(found, key=lambda row: (row[0], row[1] or "")) == expected


async def test_list_ssis_pages_through_every_row_once(api: Api, reference: None) -> None:
    everything = [r["id"] for r in await all_ssis(api)]
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 8} | ({"cursor": cursor} if cursor else {})
        body = (await api.get("/ssis", params=params, role=OPS)).json()
        pages.append([r["id"] for r in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [len(p) for p in pages] == [8, 8, 7]
    assert [i for p in pages for i in p] == everything


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"counterparty_lei": BAD_LEI}, "counterparty_lei"),
        ({"mic": "XNYSE"}, "mic"),
        ({"currency": "ZZZ"}, "currency"),
    ],
)
async def test_list_ssis_refuses_bad_filters(
    api: Api, reference: None, params: dict[str, str], field: str
) -> None:
    response = await api.get("/ssis", params=params, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Update ------------------------------------------------------------------------------------


async def test_patch_ssi_bumps_the_version(api: Api, reference: None) -> None:
    created = await create(api)

    response = await api.patch(
        f"/ssis/{created['id']}",
        json={"agent_bic": "IRVTUS3N", "account": "DEMO-GS-USD-02"},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json() == {
        **created,
        "agent_bic": "IRVTUS3N",
        "account": "DEMO-GS-USD-02",
        "version": 2,
    }


async def test_patch_ssi_stale_missing_unknown_and_no_op(api: Api, reference: None) -> None:
    ssi_id = (await create(api))["id"]

    stale = await api.patch(f"/ssis/{ssi_id}", json={"account": "A"}, headers=if_match(5), role=OPS)
    missing = await api.patch(f"/ssis/{ssi_id}", json={"account": "A"}, role=OPS)
    unknown = await api.patch(
        "/ssis/ssi_nope", json={"account": "A"}, headers=if_match(1), role=OPS
    )
    no_op = await api.patch(
        f"/ssis/{ssi_id}",
        json={"place_of_settlement": "DTCYUS33", "account": "DEMO-GS-USD-01"},
        headers=if_match(1),
        role=OPS,
    )

    assert (stale.status_code, stale.json()["current_version"]) == (412, 1)
    assert missing.status_code == 428
    assert unknown.status_code == 404
    assert (no_op.status_code, no_op.json()["version"]) == (200, 1)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"account": None}, "account"),
        ({"agent_bic": None}, "agent_bic"),
        ({"place_of_settlement": None}, "place_of_settlement"),
        ({"agent_bic": "CHAS"}, "agent_bic"),
        ({"account": ""}, "account"),
        ({"mic": "XNYS"}, "mic"),
        ({"currency": "EUR"}, "currency"),
        ({"counterparty_lei": MORGAN}, "counterparty_lei"),
    ],
)
async def test_invalid_ssi_patch_is_422_naming_the_field(
    api: Api, reference: None, patch: dict[str, Any], field: str
) -> None:
    created = await create(api)

    response = await api.patch(f"/ssis/{created['id']}", json=patch, headers=if_match(1), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}
    assert (await api.get(f"/ssis/{created['id']}", role=OPS)).json() == created


# Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        pytest.param({"mic": "XNYS"}, {"mic", "currency"}, id="both-mic-and-currency"),
        pytest.param({"currency": None}, {"mic", "currency"}, id="neither-mic-nor-currency"),
        pytest.param({"counterparty_lei": BAD_LEI}, {"counterparty_lei"}, id="lei-check-digits"),
        pytest.param({"currency": "ZZZ"}, {"currency"}, id="unknown-currency"),
        pytest.param({"mic": "XN", "currency": None}, {"mic"}, id="malformed-mic"),
        pytest.param({"place_of_settlement": "DTC"}, {"place_of_settlement"}, id="csd-bic"),
        pytest.param({"agent_bic": "CHASU533"}, {"agent_bic"}, id="agent-bic"),
        pytest.param({"account": ""}, {"account"}, id="empty-account"),
        pytest.param({"account": "A" * 41}, {"account"}, id="long-account"),
        pytest.param({"priority": 1}, {"priority"}, id="extra-field"),
    ],
)
async def test_invalid_ssi_is_422_naming_the_field(
    api: Api, reference: None, overrides: dict[str, Any], fields: set[str]
) -> None:
    response = await api.post("/ssis", json=ssi_payload(**overrides), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields
    assert len(await all_ssis(api)) == 23


async def test_ssi_for_an_unknown_counterparty_is_422_naming_counterparty_lei(
    api: Api, reference: None
) -> None:
    response = await api.post("/ssis", json=ssi_payload(counterparty_lei=BARCLAYS), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"counterparty_lei"}
    assert response.json()["detail"] == f"counterparty_lei '{BARCLAYS}' is not known."


async def test_ssi_for_an_unknown_market_is_422_naming_mic(api: Api, reference: None) -> None:
    response = await api.post("/ssis", json=ssi_payload(mic="XLON", currency=None), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"mic"}
    assert response.json()["detail"] == "mic 'XLON' is not known."
