"""GET /reports/unaffirmed and POST /affirmation-deadline-runs over HTTP.

XNYS's affirmation cutoff is 21:00 New York time on trade date; in late November New York is on
EST (UTC-5), so a trade of Tue 2026-11-24 must be affirmed by 2026-11-25T02:00Z. Euronext Paris
uses 19:00 Paris time (CET, UTC+1): 18:00Z on trade date. US clocks fell back on Sun 2026-11-01
(02:00 EDT -> 01:00 EST): a trade of Fri 2026-10-30 (EDT, UTC-4) is due 2026-10-31T01:00Z, one of
Mon 2026-11-02 (EST) 2026-11-03T02:00Z.
"""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.trades.capture.states import TradeEvent
from app.trades.deadline_runs import service as deadline_runs
from tests.conftest import Database
from tests.factories import DEUTSCHE, GOLDMAN, TOTAL
from tests.support import Api, FrozenClock, problem_fields
from tests.trades.confirmations.factories import (
    confirm,
    confirmation_payload,
    get_json,
    key_id,
    trade_status,
)
from tests.trades.conftest import AdvanceTrade, BookTrade

TYPE_BASE = "https://settlement.example/problems/"


def utc(day: int, hour: int, minute: int = 0, second: int = 0, *, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def row(
    trade: dict[str, Any],
    *,
    cutoff: str,
    time_left: int = 0,
    overdue_by: int = 0,
    status: str = "captured",
) -> dict[str, Any]:
    """One line of the report, as the API answers it."""
    return {
        "trade_id": trade["id"],
        "external_id": trade["external_id"],
        "book": trade["book"],
        "counterparty_lei": trade["counterparty_lei"],
        "venue": trade["venue"],
        "trade_date": trade["trade_date"],
        "status": status,
        "cutoff": cutoff,
        "overdue": overdue_by > 0 or time_left == 0,
        "time_left_seconds": time_left,
        "overdue_by_seconds": overdue_by,
    }


async def report(api: Api, query: str = "", role: str = "operations") -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = await get_json(api, f"/reports/unaffirmed{query}", role=role)
    return body


async def run(api: Api, role: str = "operations") -> dict[str, Any]:
    response = await api.post("/affirmation-deadline-runs", role=role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def overdue_events(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        events = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.event_type == "trade.affirmation_overdue")
                .order_by(AuditRecord.id)
            )
        ).all()
    assert {e.entity_type for e in events} <= {"trade"}
    return [e.entity_id for e in events]


# The report ----------------------------------------------------------------------------------


async def test_a_trade_approaching_its_cutoff_is_listed_with_the_time_left(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    clock.set(utc(24, 20))  # 15:00 in New York on trade date: six hours to go
    booked = await book_trade()
    cutoff = "2026-11-25T02:00:00Z"

    assert await report(api) == []  # the default window is two hours
    assert await report(api, "?within_minutes=359") == []
    assert await report(api, "?within_minutes=360") == [row(booked, cutoff=cutoff, time_left=21600)]

    clock.set(utc(25, 1))
    assert await report(api) == [row(booked, cutoff=cutoff, time_left=3600)]
    assert await report(api, "?within_minutes=59") == []
    clock.set(utc(25, 1, 59, 59))
    assert await report(api, "?within_minutes=0") == []
    assert await report(api) == [row(booked, cutoff=cutoff, time_left=1)]


async def test_at_and_after_the_cutoff_a_trade_is_overdue(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    clock.set(utc(24, 20))
    booked = await book_trade()
    cutoff = "2026-11-25T02:00:00Z"

    clock.set(utc(25, 2))  # the cutoff instant itself is already too late
    assert await report(api) == [row(booked, cutoff=cutoff, overdue_by=0)]
    assert (await report(api))[0]["overdue"] is True
    clock.set(utc(25, 15))
    # Overdue trades are listed whatever the window.
    assert await report(api, "?within_minutes=0") == [row(booked, cutoff=cutoff, overdue_by=46800)]


async def test_confirmed_and_cancelled_trades_are_not_listed_but_mismatched_ones_are(
    api: Api, book_trade: BookTrade
) -> None:
    confirmed = await book_trade()
    await confirm(api, confirmation_payload(trade_reference=confirmed["external_id"]))
    assert await trade_status(api, confirmed["id"]) == ("confirmed", 2)
    mismatched = await book_trade(quantity="50")
    await confirm(
        api, confirmation_payload(trade_reference=mismatched["external_id"], quantity="40")
    )
    assert await trade_status(api, mismatched["id"]) == ("mismatched", 2)
    cancelled = await book_trade(quantity="70")
    response = await api.post(
        f"/trades/{cancelled['id']}/cancel", json={"reason": "Booked in error"}, role="trader"
    )
    assert response.status_code == 200

    assert await report(api) == [
        row(mismatched, cutoff="2026-11-25T02:00:00Z", overdue_by=46800, status="mismatched")
    ]


async def test_the_most_urgent_come_first_and_filters_apply(
    api: Api, book_trade: BookTrade
) -> None:
    # At the default 2026-11-25T15:00Z.
    new_york = await book_trade()  # due 2026-11-25T02:00Z: 13 h late
    paris = await book_trade(
        isin=TOTAL, counterparty_lei=DEUTSCHE, currency="EUR", venue="XPAR", price="61.37"
    )  # 19:00 CET on the 24th = 18:00Z: 21 h late
    monday = await book_trade(
        book="FI-RATES", trade_date="2026-11-23", trade_time="2026-11-23T15:00:00Z"
    )  # due 2026-11-24T02:00Z: 37 h late
    today = await book_trade(trade_date="2026-11-25", trade_time="2026-11-25T14:00:00Z")
    # due 2026-11-26T02:00Z: 11 h to go, outside the default window

    expected_monday = row(monday, cutoff="2026-11-24T02:00:00Z", overdue_by=133200)
    expected_paris = row(paris, cutoff="2026-11-24T18:00:00Z", overdue_by=75600)
    expected_new_york = row(new_york, cutoff="2026-11-25T02:00:00Z", overdue_by=46800)
    expected_today = row(today, cutoff="2026-11-26T02:00:00Z", time_left=39600)
    assert await report(api) == [expected_monday, expected_paris, expected_new_york]
    assert await report(api, "?within_minutes=660") == [
        expected_monday,
        expected_paris,
        expected_new_york,
        expected_today,
    ]
    assert await report(api, "?venue=XPAR") == [expected_paris]
    assert await report(api, "?venue=XNYS") == [expected_monday, expected_new_york]
    assert await report(api, "?book=FI-RATES") == [expected_monday]
    assert [r["counterparty_lei"] for r in await report(api, "?venue=XNYS")] == [GOLDMAN] * 2


async def test_the_cutoff_follows_new_york_back_to_standard_time(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    # 2026-11-03T01:30Z is 20:30 EST on Monday 2 November: half an hour before the cutoff. Read
    # with the summer offset (EDT), 21:00 would be 01:00Z and the trade already late.
    clock.set(utc(3, 1, 30))
    monday = await book_trade(trade_date="2026-11-02", trade_time="2026-11-02T15:00:00Z")
    friday = await book_trade(
        trade_date="2026-10-30", trade_time="2026-10-30T15:00:00Z", quantity="50"
    )
    assert monday["settlement_date"] == "2026-11-03"
    assert friday["settlement_date"] == "2026-11-02"

    # Friday's 21:00 EDT = 2026-10-31T01:00Z: 3 days and 30 minutes ago.
    expected_friday = row(friday, cutoff="2026-10-31T01:00:00Z", overdue_by=261000)
    assert await report(api) == [
        expected_friday,
        row(monday, cutoff="2026-11-03T02:00:00Z", time_left=1800),
    ]
    clock.set(utc(3, 2, 30))
    assert await report(api) == [
        {**expected_friday, "overdue_by_seconds": 264600},
        row(monday, cutoff="2026-11-03T02:00:00Z", overdue_by=1800),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?within_minutes=-1", "within_minutes"),
        ("?within_minutes=10081", "within_minutes"),
        ("?within_minutes=1.5", "within_minutes"),
        ("?venue=NY", "venue"),
        ("?limit=0", "limit"),
    ],
)
async def test_the_report_refuses_bad_parameters(
    api: Api, reference: None, query: str, field: str
) -> None:
    response = await api.get(f"/reports/unaffirmed{query}", role="operations")
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)


# The deadline run ----------------------------------------------------------------------------


async def test_the_run_flags_each_overdue_trade_once(
    api: Api,
    book_trade: BookTrade,
    advance_trade: AdvanceTrade,
    clock: FrozenClock,
    db: Database,
) -> None:
    # At the default 2026-11-25T15:00Z.
    late = await book_trade()
    late_mismatched = await book_trade(quantity="50")
    await confirm(
        api, confirmation_payload(trade_reference=late_mismatched["external_id"], quantity="40")
    )
    confirmed = await book_trade(quantity="70")
    await advance_trade(confirmed["id"], TradeEvent.CONFIRMATION_MATCHED)
    today = await book_trade(trade_date="2026-11-25", trade_time="2026-11-25T14:00:00Z")

    first = await run(api)

    overdue = sorted([late["id"], late_mismatched["id"]])
    assert first == {"flagged": 2, "trade_ids": overdue}
    assert sorted(await overdue_events(db)) == overdue
    assert await run(api) == {"flagged": 0, "trade_ids": []}
    assert sorted(await overdue_events(db)) == overdue
    # Flagging neither changes the trade's status nor its version.
    assert await trade_status(api, late["id"]) == ("captured", 1)
    assert await trade_status(api, late_mismatched["id"]) == ("mismatched", 2)

    clock.set(utc(26, 2))  # today's cutoff
    assert await run(api) == {"flagged": 1, "trade_ids": [today["id"]]}
    assert await run(api) == {"flagged": 0, "trade_ids": []}
    assert sorted(await overdue_events(db)) == sorted([*overdue, today["id"]])
    assert confirmed["id"] not in await overdue_events(db)


async def test_the_flag_is_audited_with_the_operations_key(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    late = await book_trade()
    response = await api.post(
        "/affirmation-deadline-runs", role="operations", headers={"X-Request-ID": "req-deadline"}
    )
    assert response.json() == {"flagged": 1, "trade_ids": [late["id"]]}
    operations = await key_id(api, "operations")
    async with db.sessionmaker() as session:
        audited = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.request_id == "req-deadline")
                .order_by(AuditRecord.id)
            )
        ).all()
        records = [r for r in audited if r.entity_type == "trade"]
        event = records[0]
    assert [(r.entity_id, r.action, r.actor_key_id) for r in records] == [
        (late["id"], "affirmation_overdue", operations)
    ]
    # The run itself is audited too, under the same request: started, then completed.
    runs = [(r.entity_type, r.action, r.actor_key_id) for r in audited if r not in records]
    assert runs == [
        ("affirmation_deadline_run", "started", operations),
        ("affirmation_deadline_run", "completed", operations),
    ]
    assert records[0].before is not None
    assert records[0].after is not None
    assert records[0].before["affirmation_overdue_at"] is None
    assert records[0].after["affirmation_overdue_at"] == "2026-11-25T15:00:00+00:00"
    assert event is not None
    assert (event.event_type, event.entity_id) == ("trade.affirmation_overdue", late["id"])
    history = await get_json(api, f"/trades/{late['id']}/history", role="compliance")
    assert [h["action"] for h in history] == ["captured", "affirmation_overdue"]


async def test_a_run_works_through_the_trades_a_chunk_at_a_time(
    api: Api, book_trade: BookTrade, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadline_runs, "CHUNK", 2)
    late = sorted([(await book_trade())["id"] for _ in range(5)])

    assert await run(api) == {"flagged": 5, "trade_ids": late}
    assert sorted(await overdue_events(db)) == late
    assert await run(api) == {"flagged": 0, "trade_ids": []}


async def test_a_run_with_nothing_overdue_flags_nothing(
    api: Api, book_trade: BookTrade, clock: FrozenClock, db: Database
) -> None:
    clock.set(utc(24, 20))
    await book_trade()
    assert await run(api) == {"flagged": 0, "trade_ids": []}
    assert await overdue_events(db) == []


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_may_run_the_deadline(
    api: Api, book_trade: BookTrade, role: str, db: Database
) -> None:
    await book_trade()
    response = await api.post("/affirmation-deadline-runs", role=role)
    assert response.status_code == 403
    assert response.json()["type"] == TYPE_BASE + "forbidden"
    assert await overdue_events(db) == []


async def test_the_run_without_a_key_is_401(api: Api, reference: None) -> None:
    assert (await api.post("/affirmation-deadline-runs")).status_code == 401


@pytest.mark.parametrize("role", ["trader", "gateway", "operations", "compliance"])
async def test_the_report_is_readable_by_business_roles(
    api: Api, book_trade: BookTrade, role: str
) -> None:
    booked = await book_trade()
    assert [r["trade_id"] for r in await report(api, role=role)] == [booked["id"]]


async def test_the_report_is_refused_to_admin_and_without_a_key(api: Api, reference: None) -> None:
    assert (await api.get("/reports/unaffirmed", role="admin")).status_code == 403
    assert (await api.get("/reports/unaffirmed")).status_code == 401
