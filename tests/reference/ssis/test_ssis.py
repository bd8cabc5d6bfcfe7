"""/ssis: standing settlement instructions for a market, a currency, or a market in one
currency; created, read, listed, updated and deleted."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.reference.conftest import AuditLookup, Counter
from tests.reference.factories import BAD_LEI, BARCLAYS, GOLDMAN, ssi_payload
from tests.support import Api, FrozenClock, problem_fields

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


async def test_create_ssi_for_a_market_in_one_currency(api: Api, reference: None) -> None:
    # The most specific SSI enrichment knows: Goldman's DTC account for XNYS trades in USD.
    response = await api.post(
        "/ssis",
        json=ssi_payload(mic="xnys", currency="usd", account="DEMO-GS-DTC-USD"),
        role=OPS,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert SSI_ID.match(body["id"])
    assert response.headers["location"] == f"/api/v1/ssis/{body['id']}"
    assert body == {
        "id": body["id"],
        "counterparty_lei": GOLDMAN,
        "mic": "XNYS",
        "currency": "USD",
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "CHASUS33",
        "account": "DEMO-GS-DTC-USD",
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }
    assert (await api.get(f"/ssis/{body['id']}", role=OPS)).json() == body
    # Found by either filter, and beside (not instead of) the market's and the currency's own.
    by_market = await all_ssis(api, counterparty_lei=GOLDMAN, mic="XNYS")
    by_currency = await all_ssis(api, counterparty_lei=GOLDMAN, currency="USD")
    assert sorted((r["account"], r["mic"], r["currency"]) for r in by_market) == [
        ("DEMO-GS-DTC-01", "XNYS", None),
        ("DEMO-GS-DTC-USD", "XNYS", "USD"),
    ]
    assert [(r["account"], r["mic"], r["currency"]) for r in by_currency] == [
        ("DEMO-GS-DTC-USD", "XNYS", "USD")
    ]


async def test_an_ssi_for_an_unknown_market_in_a_currency_is_422_naming_mic(
    api: Api, reference: None
) -> None:
    response = await api.post("/ssis", json=ssi_payload(mic="XLON", currency="GBP"), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"mic"}
    assert response.json()["detail"] == "mic 'XLON' is not known."


async def test_an_ssi_for_neither_market_nor_currency_is_422_naming_both(
    api: Api, reference: None
) -> None:
    response = await api.post("/ssis", json=ssi_payload(mic=None, currency=None), role=OPS)

    assert response.status_code == 422, response.text
    message = (
        "give mic, currency or both: an SSI is for a market, a currency, "
        "or a market in one currency"
    )
    assert response.json()["errors"] == [
        {"field": "mic", "message": message},
        {"field": "currency", "message": message},
    ]
    assert response.json()["detail"] == f"mic: {message}; currency: {message}"
    assert len(await all_ssis(api)) == 23


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
    assert response.json()["detail"] == "No SSI 'ssi_nope'."


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
        pytest.param({"currency": None}, {"mic", "currency"}, id="neither-mic-nor-currency"),
        pytest.param({"mic": None, "currency": None}, {"mic", "currency"}, id="both-null"),
        pytest.param({"mic": "XNYS", "currency": "ZZZ"}, {"currency"}, id="market-bad-currency"),
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


# Delete ------------------------------------------------------------------------------------


async def test_delete_ssi_removes_it(api: Api, reference: None) -> None:
    created = await create(api)

    response = await api.delete(f"/ssis/{created['id']}", headers=if_match(1), role=OPS)

    assert response.status_code == 204, response.text
    assert response.content == b""
    gone = await api.get(f"/ssis/{created['id']}", role=OPS)
    assert (gone.status_code, gone.json()["detail"]) == (404, f"No SSI '{created['id']}'.")
    assert created["id"] not in {r["id"] for r in await all_ssis(api)}
    assert len(await all_ssis(api)) == 23  # the demo SSIs are untouched


async def test_delete_ssi_after_an_update_needs_the_new_version(api: Api, reference: None) -> None:
    created = await create(api)
    updated = await api.patch(
        f"/ssis/{created['id']}", json={"account": "DEMO-GS-USD-02"}, headers=if_match(1), role=OPS
    )
    assert updated.json()["version"] == 2

    stale = await api.delete(f"/ssis/{created['id']}", headers=if_match(1), role=OPS)
    current = await api.delete(f"/ssis/{created['id']}", headers=if_match(2), role=OPS)

    assert (stale.status_code, current.status_code) == (412, 204)


async def test_delete_ssi_is_audited_with_its_last_state_and_an_event(
    api: Api, reference: None, audit_of_request: AuditLookup, clock: FrozenClock
) -> None:
    created = await create(api)
    clock.advance(hours=1)

    response = await api.delete(
        f"/ssis/{created['id']}",
        headers={**if_match(1), "X-Request-ID": "ssi-del"},
        role=OPS,
    )

    assert response.status_code == 204, response.text
    [record] = await audit_of_request("ssi-del")
    before = {
        "id": created["id"],
        "counterparty_lei": GOLDMAN,
        "mic": None,
        "currency": "USD",
        "place_of_settlement": "DTCYUS33",
        "agent_bic": "CHASUS33",
        "account": "DEMO-GS-USD-01",
        "version": 1,
        "created_at": "2026-11-25T15:00:00+00:00",
        "updated_at": "2026-11-25T15:00:00+00:00",
    }
    assert {
        key: record[key]
        for key in (
            "entity_type",
            "entity_id",
            "action",
            "before",
            "after",
            "actor_role",
            "request_id",
            "occurred_at",
        )
    } == {
        "entity_type": "ssi",
        "entity_id": created["id"],
        "action": "deleted",
        "before": before,
        "after": None,
        "actor_role": "operations",
        "request_id": "ssi-del",
        "occurred_at": datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
    }
    assert record["event_type"] == "ssi.deleted"


@pytest.mark.parametrize(
    ("ssi", "headers", "status", "detail"),
    [
        pytest.param("created", {}, 428, "Send If-Match with the version you last read.", id="no"),
        pytest.param(
            "created",
            {"If-Match": "latest"},
            428,
            "If-Match 'latest' is not a version such as \"3\".",
            id="malformed",
        ),
        pytest.param(
            "created",
            if_match(2),
            412,
            "ssi '{id}' is at version 1, not 2: read it again and retry.",
            id="stale",
        ),
        pytest.param("ssi_nope", if_match(1), 404, "No SSI 'ssi_nope'.", id="unknown"),
    ],
)
async def test_a_refused_delete_leaves_the_ssi_and_no_audit_record(
    api: Api,
    reference: None,
    audit_count: Counter,
    ssi: str,
    headers: dict[str, str],
    status: int,
    detail: str,
) -> None:
    created = await create(api)
    ssi_id = created["id"] if ssi == "created" else ssi
    before = await audit_count()

    response = await api.delete(f"/ssis/{ssi_id}", headers=headers, role=OPS)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == detail.format(id=ssi_id)
    if status == 412:
        assert response.json()["current_version"] == 1
    assert await audit_count() == before
    assert (await api.get(f"/ssis/{created['id']}", role=OPS)).json() == created


async def test_deleting_twice_is_404_the_second_time(api: Api, reference: None) -> None:
    created = await create(api)

    first = await api.delete(f"/ssis/{created['id']}", headers=if_match(1), role=OPS)
    second = await api.delete(f"/ssis/{created['id']}", headers=if_match(1), role=OPS)

    assert (first.status_code, second.status_code) == (204, 404)


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_may_delete_an_ssi(
    api: Api, reference: None, audit_count: Counter, role: str
) -> None:
    created = await create(api)
    before = await audit_count()

    response = await api.delete(f"/ssis/{created['id']}", headers=if_match(1), role=role)

    assert response.status_code == 403, response.text
    assert response.json()["detail"] == (
        f"The role '{role}' may not call this route (allowed: operations)."
    )
    assert await audit_count() == before
    assert (await api.get(f"/ssis/{created['id']}", role=OPS)).json() == created
