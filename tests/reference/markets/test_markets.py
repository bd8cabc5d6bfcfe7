"""/markets: create, read, list, versioned update, validation."""

import asyncio
from typing import Any

import pytest

from tests.reference.factories import LCH_LTD, market_payload
from tests.support import Api, FrozenClock, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"

XNYS_BODY = {
    "mic": "XNYS",
    "name": "New York Stock Exchange",
    "country": "US",
    "timezone": "America/New_York",
    "calendar": "XNYS",
    "settlement_calendars": ["XNYS", "FED"],
    "settlement_cycle_days": [
        {"from": "2017-09-05", "days": 2},
        {"from": "2024-05-28", "days": 1},
    ],
    "ccp": "NSCCUS33",
    "internal_settlement": False,
    "locked_in": False,
    "settlement_mode": "internal",
    "message_format": "iso20022",
    "affirmation_cutoff": "21:00",
    "partial_settlement": "NPAR",
    "partial_cash_thresholds": {},
    "partial_settlement_windows": [],
    "version": 1,
    "created_at": CREATED_AT,
    "updated_at": CREATED_AT,
}


def if_match(version: int | str) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


# Create ------------------------------------------------------------------------------------


async def test_create_market_answers_201_with_location_and_the_full_body(api: Api) -> None:
    response = await api.post("/markets", json=market_payload(), role=OPS)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/markets/XLON"
    assert response.json() == {
        "mic": "XLON",
        "name": "London Stock Exchange",
        "country": "GB",
        "timezone": "Europe/London",
        "calendar": "XLON",
        "settlement_calendars": ["XLON"],
        "settlement_cycle_days": [
            {"from": "2014-10-06", "days": 2},
            {"from": "2027-10-11", "days": 1},
        ],
        "ccp": LCH_LTD,
        "internal_settlement": False,
        "locked_in": False,
        "settlement_mode": "internal",
        "message_format": "iso20022",
        "affirmation_cutoff": "18:00",
        "partial_settlement": "NPAR",
        "partial_cash_thresholds": {},
        "partial_settlement_windows": [],
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


async def test_created_market_is_readable_with_etag_1(api: Api) -> None:
    await api.post("/markets", json=market_payload(), role=OPS)

    response = await api.get("/markets/XLON", role="trader")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["name"] == "London Stock Exchange"


async def test_settlement_calendars_default_to_the_trading_calendar(api: Api) -> None:
    payload = market_payload()
    del payload["settlement_calendars"]

    response = await api.post("/markets", json=payload, role=OPS)

    assert response.status_code == 201
    assert response.json()["settlement_calendars"] == ["XLON"]


async def test_market_without_ccp_is_bilateral(api: Api) -> None:
    payload = market_payload()
    del payload["ccp"]

    response = await api.post("/markets", json=payload, role=OPS)

    assert response.status_code == 201
    assert response.json()["ccp"] is None


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("lchlgb2l", "LCHLGB2L"), ("LCHLGB2LXXX", "LCHLGB2L"), ("LCHLGB2L123", "LCHLGB2L123")],
)
async def test_ccp_bic_is_upper_cased_and_the_xxx_branch_dropped(
    api: Api, sent: str, stored: str
) -> None:
    response = await api.post("/markets", json=market_payload(ccp=sent), role=OPS)

    assert response.status_code == 201
    assert response.json()["ccp"] == stored


async def test_lower_case_mic_is_stored_upper_case(api: Api) -> None:
    response = await api.post("/markets", json=market_payload(mic="xlon"), role=OPS)

    assert response.status_code == 201
    assert response.json()["mic"] == "XLON"
    assert response.headers["location"] == "/api/v1/markets/XLON"


async def test_duplicate_market_is_409(api: Api, reference: None) -> None:
    response = await api.post("/markets", json=market_payload(mic="XNYS"), role=OPS)

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "https://settlement.example/problems/conflict"
    assert body["detail"] == "The market 'XNYS' already exists."


async def test_same_idempotency_key_and_body_replays_the_first_answer(api: Api) -> None:
    headers = {"Idempotency-Key": "market-xlon-1"}
    first = await api.post("/markets", json=market_payload(), role=OPS, headers=headers)
    second = await api.post("/markets", json=market_payload(), role=OPS, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == "/api/v1/markets/XLON"
    assert "idempotent-replayed" not in first.headers


async def test_same_idempotency_key_with_another_body_is_422_and_writes_nothing(api: Api) -> None:
    headers = {"Idempotency-Key": "market-xlon-2"}
    await api.post("/markets", json=market_payload(), role=OPS, headers=headers)

    response = await api.post(
        "/markets", json=market_payload(mic="XAMS", calendar="XAMS"), role=OPS, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["type"] == "https://settlement.example/problems/idempotency-key-reused"
    assert (await api.get("/markets/XAMS", role=OPS)).status_code == 404


# Read and list -----------------------------------------------------------------------------


async def test_get_market_answers_the_demo_market_with_etag(api: Api, reference: None) -> None:
    response = await api.get("/markets/XNYS", role="compliance")

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == XNYS_BODY


async def test_get_market_accepts_a_lower_case_mic(api: Api, reference: None) -> None:
    response = await api.get("/markets/xnys", role="trader")

    assert response.status_code == 200
    assert response.json()["mic"] == "XNYS"


async def test_unknown_market_is_404_problem(api: Api, reference: None) -> None:
    response = await api.get("/markets/XLON", role="trader")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json() == {
        "type": "https://settlement.example/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No market 'XLON'.",
        "instance": "/api/v1/markets/XLON",
    }


async def test_list_markets_is_ordered_by_mic(api: Api, reference: None) -> None:
    response = await api.get("/markets", role="gateway")

    assert response.status_code == 200
    body = response.json()
    assert [m["mic"] for m in body["items"]] == ["XETR", "XNYS", "XOFF", "XPAR"]
    assert body["next_cursor"] is None
    assert body["items"][1] == XNYS_BODY


async def test_list_markets_pages_with_a_cursor(api: Api, reference: None) -> None:
    first = (await api.get("/markets", params={"limit": 3}, role=OPS)).json()
    second = (
        await api.get("/markets", params={"limit": 3, "cursor": first["next_cursor"]}, role=OPS)
    ).json()

    assert [m["mic"] for m in first["items"]] == ["XETR", "XNYS", "XOFF"]
    assert first["next_cursor"] is not None
    assert [m["mic"] for m in second["items"]] == ["XPAR"]
    assert second["next_cursor"] is None


async def test_a_page_exactly_full_has_no_next_cursor(api: Api, reference: None) -> None:
    body = (await api.get("/markets", params={"limit": 4}, role=OPS)).json()

    assert len(body["items"]) == 4
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_bad_paging_parameters_are_422(
    api: Api, reference: None, params: dict[str, Any], field: str
) -> None:
    response = await api.get("/markets", params=params, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Update ------------------------------------------------------------------------------------


async def test_patch_with_current_version_bumps_it_and_answers_etag_2(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.advance(hours=1)

    response = await api.patch(
        "/markets/XNYS",
        json={"name": "NYSE", "affirmation_cutoff": "20:30"},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json() == {
        **XNYS_BODY,
        "name": "NYSE",
        "affirmation_cutoff": "20:30",
        "version": 2,
        "updated_at": "2026-11-25T16:00:00Z",
    }
    again = await api.get("/markets/XNYS", role=OPS)
    assert again.headers["etag"] == '"2"'
    assert again.json()["name"] == "NYSE"


@pytest.mark.parametrize("header", ['"1"', "1", 'W/"1"'])
async def test_if_match_accepts_quoted_bare_and_weak_versions(
    api: Api, reference: None, header: str
) -> None:
    response = await api.patch(
        "/markets/XNYS", json={"name": "NYSE"}, headers={"If-Match": header}, role=OPS
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2


async def test_patch_with_stale_if_match_is_412_with_current_version(
    api: Api, reference: None
) -> None:
    await api.patch("/markets/XNYS", json={"name": "NYSE"}, headers=if_match(1), role=OPS)

    response = await api.patch(
        "/markets/XNYS", json={"name": "Big Board"}, headers=if_match(1), role=OPS
    )

    assert response.status_code == 412
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "https://settlement.example/problems/precondition-failed"
    assert body["current_version"] == 2
    assert (await api.get("/markets/XNYS", role=OPS)).json()["name"] == "NYSE"


@pytest.mark.parametrize("headers", [{}, {"If-Match": "*"}, {"If-Match": '"one"'}])
async def test_patch_without_a_usable_if_match_is_428(
    api: Api, reference: None, headers: dict[str, str]
) -> None:
    response = await api.patch("/markets/XNYS", json={"name": "NYSE"}, headers=headers, role=OPS)

    assert response.status_code == 428
    assert response.json()["type"] == "https://settlement.example/problems/precondition-required"
    assert (await api.get("/markets/XNYS", role=OPS)).json()["version"] == 1


async def test_patch_unknown_market_is_404(api: Api, reference: None) -> None:
    response = await api.patch("/markets/XLON", json={"name": "x"}, headers=if_match(1), role=OPS)

    assert response.status_code == 404
    assert response.json()["detail"] == "No market 'XLON'."


async def test_patch_that_changes_nothing_keeps_the_version(api: Api, reference: None) -> None:
    response = await api.patch(
        "/markets/XNYS",
        json={"name": "New York Stock Exchange", "settlement_calendars": ["XNYS", "FED"]},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == XNYS_BODY


async def test_empty_patch_keeps_the_version(api: Api, reference: None) -> None:
    response = await api.patch("/markets/XNYS", json={}, headers=if_match(1), role=OPS)

    assert response.status_code == 200
    assert response.json()["version"] == 1


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "timezone",
        "calendar",
        "settlement_calendars",
        "settlement_cycle_days",
        "affirmation_cutoff",
    ],
)
async def test_patch_setting_a_required_field_to_null_is_422_naming_it(
    api: Api, reference: None, field: str
) -> None:
    response = await api.patch("/markets/XNYS", json={field: None}, headers=if_match(1), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}
    assert (await api.get("/markets/XNYS", role=OPS)).json() == XNYS_BODY


async def test_patch_ccp_to_null_makes_the_market_bilateral(api: Api, reference: None) -> None:
    response = await api.patch("/markets/XNYS", json={"ccp": None}, headers=if_match(1), role=OPS)

    assert response.status_code == 200
    assert response.json()["ccp"] is None
    assert response.json()["version"] == 2


async def test_patch_replaces_the_effective_dated_cycle(api: Api, reference: None) -> None:
    cycle = [
        {"from": "2014-10-06", "days": 2},
        {"from": "2027-10-11", "days": 1},
        {"from": "2030-01-02", "days": 0},
    ]

    response = await api.patch(
        "/markets/XPAR", json={"settlement_cycle_days": cycle}, headers=if_match(1), role=OPS
    )

    assert response.status_code == 200
    assert (await api.get("/markets/XPAR", role=OPS)).json()["settlement_cycle_days"] == cycle


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"country": "GB"}, "country"),
        ({"mic": "XLON"}, "mic"),
        ({"calendar": "XXXX"}, "calendar"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"affirmation_cutoff": "25:00"}, "affirmation_cutoff"),
        ({"settlement_cycle_days": []}, "settlement_cycle_days"),
        ({"ccp": "DEUT1EFF"}, "ccp"),
    ],
)
async def test_invalid_patch_is_422_naming_the_field(
    api: Api, reference: None, patch: dict[str, Any], field: str
) -> None:
    response = await api.patch("/markets/XNYS", json=patch, headers=if_match(1), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Validation --------------------------------------------------------------------------------

STEP_T2 = {"from": "2014-10-06", "days": 2}
STEP_T1 = {"from": "2027-10-11", "days": 1}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"mic": "XLO"}, "mic", id="mic-three-characters"),
        pytest.param({"mic": "XL-N"}, "mic", id="mic-punctuation"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"country": "gbr"}, "country", id="country-not-iso-alpha2"),
        pytest.param({"calendar": "XXXX"}, "calendar", id="unknown-holidays-calendar"),
        pytest.param(
            {"settlement_calendars": ["XLON", "XXXX"]},
            "settlement_calendars[1]",
            id="unknown-settlement-calendar",
        ),
        pytest.param({"settlement_calendars": []}, "settlement_calendars", id="no-calendars"),
        pytest.param({"timezone": "Europe/Atlantis"}, "timezone", id="bad-timezone"),
        pytest.param({"affirmation_cutoff": "25:00"}, "affirmation_cutoff", id="cutoff-25h"),
        pytest.param({"affirmation_cutoff": "18:60"}, "affirmation_cutoff", id="cutoff-60min"),
        pytest.param({"affirmation_cutoff": "6pm"}, "affirmation_cutoff", id="cutoff-words"),
        pytest.param(
            {"settlement_cycle_days": [STEP_T1, STEP_T2]},
            "settlement_cycle_days",
            id="cycle-out-of-order",
        ),
        pytest.param(
            {"settlement_cycle_days": [STEP_T2, {**STEP_T2, "days": 1}]},
            "settlement_cycle_days",
            id="cycle-date-twice",
        ),
        pytest.param({"settlement_cycle_days": []}, "settlement_cycle_days", id="cycle-empty"),
        pytest.param(
            {"settlement_cycle_days": [{"from": "2014-10-06", "days": 11}]},
            "settlement_cycle_days[0].days",
            id="cycle-days-11",
        ),
        pytest.param(
            {"settlement_cycle_days": [{"from": "2014-10-06", "days": -1}]},
            "settlement_cycle_days[0].days",
            id="cycle-days-negative",
        ),
        pytest.param(
            {"settlement_cycle_days": [{"from": "2014-13-06", "days": 2}]},
            "settlement_cycle_days[0].from",
            id="cycle-bad-date",
        ),
        pytest.param(
            {"settlement_cycle_days": [{**STEP_T2, "until": "2027-10-10"}]},
            "settlement_cycle_days[0].until",
            id="cycle-step-extra-key",
        ),
        pytest.param({"ccp": "DEUT1EFF"}, "ccp", id="ccp-not-a-bic"),
        pytest.param({"unexpected": 1}, "unexpected", id="extra-field"),
    ],
)
async def test_invalid_market_is_422_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/markets", json=market_payload(**overrides), role=OPS)

    assert response.status_code == 422, response.text
    assert response.json()["type"] == "https://settlement.example/problems/validation-error"
    assert problem_fields(response) == {field}
    assert (await api.get("/markets/XLON", role=OPS)).status_code == 404


@pytest.mark.parametrize(
    "field", ["mic", "name", "country", "timezone", "calendar", "settlement_cycle_days"]
)
async def test_missing_required_market_field_is_422_naming_it(api: Api, field: str) -> None:
    payload = market_payload()
    del payload[field]

    response = await api.post("/markets", json=payload, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.post(
        "/markets",
        content=b'{"mic": "XLON",',
        headers={"Content-Type": "application/json"},
        role=OPS,
    )

    assert response.status_code == 400
    assert response.json()["type"] == "https://settlement.example/problems/malformed-json"


# Concurrency -------------------------------------------------------------------------------


async def test_concurrent_creates_of_one_market_book_it_once(api: Api) -> None:
    responses = await asyncio.gather(
        *(api.post("/markets", json=market_payload(), role=OPS) for _ in range(5))
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    listed = (await api.get("/markets", role=OPS)).json()["items"]
    assert [m["mic"] for m in listed] == ["XLON"]


async def test_concurrent_patches_from_one_version_let_exactly_one_win(
    api: Api, reference: None
) -> None:
    responses = await asyncio.gather(
        *(
            api.patch("/markets/XNYS", json={"name": f"NYSE {n}"}, headers=if_match(1), role=OPS)
            for n in range(5)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412, 412, 412, 412]
    [winner] = [r for r in responses if r.status_code == 200]
    assert {r.json()["current_version"] for r in responses if r.status_code == 412} == {2}
    stored = (await api.get("/markets/XNYS", role=OPS)).json()
    assert (stored["name"], stored["version"]) == (winner.json()["name"], 2)


async def test_a_market_that_settles_internally_says_so_and_can_be_changed(api: Api) -> None:
    created = await api.post(
        "/markets", json=market_payload(ccp=None, internal_settlement=True), role=OPS
    )
    assert created.status_code == 201, created.text
    assert created.json()["internal_settlement"] is True

    patched = await api.patch(
        "/markets/XLON", json={"internal_settlement": False}, headers=if_match(1), role=OPS
    )

    assert patched.status_code == 200, patched.text
    assert (patched.json()["internal_settlement"], patched.json()["version"]) == (False, 2)
    refused = await api.patch(
        "/markets/XLON", json={"internal_settlement": None}, headers=if_match(2), role=OPS
    )
    assert refused.status_code == 422


# Locked in -----------------------------------------------------------------------------------


async def test_a_locked_in_market_says_so_when_created_and_read(api: Api) -> None:
    created = await api.post("/markets", json=market_payload(locked_in=True), role=OPS)

    assert created.status_code == 201, created.text
    assert created.json()["locked_in"] is True
    read = await api.get("/markets/XLON", role="trader")
    assert (read.json()["locked_in"], read.json()["ccp"]) == (True, LCH_LTD)


async def test_of_the_demo_markets_only_xetra_is_locked_in(api: Api, reference: None) -> None:
    listed = (await api.get("/markets", role="compliance")).json()["items"]

    assert {m["mic"]: m["locked_in"] for m in listed} == {
        "XETR": True,
        "XNYS": False,
        "XOFF": False,
        "XPAR": False,
    }


async def test_patch_locks_a_market_in_and_back_out(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.advance(hours=1)
    locked = await api.patch(
        "/markets/XNYS", json={"locked_in": True}, headers=if_match(1), role=OPS
    )

    assert locked.status_code == 200, locked.text
    assert locked.headers["etag"] == '"2"'
    assert locked.json() == {
        **XNYS_BODY,
        "locked_in": True,
        "version": 2,
        "updated_at": "2026-11-25T16:00:00Z",
    }
    bilateral = await api.patch(
        "/markets/XNYS", json={"locked_in": False}, headers=if_match(2), role=OPS
    )
    assert (bilateral.json()["locked_in"], bilateral.json()["version"]) == (False, 3)


async def test_a_locked_in_market_without_a_ccp_is_422_naming_both(api: Api) -> None:
    response = await api.post("/markets", json=market_payload(ccp=None, locked_in=True), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"locked_in", "ccp"}
    assert response.json()["detail"].endswith(
        "a locked-in market needs a ccp: the CCP confirms its trades"
    )
    assert (await api.get("/markets/XLON", role=OPS)).status_code == 404


@pytest.mark.parametrize(
    ("mic", "patch"),
    [
        pytest.param("XOFF", {"locked_in": True}, id="lock-in-without-ccp"),
        pytest.param("XETR", {"ccp": None}, id="drop-the-ccp-of-a-locked-in-market"),
        pytest.param("XNYS", {"locked_in": True, "ccp": None}, id="both-at-once"),
    ],
)
async def test_patch_leaving_a_locked_in_market_without_ccp_is_422_and_changes_nothing(
    api: Api, reference: None, mic: str, patch: dict[str, Any]
) -> None:
    before = (await api.get(f"/markets/{mic}", role=OPS)).json()

    response = await api.patch(f"/markets/{mic}", json=patch, headers=if_match(1), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"locked_in", "ccp"}
    assert (await api.get(f"/markets/{mic}", role=OPS)).json() == before


@pytest.mark.parametrize("value", [None, "maybe", 2])
async def test_patch_locked_in_to_no_boolean_is_422(api: Api, reference: None, value: Any) -> None:
    response = await api.patch(
        "/markets/XNYS", json={"locked_in": value}, headers=if_match(1), role=OPS
    )

    assert response.status_code == 422
    assert problem_fields(response) == {"locked_in"}
    assert (await api.get("/markets/XNYS", role=OPS)).json() == XNYS_BODY


async def test_locking_a_market_in_is_for_operations(api: Api, reference: None) -> None:
    for role in ("trader", "gateway", "compliance", "admin"):
        refused = await api.patch(
            "/markets/XNYS", json={"locked_in": True}, headers=if_match(1), role=role
        )
        assert refused.status_code == 403, role
    anonymous = await api.patch(
        "/markets/XNYS", json={"locked_in": True}, headers=if_match(1), role=None
    )
    assert anonymous.status_code == 401
    assert (await api.get("/markets/XNYS", role=OPS)).json() == XNYS_BODY


# Partial settlement ----------------------------------------------------------------------------

PARTIAL_TERMS = {
    "partial_settlement": "PARC",
    "partial_cash_thresholds": {"gbp": "50000", "EUR": "10000.50"},
    "partial_settlement_windows": [
        {"from": "14:00", "to": "14:15"},
        {"from": "22:00", "to": "02:00"},
    ],
}


async def test_a_market_keeps_its_partial_settlement_terms(api: Api) -> None:
    created = await api.post("/markets", json=market_payload(**PARTIAL_TERMS), role=OPS)

    assert created.status_code == 201, created.text
    expected = {
        "partial_settlement": "PARC",
        "partial_cash_thresholds": {"GBP": "50000", "EUR": "10000.50"},
        "partial_settlement_windows": [
            {"from": "14:00", "to": "14:15"},
            {"from": "22:00", "to": "02:00"},
        ],
    }
    read = (await api.get("/markets/XLON", role="trader")).json()
    assert {name: read[name] for name in expected} == expected

    patched = await api.patch(
        "/markets/XLON",
        json={"partial_settlement": "PART", "partial_settlement_windows": []},
        headers=if_match(1),
        role=OPS,
    )

    assert patched.status_code == 200, patched.text
    assert {name: patched.json()[name] for name in expected} == {
        **expected,
        "partial_settlement": "PART",
        "partial_settlement_windows": [],
    }


async def test_the_demo_t2s_markets_settle_in_part_in_windows_the_others_never(
    api: Api, reference: None
) -> None:
    listed = (await api.get("/markets", role=OPS)).json()["items"]

    terms = {
        m["mic"]: (
            m["partial_settlement"],
            m["partial_cash_thresholds"],
            len(m["partial_settlement_windows"]),
        )
        for m in listed
    }
    assert terms == {
        "XETR": ("PART", {"EUR": "10000"}, 5),
        "XNYS": ("NPAR", {}, 0),
        "XOFF": ("NPAR", {}, 0),
        "XPAR": ("PART", {"EUR": "10000"}, 5),
    }


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        pytest.param({"partial_settlement": "PARX"}, "partial_settlement", id="unknown-code"),
        pytest.param({"partial_settlement": None}, "partial_settlement", id="null-indicator"),
        pytest.param(
            {"partial_cash_thresholds": {"EUR": "0"}}, "partial_cash_thresholds", id="zero"
        ),
        pytest.param(
            {"partial_cash_thresholds": {"EUR": "-5"}}, "partial_cash_thresholds", id="negative"
        ),
        pytest.param(
            {"partial_cash_thresholds": {"EUR": 10.5}},
            "partial_cash_thresholds.EUR",
            id="float",
        ),
        pytest.param(
            {"partial_cash_thresholds": {"EURO": "10"}},
            "partial_cash_thresholds.EURO.[key]",
            id="not-a-currency",
        ),
        pytest.param(
            {"partial_settlement_windows": [{"from": "24:00", "to": "01:00"}]},
            "partial_settlement_windows[0].from",
            id="no-such-time",
        ),
        pytest.param(
            {"partial_settlement_windows": [{"from": "14:00"}]},
            "partial_settlement_windows[0].to",
            id="no-end",
        ),
        pytest.param(
            {"partial_settlement_windows": [{"from": "14:00", "to": "14:00"}]},
            "partial_settlement_windows[0]",
            id="empty-window",
        ),
        pytest.param(
            {"partial_settlement_windows": [{"from": "14:00", "to": "14:15", "tz": "UTC"}]},
            "partial_settlement_windows[0].tz",
            id="unknown-key",
        ),
    ],
)
async def test_bad_partial_settlement_terms_are_422_naming_the_field(
    api: Api, terms: dict[str, Any], field: str
) -> None:
    response = await api.post("/markets", json=market_payload(**terms), role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}
    assert (await api.get("/markets/XLON", role=OPS)).status_code == 404


async def test_the_demo_has_markets_of_both_settlement_modes(api: Api, reference: None) -> None:
    listed = (await api.get("/markets", role=OPS)).json()["items"]

    assert {m["mic"]: (m["settlement_mode"], m["message_format"]) for m in listed} == {
        "XNYS": ("internal", "iso20022"),
        "XPAR": ("csd", "iso20022"),
        "XETR": ("csd", "iso15022"),
        "XOFF": ("internal", "iso20022"),
    }


async def test_a_market_becomes_csd_settled_by_patch(api: Api) -> None:
    await api.post("/markets", json=market_payload(), role=OPS)

    response = await api.patch(
        "/markets/XLON",
        json={"settlement_mode": "csd", "message_format": "iso15022"},
        headers=if_match(1),
        role=OPS,
    )

    assert response.status_code == 200, response.text
    assert (response.json()["settlement_mode"], response.json()["message_format"]) == (
        "csd",
        "iso15022",
    )


async def test_an_unknown_settlement_mode_is_refused_naming_the_field(api: Api) -> None:
    response = await api.post("/markets", json=market_payload(settlement_mode="ccp"), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"settlement_mode"}
