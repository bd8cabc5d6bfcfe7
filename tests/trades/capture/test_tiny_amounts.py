"""A trade whose gross amount rounds to zero in its currency's minor units is refused (single,
batch, amendment); one that rounds to a single minor unit is booked and costed like any other."""

from typing import Any

from tests.factories import bund_trade_payload, trade_payload
from tests.support import Api
from tests.trades.conftest import BookTrade

# 7 x 0.0001 = 0.0007 USD, which rounds to 0.00.
TINY = {"quantity": "7", "price": "0.0001"}
TINY_PROBLEM = {
    "field": "price",
    "message": "gives a gross amount of 0.0007 USD, which rounds to zero: "
    "a trade must amount to at least 0.01 USD",
}


async def trade_count(api: Api) -> int:
    return len((await api.get("/trades", role="trader")).json()["items"])


async def test_a_trade_worth_nothing_is_refused(api: Api, book_trade: BookTrade) -> None:
    await book_trade()  # executed at 14:31:05: the tiny trade below would be an as-of one
    payload = trade_payload(**TINY, trade_time="2026-11-24T10:00:00Z")
    response = await api.post("/trades", json=payload, role="trader")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [TINY_PROBLEM]
    assert await trade_count(api) == 1


async def test_a_bond_worth_nothing_is_refused(api: Api, reference: None) -> None:
    # 1000 nominal x 0.0004 % = 0.004 EUR.
    payload = bund_trade_payload(quantity="1000", price="0.0004")
    response = await api.post("/trades", json=payload, role="trader")
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "price",
            "message": "gives a gross amount of 0.004 EUR, which rounds to zero: "
            "a trade must amount to at least 0.01 EUR",
        }
    ]


async def test_a_batch_refuses_only_the_item_worth_nothing(api: Api, reference: None) -> None:
    items: list[Any] = [trade_payload(**TINY), trade_payload()]
    response = await api.post("/trades/batch", json={"items": items}, role="trader")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == ["rejected", "created"]
    problem = body["results"][0]["problem"]
    assert (problem["status"], problem["errors"]) == (422, [TINY_PROBLEM])
    assert await trade_count(api) == 1


async def test_an_amendment_to_a_price_worth_nothing_is_refused(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade(quantity="7")
    response = await api.patch(
        f"/trades/{booked['id']}",
        json={"price": "0.0001"},
        headers={"If-Match": "1"},
        role="trader",
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [TINY_PROBLEM]
    after = (await api.get(f"/trades/{booked['id']}", role="trader")).json()
    assert (after["price"], after["version"]) == ("189.25", 1)


async def test_one_minor_unit_books_and_costs_an_as_of_trade(
    api: Api, book_trade: BookTrade
) -> None:
    await book_trade(quantity="7", price="0.0015", commission="0", fees="0")
    # 7 x 0.0015 = 0.0105 -> 0.01; booked before the first, so the position is replayed.
    late = await book_trade(
        quantity="7", price="0.0015", commission="0", fees="0", trade_time="2026-11-24T10:00:00Z"
    )
    assert (late["gross_amount"], late["net_amount"]) == ("0.01", "0.01")
