"""POST /trades, GET /trades/{id}, GET /trades over HTTP: bodies, refusals, duplicates, roles."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.trades.capture.states import TradeEvent
from tests.factories import (
    BUND,
    DEUTSCHE,
    GOLDMAN,
    JPM,
    TOTAL,
    bund_trade_payload,
    trade_out,
    trade_payload,
)
from tests.support import Api, FrozenClock, problem_fields
from tests.trades.conftest import AdvanceTrade, BookTrade

PROBLEM = "application/problem+json"
TYPE_BASE = "https://settlement.example/problems/"


async def post_trade(api: Api, payload: Any, **kwargs: Any) -> Any:
    return await api.post("/trades", json=payload, role="trader", **kwargs)


# Capture ------------------------------------------------------------------------------------


async def test_capture_answers_201_with_every_field(api: Api, reference: None) -> None:
    payload = trade_payload(external_id="FO-20261124-000123")
    response = await post_trade(api, payload)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("trd_")
    # Tue 24 Nov, T+1 on XNYS + FED: settles Wed 25 Nov.
    # 100 x 189.25 = 18925.00; buy: + 1.50 + 0.02 = 18926.52.
    assert body == trade_out(payload, body["id"], gross_amount="18925.00", net_amount="18926.52")
    assert (body["external_id"], body["quantity"], body["settlement_date"]) == (
        "FO-20261124-000123",
        "100",
        "2026-11-25",
    )
    assert response.headers["location"] == f"/api/v1/trades/{body['id']}"


async def test_capture_of_a_sell_subtracts_charges(api: Api, reference: None) -> None:
    response = await post_trade(api, trade_payload(side="sell"))
    assert response.status_code == 201, response.text
    # 18925.00 - 1.50 - 0.02 = 18923.48.
    assert response.json()["net_amount"] == "18923.48"


async def test_capture_of_a_bund_computes_accrued_interest(api: Api, reference: None) -> None:
    response = await post_trade(api, bund_trade_payload())
    assert response.status_code == 201, response.text
    body = response.json()
    # Tue 24 Nov, T+2 on TARGET (XECB): Thu 26 Nov.
    assert body["settlement_date"] == "2026-11-26"
    # 1,000,000 x 78.50 / 100 = 785,000.00.
    assert body["gross_amount"] == "785000.00"
    # 2026-08-15 -> 2026-11-26 = 103 days of a 365-day coupon period:
    # 1,000,000 x 0.018 x 103 / 365 = 5079.452... -> 5079.45.
    assert body["accrued_interest"] == "5079.45"
    # 785,000.00 + 0 + 0 + 5,079.45.
    assert body["net_amount"] == "790079.45"
    assert body["isin"] == BUND


async def test_capture_of_a_bund_keeps_the_accrued_interest_given(
    api: Api, reference: None
) -> None:
    response = await post_trade(api, bund_trade_payload(accrued_interest="5000.00"))
    assert response.status_code == 201, response.text
    assert response.json()["accrued_interest"] == "5000.00"
    assert response.json()["net_amount"] == "790000.00"


async def test_capture_keeps_a_client_settlement_date(api: Api, reference: None) -> None:
    response = await post_trade(api, trade_payload(settlement_date="2026-11-30"))
    assert response.status_code == 201, response.text
    assert response.json()["settlement_date"] == "2026-11-30"


async def test_capture_accepts_integer_numbers_for_decimals(api: Api, reference: None) -> None:
    response = await post_trade(api, trade_payload(quantity=100, price=189, commission=0, fees=0))
    assert response.status_code == 201, response.text
    body = response.json()
    # Charges are USD amounts, shown with the currency's two decimals.
    assert (body["quantity"], body["price"], body["commission"], body["fees"]) == (
        "100",
        "189",
        "0.00",
        "0.00",
    )
    # 100 x 189 = 18900, in cents.
    assert body["gross_amount"] == "18900.00"
    assert body["net_amount"] == "18900.00"


async def test_trade_time_with_an_offset_is_answered_in_utc(api: Api, reference: None) -> None:
    # 09:31:05 in New York (UTC-5 in November) is 14:31:05 UTC.
    response = await post_trade(api, trade_payload(trade_time="2026-11-24T09:31:05-05:00"))
    assert response.status_code == 201, response.text
    assert response.json()["trade_time"] == "2026-11-24T14:31:05Z"
    got = await api.get(f"/trades/{response.json()['id']}", role="trader")
    assert got.json()["trade_time"] == "2026-11-24T14:31:05Z"


async def test_total_energies_settles_t_plus_2_in_eur(api: Api, reference: None) -> None:
    payload = trade_payload(
        isin=TOTAL,
        counterparty_lei=DEUTSCHE,
        currency="EUR",
        venue="XPAR",
        quantity="250",
        price="61.37",
        commission="3.00",
        fees="0.75",
        side="sell",
    )
    response = await post_trade(api, payload)
    assert response.status_code == 201, response.text
    body = response.json()
    # Tue 24 Nov, T+2 on TARGET: Thu 26 Nov (US Thanksgiving does not close TARGET).
    assert body["settlement_date"] == "2026-11-26"
    # 250 x 61.37 = 15342.50; sell: - 3.00 - 0.75 = 15338.75.
    assert body["gross_amount"] == "15342.50"
    assert body["net_amount"] == "15338.75"


async def test_get_by_id_answers_the_booked_trade(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    response = await api.get(f"/trades/{booked['id']}", role="trader")
    assert response.status_code == 200
    assert response.json() == booked
    assert response.headers["etag"] == '"1"'


async def test_get_of_an_unknown_trade_is_404(api: Api, reference: None) -> None:
    response = await api.get("/trades/trd_nothing", role="trader")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"] == TYPE_BASE + "not-found"


# Refusals through HTTP -----------------------------------------------------------------------


def _without(field: str) -> dict[str, Any]:
    payload = trade_payload()
    del payload[field]
    return payload


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    # Types and shapes (the schema).
    ("quantity as a JSON float", trade_payload(quantity=100.5), "quantity"),
    ("quantity not a number", trade_payload(quantity="abc"), "quantity"),
    ("quantity as a boolean", trade_payload(quantity=True), "quantity"),
    ("price NaN", trade_payload(price="NaN"), "price"),
    ("price with 13 decimals", trade_payload(price="1.0000000000001"), "price"),
    ("price too large", trade_payload(price="1" + "0" * 30), "price"),
    ("side hold", trade_payload(side="hold"), "side"),
    ("isin missing", _without("isin"), "isin"),
    ("trade_time missing", _without("trade_time"), "trade_time"),
    ("isin check digit wrong", trade_payload(isin="US46625H1006"), "isin"),
    (
        "lei check digits wrong",
        trade_payload(counterparty_lei="FOR8UP27PHTHYVLBNG31"),
        "counterparty_lei",
    ),
    ("currency not ISO 4217", trade_payload(currency="ABC"), "currency"),
    ("currency without minor units", trade_payload(currency="XAU"), "currency"),
    ("venue not a MIC", trade_payload(venue="NYSE!"), "venue"),
    ("trade_date not a date", trade_payload(trade_date="2026-13-01"), "trade_date"),
    ("trade_time naive", trade_payload(trade_time="2026-11-24T14:31:05"), "trade_time"),
    (
        "trade_time out of range in UTC",
        trade_payload(trade_time="0001-01-01T00:00:00+14:00"),
        "trade_time",
    ),
    ("external_id empty", trade_payload(external_id=""), "external_id"),
    ("external_id with a space", trade_payload(external_id="FO 1"), "external_id"),
    ("book with a NUL", trade_payload(book="EQ\u0000FLOW"), "book"),
    ("extra field", trade_payload(trader="jdoe"), "trader"),
    # Booking rules against reference data.
    ("unknown book", trade_payload(book="NO-SUCH-BOOK"), "book"),
    (
        "unknown counterparty",
        trade_payload(counterparty_lei="W22LROWP2IHZNBB6K528"),
        "counterparty_lei",
    ),
    ("unknown isin", trade_payload(isin="US0378331005"), "isin"),
    ("unknown venue", trade_payload(venue="XLON"), "venue"),
    ("wrong currency", trade_payload(currency="EUR"), "currency"),
    ("quantity 0", trade_payload(quantity="0"), "quantity"),
    ("quantity negative", trade_payload(quantity="-100"), "quantity"),
    ("quantity fractional share", trade_payload(quantity="100.5"), "quantity"),
    ("price 0", trade_payload(price="0"), "price"),
    ("price 9 decimals", trade_payload(price="189.123456789"), "price"),
    ("commission 3 decimals", trade_payload(commission="1.505"), "commission"),
    ("fees negative", trade_payload(fees="-0.02"), "fees"),
    ("trade date in the future", trade_payload(trade_date="2026-11-26"), "trade_date"),
    ("trade date far in the future", trade_payload(trade_date="9999-12-31"), "trade_date"),
    ("trade date on a weekend", trade_payload(trade_date="2026-11-21"), "trade_date"),
    ("trade date before any cycle", trade_payload(trade_date="1990-01-02"), "trade_date"),
    ("settlement before trade", trade_payload(settlement_date="2026-11-23"), "settlement_date"),
    ("settlement on Thanksgiving", trade_payload(settlement_date="2026-11-26"), "settlement_date"),
    ("trade_time in the future", trade_payload(trade_time="2026-11-25T15:05:01Z"), "trade_time"),
    ("accrued on an equity", trade_payload(accrued_interest="1.00"), "accrued_interest"),
    ("bond nominal below unit", bund_trade_payload(quantity="1000.005"), "quantity"),
    ("bond accrued 3 decimals", bund_trade_payload(accrued_interest="1.005"), "accrued_interest"),
    (
        "bond settling after maturity",
        bund_trade_payload(settlement_date="2053-08-15"),
        "settlement_date",
    ),
]


@pytest.mark.parametrize(
    ("payload", "field"),
    [pytest.param(payload, field, id=name) for name, payload, field in REFUSALS],
)
async def test_bad_input_is_422_naming_the_field(
    api: Api, reference: None, payload: dict[str, Any], field: str
) -> None:
    response = await post_trade(api, payload)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    body = response.json()
    assert body["type"] == TYPE_BASE + "validation-error"
    assert body["status"] == 422
    assert body["instance"] == "/api/v1/trades"
    listed = await api.get("/trades", role="trader")
    assert listed.json()["items"] == []


async def test_several_bad_fields_are_all_named(api: Api, reference: None) -> None:
    response = await post_trade(api, trade_payload(quantity="abc", side="hold", price=1.5))
    assert response.status_code == 422
    assert problem_fields(response) == {"quantity", "side", "price"}


async def test_several_rule_problems_are_all_named(api: Api, reference: None) -> None:
    payload = trade_payload(book="NO-SUCH-BOOK", price="0", fees="-0.02")
    response = await post_trade(api, payload)
    assert response.status_code == 422
    assert problem_fields(response) == {"book", "price", "fees"}


async def test_holiday_refusal_names_the_holiday(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    response = await post_trade(
        api, trade_payload(trade_date="2026-11-26", trade_time="2026-11-26T15:00:00Z")
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "trade_date",
            "message": "2026-11-26 is not a trading day at XNYS (Thanksgiving Day)",
        }
    ]


async def test_body_that_is_not_json_is_400(api: Api, reference: None) -> None:
    response = await api.post(
        "/trades",
        content=b'{"external_id": ',
        headers={"Content-Type": "application/json"},
        role="trader",
    )
    assert response.status_code == 400
    assert response.json()["type"] == TYPE_BASE + "malformed-json"


async def test_body_that_is_not_an_object_is_422(api: Api, reference: None) -> None:
    response = await api.post(
        "/trades",
        content=json.dumps([1, 2]),
        headers={"Content-Type": "application/json"},
        role="trader",
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)


# Duplicates and idempotency ------------------------------------------------------------------


async def test_same_external_id_in_the_same_book_without_a_key_is_409_naming_the_trade(
    api: Api, reference: None
) -> None:
    payload = trade_payload()
    first = await post_trade(api, payload)
    assert first.status_code == 201
    again = await post_trade(api, payload)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert again.json()["type"] == TYPE_BASE + "conflict"
    assert again.json()["trade_id"] == first.json()["id"]


async def test_same_external_id_with_another_key_is_409_naming_the_trade(
    api: Api, reference: None
) -> None:
    payload = trade_payload()
    first = await post_trade(api, payload, headers={"Idempotency-Key": "key-1"})
    assert first.status_code == 201
    # Another key, and even other economics: the external_id is what identifies the trade.
    again = await post_trade(
        api, {**payload, "quantity": "200"}, headers={"Idempotency-Key": "key-2"}
    )
    assert again.status_code == 409
    assert again.json()["trade_id"] == first.json()["id"]
    listed = await api.get("/trades", role="trader")
    assert [t["id"] for t in listed.json()["items"]] == [first.json()["id"]]


async def test_same_external_id_in_another_book_is_a_new_trade(api: Api, reference: None) -> None:
    payload = trade_payload()
    first = await post_trade(api, payload)
    other = await post_trade(api, {**payload, "book": "FI-RATES"})
    assert first.status_code == other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert other.json()["book"] == "FI-RATES"


async def test_same_idempotency_key_and_body_replays_the_first_answer(
    api: Api, reference: None
) -> None:
    payload = trade_payload()
    first = await post_trade(api, payload, headers={"Idempotency-Key": "abc-123"})
    replay = await post_trade(api, payload, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert replay.headers["location"] == first.headers["location"]
    listed = await api.get("/trades", role="trader")
    assert len(listed.json()["items"]) == 1


async def test_same_idempotency_key_with_another_body_is_422_and_writes_nothing(
    api: Api, reference: None
) -> None:
    first = await post_trade(api, trade_payload(), headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == 201
    other = await post_trade(api, trade_payload(), headers={"Idempotency-Key": "abc-123"})
    assert other.status_code == 422
    assert other.json()["type"] == TYPE_BASE + "idempotency-key-reused"
    listed = await api.get("/trades", role="trader")
    assert len(listed.json()["items"]) == 1


async def test_idempotency_key_longer_than_255_is_422(api: Api, reference: None) -> None:
    response = await post_trade(api, trade_payload(), headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert "Idempotency-Key" in problem_fields(response)


# Listing -------------------------------------------------------------------------------------


async def _book_three(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade
) -> dict[str, str]:
    jpm = await book_trade()  # EQ-FLOW, Goldman, JPM, 2026-11-24 -> 2026-11-25
    total = await book_trade(
        isin=TOTAL, counterparty_lei=DEUTSCHE, currency="EUR", venue="XPAR", price="61.37"
    )  # EQ-FLOW, Deutsche, TotalEnergies, 2026-11-24 -> 2026-11-26 (T+2)
    rates = await book_trade(
        book="FI-RATES", trade_date="2026-11-23", trade_time="2026-11-23T15:00:00Z"
    )  # FI-RATES, Goldman, JPM, 2026-11-23 -> 2026-11-24
    await advance_trade(rates["id"], TradeEvent.CONFIRMATION_MATCHED)
    return {"jpm": jpm["id"], "total": total["id"], "rates": rates["id"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"jpm", "total", "rates"}),
        ({"status": "captured"}, {"jpm", "total"}),
        ({"status": "confirmed"}, {"rates"}),
        ({"status": "settled"}, set()),
        ({"book": "FI-RATES"}, {"rates"}),
        ({"book": "EQ-FLOW"}, {"jpm", "total"}),
        ({"counterparty_lei": DEUTSCHE}, {"total"}),
        ({"counterparty_lei": GOLDMAN}, {"jpm", "rates"}),
        ({"isin": TOTAL}, {"total"}),
        ({"isin": JPM}, {"jpm", "rates"}),
        ({"trade_date": "2026-11-23"}, {"rates"}),
        ({"trade_date": "2026-11-24"}, {"jpm", "total"}),
        ({"settlement_date": "2026-11-26"}, {"total"}),
        ({"settlement_date": "2026-11-25"}, {"jpm"}),
        ({"book": "EQ-FLOW", "isin": JPM}, {"jpm"}),
        ({"book": "FI-RATES", "status": "captured"}, set()),
    ],
)
async def test_list_filters(
    api: Api,
    book_trade: BookTrade,
    advance_trade: AdvanceTrade,
    query: dict[str, str],
    expected: set[str],
) -> None:
    ids = await _book_three(api, book_trade, advance_trade)
    response = await api.get("/trades", params=query, role="operations")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {t["id"] for t in body["items"]} == {ids[name] for name in expected}
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "booked"}, "status"),
        ({"isin": "US46625H1006"}, "isin"),
        ({"counterparty_lei": "NOT-A-LEI"}, "counterparty_lei"),
        ({"trade_date": "yesterday"}, "trade_date"),
        ({"settlement_date": "2026-02-30"}, "settlement_date"),
        ({"book": "eq flow"}, "book"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_list_refuses_bad_filters(
    api: Api, reference: None, query: dict[str, str], field: str
) -> None:
    response = await api.get("/trades", params=query, role="trader")
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)


async def test_list_pages_with_a_cursor(api: Api, book_trade: BookTrade) -> None:
    booked = {(await book_trade())["id"] for _ in range(5)}
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    for _ in range(5):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await api.get("/trades", params=params, role="trader")
        assert response.status_code == 200, response.text
        page = response.json()
        sizes.append(len(page["items"]))
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [2, 2, 1]
    assert seen == sorted(seen)  # keyset order on the id
    assert set(seen) == booked
    assert len(seen) == len(booked)


async def test_list_limit_equal_to_the_count_has_no_next_page(
    api: Api, book_trade: BookTrade
) -> None:
    for _ in range(3):
        await book_trade()
    response = await api.get("/trades", params={"limit": "3"}, role="trader")
    assert len(response.json()["items"]) == 3
    assert response.json()["next_cursor"] is None


# Roles ---------------------------------------------------------------------------------------

WRITERS_REFUSED = ["operations", "gateway", "compliance", "admin"]


@pytest.mark.parametrize("role", WRITERS_REFUSED)
async def test_post_trade_is_refused_to_non_traders(api: Api, reference: None, role: str) -> None:
    response = await api.post("/trades", json=trade_payload(), role=role)
    assert response.status_code == 403
    assert response.json()["type"] == TYPE_BASE + "forbidden"
    listed = await api.get("/trades", role="trader")
    assert listed.json()["items"] == []


@pytest.mark.parametrize("role", WRITERS_REFUSED)
async def test_batch_is_refused_to_non_traders(api: Api, reference: None, role: str) -> None:
    response = await api.post("/trades/batch", json={"items": [trade_payload()]}, role=role)
    assert response.status_code == 403


@pytest.mark.parametrize("role", WRITERS_REFUSED)
async def test_amend_and_cancel_are_refused_to_non_traders(
    api: Api, book_trade: BookTrade, role: str
) -> None:
    booked = await book_trade()
    patched = await api.patch(
        f"/trades/{booked['id']}", json={"price": "190"}, headers={"If-Match": "1"}, role=role
    )
    assert patched.status_code == 403
    cancelled = await api.post(
        f"/trades/{booked['id']}/cancel", json={"reason": "Booked in error"}, role=role
    )
    assert cancelled.status_code == 403
    after = await api.get(f"/trades/{booked['id']}", role="trader")
    assert after.json() == booked


async def test_writes_without_a_key_are_401(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    calls = [
        await api.post("/trades", json=trade_payload()),
        await api.post("/trades/batch", json={"items": [trade_payload()]}),
        await api.patch(
            f"/trades/{booked['id']}", json={"price": "190"}, headers={"If-Match": "1"}
        ),
        await api.post(f"/trades/{booked['id']}/cancel", json={"reason": "Booked in error"}),
    ]
    for response in calls:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == TYPE_BASE + "unauthenticated"


async def test_a_wrong_key_is_401(api: Api, reference: None) -> None:
    response = await api.get("/trades", headers={"Authorization": "Bearer not-a-key"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["trader", "gateway", "operations", "compliance"])
async def test_reads_are_allowed_to_business_roles(
    api: Api, book_trade: BookTrade, role: str
) -> None:
    booked = await book_trade()
    for path in ("/trades", f"/trades/{booked['id']}", f"/trades/{booked['id']}/history"):
        response = await api.get(path, role=role)
        assert response.status_code == 200, (path, response.text)


async def test_reads_are_refused_to_admin_and_without_a_key(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    for path in ("/trades", f"/trades/{booked['id']}", f"/trades/{booked['id']}/history"):
        assert (await api.get(path, role="admin")).status_code == 403, path
        assert (await api.get(path)).status_code == 401, path
