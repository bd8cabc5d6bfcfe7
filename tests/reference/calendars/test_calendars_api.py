"""/calendars/{mic}/business-days and /markets/{mic}/closed-days."""

from typing import Any

import pytest

from tests.support import Api, problem_fields

OPS = "operations"


async def business_days(
    api: Api, mic: str, start: str, end: str, kind: str | None = None
) -> dict[str, Any]:
    params = {"from": start, "to": end} | ({"kind": kind} if kind else {})
    response = await api.get(f"/calendars/{mic}/business-days", params=params, role="trader")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_nyse_is_closed_on_thanksgiving(api: Api, reference: None) -> None:
    body = await business_days(api, "XNYS", "2026-11-23", "2026-11-30")

    assert body == {
        "mic": "XNYS",
        "calendars": ["XNYS"],
        "business_days": [
            "2026-11-23",
            "2026-11-24",
            "2026-11-25",
            "2026-11-27",
            "2026-11-30",
        ],
    }


async def test_us_settlement_calendar_adds_the_fed_veterans_day_closure(
    api: Api, reference: None
) -> None:
    trading = await business_days(api, "XNYS", "2026-11-09", "2026-11-13", kind="trading")
    settlement = await business_days(api, "XNYS", "2026-11-09", "2026-11-13", kind="settlement")

    assert trading["calendars"] == ["XNYS"]
    assert trading["business_days"] == [
        "2026-11-09",
        "2026-11-10",
        "2026-11-11",
        "2026-11-12",
        "2026-11-13",
    ]
    assert settlement["calendars"] == ["XNYS", "FED"]
    assert settlement["business_days"] == ["2026-11-09", "2026-11-10", "2026-11-12", "2026-11-13"]


async def test_kind_defaults_to_trading(api: Api, reference: None) -> None:
    body = await business_days(api, "XNYS", "2026-11-11", "2026-11-11")

    assert body["business_days"] == ["2026-11-11"]


async def test_euro_settlement_follows_target_over_easter(api: Api, reference: None) -> None:
    body = await business_days(api, "XPAR", "2027-03-24", "2027-03-31", kind="settlement")

    assert body == {
        "mic": "XPAR",
        "calendars": ["XECB"],
        "business_days": ["2027-03-24", "2027-03-25", "2027-03-30", "2027-03-31"],
    }


async def test_xetra_closes_on_christmas_eve_and_new_years_eve_while_target_settles(
    api: Api, reference: None
) -> None:
    trading = await business_days(api, "XETR", "2026-12-21", "2026-12-31", kind="trading")
    settlement = await business_days(api, "XETR", "2026-12-21", "2026-12-31", kind="settlement")

    assert trading["business_days"] == [
        "2026-12-21",
        "2026-12-22",
        "2026-12-23",
        "2026-12-28",
        "2026-12-29",
        "2026-12-30",
    ]
    assert settlement["business_days"] == [
        "2026-12-21",
        "2026-12-22",
        "2026-12-23",
        "2026-12-24",
        "2026-12-28",
        "2026-12-29",
        "2026-12-30",
        "2026-12-31",
    ]


async def test_a_weekend_only_range_is_empty(api: Api, reference: None) -> None:
    body = await business_days(api, "XETR", "2026-11-28", "2026-11-29")

    assert body["business_days"] == []


async def test_lower_case_mic_is_accepted(api: Api, reference: None) -> None:
    body = await business_days(api, "xnys", "2026-11-24", "2026-11-24")

    assert body["mic"] == "XNYS"
    assert body["business_days"] == ["2026-11-24"]


@pytest.mark.parametrize("kind", ["trading", "settlement"])
async def test_a_closed_day_added_as_data_disappears_from_both_calendars(
    api: Api, reference: None, kind: str
) -> None:
    added = await api.post(
        "/markets/XNYS/closed-days",
        json={"day": "2026-11-25", "reason": "National day of mourning"},
        role=OPS,
    )
    assert added.status_code == 201, added.text

    body = await business_days(api, "XNYS", "2026-11-23", "2026-11-30", kind=kind)

    assert body["business_days"] == ["2026-11-23", "2026-11-24", "2026-11-27", "2026-11-30"]


async def test_a_closed_day_applies_to_its_own_market_only(api: Api, reference: None) -> None:
    await api.post(
        "/markets/XNYS/closed-days", json={"day": "2026-11-25", "reason": "Outage"}, role=OPS
    )

    body = await business_days(api, "XETR", "2026-11-25", "2026-11-25")

    assert body["business_days"] == ["2026-11-25"]


# Closed days -------------------------------------------------------------------------------


async def test_add_closed_day_answers_201_with_the_row(api: Api, reference: None) -> None:
    response = await api.post(
        "/markets/xnys/closed-days",
        json={"day": "2026-12-24", "reason": "  Presidential day of mourning "},
        role=OPS,
    )

    assert response.status_code == 201
    assert response.json() == {
        "mic": "XNYS",
        "day": "2026-12-24",
        "reason": "Presidential day of mourning",
        "created_at": "2026-11-25T15:00:00Z",
    }


async def test_closed_days_are_listed_in_date_order(api: Api, reference: None) -> None:
    for day in ("2026-12-31", "2026-12-24"):
        await api.post("/markets/XNYS/closed-days", json={"day": day, "reason": "Outage"}, role=OPS)

    response = await api.get("/markets/XNYS/closed-days", role="compliance")

    assert response.status_code == 200
    assert [(d["mic"], d["day"]) for d in response.json()] == [
        ("XNYS", "2026-12-24"),
        ("XNYS", "2026-12-31"),
    ]
    assert (await api.get("/markets/XPAR/closed-days", role=OPS)).json() == []


async def test_the_same_closed_day_twice_is_409(api: Api, reference: None) -> None:
    payload = {"day": "2026-12-24", "reason": "Outage"}
    await api.post("/markets/XNYS/closed-days", json=payload, role=OPS)

    response = await api.post("/markets/XNYS/closed-days", json=payload, role=OPS)

    assert response.status_code == 409
    assert response.json()["detail"] == "The market closed day 'XNYS/2026-12-24' already exists."


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_closed_days_of_an_unknown_market_are_404(
    api: Api, reference: None, method: str
) -> None:
    response = await api.request(
        method,
        "/markets/XLON/closed-days",
        json={"day": "2026-12-24", "reason": "Outage"} if method == "POST" else None,
        role=OPS,
    )

    assert response.status_code == 404
    assert response.json()["detail"] == "No market 'XLON'."


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"day": "2026-02-30", "reason": "Outage"}, "day"),
        ({"day": "2026-12-24", "reason": ""}, "reason"),
        ({"day": "2026-12-24"}, "reason"),
        ({"reason": "Outage"}, "day"),
        ({"day": "2026-12-24", "reason": "Outage", "hours": "all"}, "hours"),
    ],
)
async def test_invalid_closed_day_is_422_naming_the_field(
    api: Api, reference: None, payload: dict[str, Any], field: str
) -> None:
    response = await api.post("/markets/XNYS/closed-days", json=payload, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}


# Bad requests ------------------------------------------------------------------------------


async def test_to_before_from_is_422_naming_to(api: Api, reference: None) -> None:
    response = await api.get(
        "/calendars/XNYS/business-days",
        params={"from": "2026-11-30", "to": "2026-11-23"},
        role="trader",
    )

    assert response.status_code == 422
    assert problem_fields(response) == {"to"}


async def test_a_range_over_ten_years_is_422(api: Api, reference: None) -> None:
    response = await api.get(
        "/calendars/XNYS/business-days",
        params={"from": "2010-01-01", "to": "2020-12-31"},
        role="trader",
    )

    assert response.status_code == 422
    assert problem_fields(response) == {"to"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-11-30"}, "from"),
        ({"from": "2026-11-23"}, "to"),
        ({"from": "2026-11-23", "to": "2026-11-31"}, "to"),
        ({"from": "2026-11-23", "to": "2026-11-30", "kind": "clearing"}, "kind"),
    ],
)
async def test_bad_query_is_422_naming_the_parameter(
    api: Api, reference: None, params: dict[str, str], field: str
) -> None:
    response = await api.get("/calendars/XNYS/business-days", params=params, role="trader")

    assert response.status_code == 422
    assert problem_fields(response) == {field}


async def test_business_days_of_an_unknown_market_are_404(api: Api, reference: None) -> None:
    response = await api.get(
        "/calendars/XLON/business-days",
        params={"from": "2026-11-23", "to": "2026-11-30"},
        role="trader",
    )

    assert response.status_code == 404
    assert response.json()["detail"] == "No market 'XLON'."
