"""PATCH /trades/{id}, POST /trades/{id}/cancel, GET /trades/{id}/history and ?as_of=."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.trades.capture.states import TradeEvent
from tests.conftest import Database
from tests.factories import bund_trade_payload, trade_payload
from tests.support import Api, FrozenClock, problem_fields, seal
from tests.trades.conftest import AdvanceTrade, BookTrade

TYPE_BASE = "https://settlement.example/problems/"


async def amend(
    api: Api, trade_id: str, changes: dict[str, Any], *, version: str | None = "1", **kw: Any
) -> httpx.Response:
    headers = dict(kw.pop("headers", {}))
    if version is not None:
        headers["If-Match"] = version
    return await api.patch(
        f"/trades/{trade_id}", json=changes, headers=headers, role="trader", **kw
    )


async def cancel(api: Api, trade_id: str, reason: str = "Booked in error") -> httpx.Response:
    return await api.post(f"/trades/{trade_id}/cancel", json={"reason": reason}, role="trader")


async def current(api: Api, trade_id: str) -> dict[str, Any]:
    response = await api.get(f"/trades/{trade_id}", role="trader")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# Amend ---------------------------------------------------------------------------------------


async def test_amend_quantity_bumps_version_and_recomputes_amounts(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    booked = await book_trade()
    clock.advance(hours=1)
    response = await amend(api, booked["id"], {"quantity": "150"}, version='"1"')

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["status"] == "captured"
    assert body["quantity"] == "150"
    # 150 x 189.25 = 28387.50; buy: + 1.50 + 0.02 = 28389.02.
    assert body["gross_amount"] == "28387.50"
    assert body["net_amount"] == "28389.02"
    assert body["settlement_date"] == "2026-11-25"
    assert body["updated_at"] == "2026-11-25T16:00:00Z"
    assert body["created_at"] == booked["created_at"] == "2026-11-25T15:00:00Z"
    assert response.headers["etag"] == '"2"'
    assert await current(api, booked["id"]) == body


async def test_amend_side_recomputes_net(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    response = await amend(api, booked["id"], {"side": "sell", "commission": "2.00"})
    assert response.status_code == 200, response.text
    # Sell: 18925.00 - 2.00 - 0.02 = 18922.98.
    assert response.json()["net_amount"] == "18922.98"
    assert response.json()["commission"] == "2.00"


async def test_amend_bund_nominal_recomputes_accrued_interest(api: Api, reference: None) -> None:
    created = await api.post("/trades", json=bund_trade_payload(), role="trader")
    assert created.status_code == 201, created.text
    response = await amend(api, created.json()["id"], {"quantity": "2000000"})
    assert response.status_code == 200, response.text
    body = response.json()
    # 2,000,000 x 78.50 / 100 = 1,570,000.00; accrued 2,000,000 x 0.018 x 103 / 365
    # = 3,708,000 / 365 = 10158.904... -> 10158.90; net 1,580,158.90.
    assert body["gross_amount"] == "1570000.00"
    assert body["accrued_interest"] == "10158.90"
    assert body["net_amount"] == "1580158.90"


async def test_amend_of_a_confirmed_trade_sends_it_back_to_captured(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> None:
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_MATCHED)
    confirmed = await current(api, booked["id"])
    assert (confirmed["status"], confirmed["version"]) == ("confirmed", 2)

    response = await amend(api, booked["id"], {"price": "189.30"}, version="2")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["version"]) == ("captured", 3)
    # 100 x 189.30 = 18930.00; + 1.52 = 18931.52.
    assert body["gross_amount"] == "18930.00"
    assert body["net_amount"] == "18931.52"


async def test_amend_of_a_mismatched_trade_sends_it_back_to_captured(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> None:
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_UNMATCHED)
    response = await amend(api, booked["id"], {"quantity": "90"}, version="2")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["version"]) == ("captured", 3)


@pytest.mark.parametrize("stale", ["0", "2", '"7"', 'W/"2"'])
async def test_amend_with_a_stale_if_match_is_412(
    api: Api, book_trade: BookTrade, stale: str
) -> None:
    booked = await book_trade()
    response = await amend(api, booked["id"], {"quantity": "150"}, version=stale)
    assert response.status_code == 412, response.text
    assert response.json()["type"] == TYPE_BASE + "precondition-failed"
    assert response.json()["current_version"] == 1
    assert await current(api, booked["id"]) == booked


async def test_amend_after_another_amend_with_the_old_version_is_412(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    assert (await amend(api, booked["id"], {"quantity": "150"})).status_code == 200
    late = await amend(api, booked["id"], {"quantity": "200"}, version="1")
    assert late.status_code == 412
    assert late.json()["current_version"] == 2
    assert (await current(api, booked["id"]))["quantity"] == "150"


@pytest.mark.parametrize("header", [None, "", "latest", "*"])
async def test_amend_without_a_usable_if_match_is_428(
    api: Api, book_trade: BookTrade, header: str | None
) -> None:
    booked = await book_trade()
    response = await amend(api, booked["id"], {"quantity": "150"}, version=header)
    assert response.status_code == 428, response.text
    assert response.json()["type"] == TYPE_BASE + "precondition-required"
    assert await current(api, booked["id"]) == booked


async def test_amend_after_cleared_is_409_invalid_transition(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> None:
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_MATCHED, TradeEvent.CLEARED)
    response = await amend(api, booked["id"], {"quantity": "150"}, version="3")
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"].endswith("invalid-transition")
    assert (body["current_status"], body["event"]) == ("cleared", "amended")
    after = await current(api, booked["id"])
    assert (after["status"], after["version"], after["quantity"]) == ("cleared", 3, "100")


async def test_amend_of_a_cancelled_trade_is_409(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    assert (await cancel(api, booked["id"])).status_code == 200
    response = await amend(api, booked["id"], {"quantity": "150"}, version="2")
    assert response.status_code == 409
    assert response.json()["type"].endswith("invalid-transition")


async def test_amend_of_price_keeps_a_client_settlement_date(
    api: Api, book_trade: BookTrade
) -> None:
    # T+1 would be Wed 25; the client asked for Mon 30.
    booked = await book_trade(settlement_date="2026-11-30")
    response = await amend(api, booked["id"], {"price": "190.00"})
    assert response.status_code == 200, response.text
    assert response.json()["settlement_date"] == "2026-11-30"
    # 100 x 190.00 = 19000.00; + 1.52 = 19001.52.
    assert response.json()["net_amount"] == "19001.52"


async def test_amend_of_trade_date_recomputes_the_settlement_date(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade(settlement_date="2026-11-30")
    # Mon 23 Nov, T+1: Tue 24; the client's earlier date no longer follows from the trade.
    response = await amend(
        api, booked["id"], {"trade_date": "2026-11-23", "trade_time": "2026-11-23T15:00:00Z"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["trade_date"] == "2026-11-23"
    assert response.json()["settlement_date"] == "2026-11-24"


async def test_amend_of_trade_date_with_a_settlement_date_keeps_the_one_sent(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    response = await amend(
        api, booked["id"], {"trade_date": "2026-11-23", "settlement_date": "2026-11-27"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["settlement_date"] == "2026-11-27"


async def test_amend_of_venue_recomputes_the_settlement_date(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    # JPM traded on XPAR: T+2 on TARGET from Tue 24 -> Thu 26.
    response = await amend(api, booked["id"], {"venue": "XPAR"})
    assert response.status_code == 200, response.text
    assert response.json()["settlement_date"] == "2026-11-26"


async def test_amend_with_no_change_keeps_the_version(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    response = await amend(api, booked["id"], {"quantity": "100", "price": "189.25"})
    assert response.status_code == 200, response.text
    assert response.json() == booked
    history = (await api.get(f"/trades/{booked['id']}/history", role="trader")).json()
    assert [h["action"] for h in history] == ["captured"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": "0"}, "price"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": 150.0}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"side": "hold"}, "side"),
        ({"commission": "1.505"}, "commission"),
        ({"fees": "-1"}, "fees"),
        ({"trade_date": "2026-11-26"}, "trade_date"),
        ({"trade_date": "2026-11-21"}, "trade_date"),
        ({"trade_date": "9999-12-31"}, "trade_date"),
        ({"trade_time": "2026-11-24T14:31:05"}, "trade_time"),
        ({"trade_time": "0001-01-01T00:00:00+14:00"}, "trade_time"),
        ({"settlement_date": "2026-11-26"}, "settlement_date"),
        ({"settlement_date": "2026-11-23"}, "settlement_date"),
        ({"venue": "XLON"}, "venue"),
        ({"counterparty_lei": "W22LROWP2IHZNBB6K528"}, "counterparty_lei"),
        ({"accrued_interest": "1.00"}, "accrued_interest"),
        ({"book": "FI-RATES"}, "book"),  # not amendable: book a new trade instead
        ({"isin": "FR0000120271"}, "isin"),
        ({"status": "settled"}, "status"),
        ({"version": 9}, "version"),
    ],
)
async def test_bad_amendment_is_422_and_changes_nothing(
    api: Api, book_trade: BookTrade, changes: dict[str, Any], field: str
) -> None:
    booked = await book_trade()
    response = await amend(api, booked["id"], changes)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    after = await current(api, booked["id"])
    assert after == booked
    assert after["version"] == 1


async def test_amend_of_an_unknown_trade_is_404(api: Api, reference: None) -> None:
    response = await amend(api, "trd_nothing", {"quantity": "150"})
    assert response.status_code == 404


# Cancel --------------------------------------------------------------------------------------


async def test_cancel_sets_status_and_keeps_the_reason(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    response = await cancel(api, booked["id"], "Booked in error: wrong account")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["version"]) == ("cancelled", 2)
    assert body["cancel_reason"] == "Booked in error: wrong account"
    changed = ("status", "version", "cancel_reason")
    assert {k: v for k, v in body.items() if k not in changed} == {
        k: v for k, v in booked.items() if k not in changed
    }
    history = (await api.get(f"/trades/{booked['id']}/history", role="compliance")).json()
    assert history[-1]["after"]["cancel_reason"] == "Booked in error: wrong account"
    assert history[-1]["before"]["cancel_reason"] is None


async def test_cancel_of_a_confirmed_trade_is_allowed(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> None:
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_MATCHED)
    response = await cancel(api, booked["id"])
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == ("cancelled", 3)


async def test_cancel_twice_is_409(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    assert (await cancel(api, booked["id"], "first")).status_code == 200
    again = await cancel(api, booked["id"], "second")
    assert again.status_code == 409
    assert again.json()["type"].endswith("invalid-transition")
    history = (await api.get(f"/trades/{booked['id']}/history", role="trader")).json()
    assert history[-1]["after"]["cancel_reason"] == "first"


async def test_cancel_after_cleared_is_409(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> None:
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_MATCHED, TradeEvent.CLEARED)
    response = await cancel(api, booked["id"])
    assert response.status_code == 409
    assert response.json()["type"].endswith("invalid-transition")
    assert (await current(api, booked["id"]))["status"] == "cleared"


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "a\u0000b"}, {"reason": 5}],
)
async def test_cancel_needs_a_reason(api: Api, book_trade: BookTrade, body: Any) -> None:
    booked = await book_trade()
    response = await api.post(f"/trades/{booked['id']}/cancel", json=body, role="trader")
    assert response.status_code == 422, response.text
    assert "reason" in problem_fields(response)
    assert (await current(api, booked["id"]))["status"] == "captured"


async def test_cancel_of_an_unknown_trade_is_404(api: Api, reference: None) -> None:
    assert (await cancel(api, "trd_nothing")).status_code == 404


# History and as_of ---------------------------------------------------------------------------


async def test_history_lists_each_change_with_actor_and_request_id(
    api: Api, reference: None, clock: FrozenClock, db: Database
) -> None:
    created = await api.post(
        "/trades", json=trade_payload(), role="trader", headers={"X-Request-ID": "req-capture"}
    )
    assert created.status_code == 201
    trade_id = created.json()["id"]
    assert created.headers["x-request-id"] == "req-capture"
    clock.advance(minutes=10)
    amended = await amend(api, trade_id, {"quantity": "150"}, headers={"X-Request-ID": "req-amend"})
    assert amended.status_code == 200
    clock.advance(minutes=10)
    cancelled = await api.post(
        f"/trades/{trade_id}/cancel",
        json={"reason": "Booked in error"},
        role="trader",
        headers={"X-Request-ID": "req-cancel"},
    )
    assert cancelled.status_code == 200

    response = await api.get(f"/trades/{trade_id}/history", role="compliance")
    assert response.status_code == 200
    history = response.json()
    assert [h["action"] for h in history] == ["captured", "amended", "cancelled"]
    assert [h["request_id"] for h in history] == ["req-capture", "req-amend", "req-cancel"]
    assert {h["actor_role"] for h in history} == {"trader"}
    assert [h["occurred_at"] for h in history] == [
        "2026-11-25T15:00:00Z",
        "2026-11-25T15:10:00Z",
        "2026-11-25T15:20:00Z",
    ]
    # In the order they were made at once; their places in the chain once sealed.
    assert [h["seq"] for h in history] == [None, None, None]
    await seal(db.sessionmaker)
    sealed = (await api.get(f"/trades/{trade_id}/history", role="compliance")).json()
    seqs = [h["seq"] for h in sealed]
    assert seqs == sorted(seqs)
    assert [h["action"] for h in sealed] == ["captured", "amended", "cancelled"]

    captured, amended_entry, cancelled_entry = history
    assert captured["before"] is None
    assert captured["after"]["quantity"] == "100"
    assert captured["after"]["version"] == 1
    assert amended_entry["before"]["quantity"] == "100"
    assert amended_entry["before"]["gross_amount"] == "18925.00"
    assert amended_entry["after"]["quantity"] == "150"
    assert amended_entry["after"]["gross_amount"] == "28387.50"
    assert amended_entry["after"]["version"] == 2
    assert cancelled_entry["before"]["status"] == "captured"
    assert cancelled_entry["after"]["status"] == "cancelled"
    assert cancelled_entry["after"]["cancel_reason"] == "Booked in error"
    assert cancelled_entry["after"]["version"] == 3


async def test_history_of_an_unknown_trade_is_404(api: Api, reference: None) -> None:
    assert (await api.get("/trades/trd_nothing/history", role="trader")).status_code == 404


async def test_as_of_answers_the_trade_as_it_stood(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    booked = await book_trade()  # at 15:00
    clock.advance(hours=1)
    amended = await amend(api, booked["id"], {"quantity": "150"})  # at 16:00
    assert amended.status_code == 200

    async def as_of(moment: str) -> httpx.Response:
        return await api.get(f"/trades/{booked['id']}", params={"as_of": moment}, role="trader")

    between = await as_of("2026-11-25T15:30:00Z")
    assert between.status_code == 200, between.text
    assert between.json() == booked
    assert between.headers["etag"] == '"1"'

    # The same instant written with an offset: 10:30 in New York.
    assert (await as_of("2026-11-25T10:30:00-05:00")).json() == booked

    at_amend = await as_of("2026-11-25T16:00:00Z")
    assert at_amend.json() == amended.json()
    assert at_amend.json()["version"] == 2

    at_capture = await as_of("2026-11-25T15:00:00Z")
    assert at_capture.json()["version"] == 1


async def test_as_of_before_capture_is_404(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()  # at 15:00
    response = await api.get(
        f"/trades/{booked['id']}", params={"as_of": "2026-11-25T14:59:59Z"}, role="trader"
    )
    assert response.status_code == 404
    assert response.json()["type"] == TYPE_BASE + "not-found"


@pytest.mark.parametrize(
    "moment", ["2026-11-25T15:30:00", "yesterday", "0001-01-01T00:00:00+14:00"]
)
async def test_as_of_must_be_a_timestamp_with_an_offset(
    api: Api, book_trade: BookTrade, moment: str
) -> None:
    booked = await book_trade()
    response = await api.get(f"/trades/{booked['id']}", params={"as_of": moment}, role="trader")
    assert response.status_code == 422, response.text
    assert "as_of" in problem_fields(response)


async def test_as_of_of_an_unknown_trade_is_404(api: Api, reference: None) -> None:
    response = await api.get(
        "/trades/trd_nothing",
        params={"as_of": datetime(2026, 11, 25, tzinfo=UTC).isoformat()},
        role="trader",
    )
    assert response.status_code == 404


# Lifecycle transitions through the service ---------------------------------------------------


async def test_two_transitions_in_one_unit_of_work_both_apply(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> None:
    # Regression: the second transition re-read the row with populate_existing before the first
    # was flushed, found 'captured' again and refused 'cleared'.
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_MATCHED, TradeEvent.CLEARED)
    after = await current(api, booked["id"])
    assert (after["status"], after["version"]) == ("cleared", 3)
    history = (await api.get(f"/trades/{booked['id']}/history", role="trader")).json()
    assert [h["action"] for h in history] == ["captured", "confirmation_matched", "cleared"]
    assert [h["after"]["version"] for h in history] == [1, 2, 3]
    assert history[1]["actor_role"] == "admin"  # the system actor
    assert history[1]["actor_key_id"] == "system"
