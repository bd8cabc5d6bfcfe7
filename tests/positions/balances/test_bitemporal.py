"""The book is bitemporal, over HTTP: an as-of trade booked three days late shows in the
effective (``as_of``) views from its trade date, in ``known_at`` views only from its booking,
and the entry that changed each past answer is found in the journal."""

from datetime import datetime
from typing import Any

from tests.factories import trade_payload
from tests.positions.conftest import positions
from tests.support import Api, FrozenClock, problem_fields

MONDAY_TRADE = trade_payload(trade_date="2026-11-23", trade_time="2026-11-23T15:10:00Z")
# 100 x 189.25 = 18925.00 of cost, average 189.25.
HELD = ("100", "18925.00", "189.25000000")


def held(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(p["quantity"], p["cost"], p["average_cost"]) for p in items]


async def test_an_as_of_trade_booked_three_days_late(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.set(datetime.fromisoformat("2026-11-26T10:00:00+00:00"))  # Thursday
    response = await api.post("/trades", json=MONDAY_TRADE, role="trader")
    assert response.status_code == 201, response.text
    trade = response.json()

    # The effective view: from Monday on, whenever asked.
    assert await positions(api, as_of="2026-11-20") == []
    for day in ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"):
        assert held(await positions(api, as_of=day)) == [HELD], day
    # What the book said: nothing until Thursday 10:00, whatever day is asked about.
    for day in ("2026-11-23", "2026-11-25"):
        assert await positions(api, as_of=day, known_at="2026-11-25T23:00:00Z") == [], day
        assert await positions(api, as_of=day, known_at="2026-11-26T09:59:59Z") == [], day
        known = await positions(api, as_of=day, known_at="2026-11-26T10:00:00Z")
        assert held(known) == [HELD], day
    assert await positions(api, known_at="2026-11-23T18:00:00Z") == []

    # Which entry changed Tuesday's answer since Wednesday evening: the trade's.
    changed = await api.get(
        "/journal-entries",
        params={"value_to": "2026-11-24", "booked_after": "2026-11-25T23:00:00Z"},
        role="compliance",
    )
    assert changed.status_code == 200, changed.text
    assert [(e["kind"], e["source_id"], e["value_date"]) for e in changed.json()["items"]] == [
        ("trade", trade["id"], "2026-11-23")
    ]
    before = await api.get(
        "/journal-entries",
        params={"value_to": "2026-11-24", "booked_to": "2026-11-25T23:00:00Z"},
        role="compliance",
    )
    assert before.json()["items"] == []


async def test_journal_booking_bounds_need_an_offset(api: Api, reference: None) -> None:
    for params, field in [
        ({"booked_after": "2026-11-25T23:00:00"}, "booked_after"),
        ({"booked_to": "yesterday"}, "booked_to"),
        ({"value_to": "2026-02-30"}, "value_to"),
        # Before the first representable instant once in UTC: refused, not a 500.
        ({"booked_after": "0001-01-01T00:00:00+14:00"}, "booked_after"),
    ]:
        response = await api.get("/journal-entries", params=params, role="compliance")
        assert response.status_code == 422, (params, response.text)
        assert problem_fields(response) == {field}, (params, response.text)
