"""Edges of confirmation and the affirmation deadline found in review."""

from datetime import UTC, datetime

import pytest

from tests.factories import trade_payload
from tests.support import Api, FrozenClock, problem_fields
from tests.trades.confirmations.factories import confirmation_payload


@pytest.mark.parametrize("field", ["quantity", "price", "net_amount"])
@pytest.mark.parametrize("value", ["0", "-100"])
async def test_non_positive_amounts_are_refused(api: Api, field: str, value: str) -> None:
    response = await api.post(
        "/confirmations", json=confirmation_payload(**{field: value}), role="gateway"
    )
    assert response.status_code == 422
    assert problem_fields(response) == {field}


async def test_a_new_trade_date_is_judged_against_its_own_cutoff(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    booked = (await api.post("/trades", json=trade_payload(), role="trader")).json()
    first = await api.post("/affirmation-deadline-runs", role="operations")
    assert first.json() == {"flagged": 1, "trade_ids": [booked["id"]]}

    amended = await api.patch(
        f"/trades/{booked['id']}",
        json={"trade_date": "2026-11-25", "trade_time": "2026-11-25T14:00:00Z"},
        role="trader",
        headers={"If-Match": '"1"'},
    )
    assert amended.status_code == 200, amended.text
    # The 2026-11-25 cutoff (21:00 New York = 2026-11-26T02:00Z) has not passed yet.
    assert (await api.post("/affirmation-deadline-runs", role="operations")).json()["flagged"] == 0
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    again = await api.post("/affirmation-deadline-runs", role="operations")
    assert again.json() == {"flagged": 1, "trade_ids": [booked["id"]]}


async def test_the_report_limit_counts_only_urgent_trades(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    # An older, overdue trade and a trade of today whose cutoff is far away.
    overdue = (await api.post("/trades", json=trade_payload(), role="trader")).json()
    await api.post(
        "/trades",
        json=trade_payload(trade_date="2026-11-25", trade_time="2026-11-25T14:00:00Z"),
        role="trader",
    )
    report = await api.get("/reports/unaffirmed?within_minutes=60&limit=1", role="operations")
    assert [row["trade_id"] for row in report.json()] == [overdue["id"]]


async def test_no_fitting_trade_among_several_is_alleged_not_a_guess(
    api: Api, reference: None
) -> None:
    for quantity in ("100", "200"):
        booked = await api.post("/trades", json=trade_payload(quantity=quantity), role="trader")
        assert booked.status_code == 201
    response = await api.post(
        "/confirmations", json=confirmation_payload(quantity="150"), role="gateway"
    )
    body = response.json()
    assert (body["status"], body["trade_id"], body["candidates"], body["reasons"]) == (
        "alleged",
        None,
        [],
        [],
    )
    trades = (await api.get("/trades", role="operations")).json()["items"]
    assert {trade["status"] for trade in trades} == {"captured"}
