"""POST /trades/batch: one result per item, in order; good items are booked whatever the rest."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from tests.conftest import Database
from tests.factories import DEUTSCHE, TOTAL, trade_payload
from tests.support import Api, problem_fields
from tests.trades.conftest import BookTrade

TYPE_BASE = "https://settlement.example/problems/"


async def post_batch(api: Api, items: Any, **kwargs: Any) -> httpx.Response:
    return await api.post("/trades/batch", json={"items": items}, role="trader", **kwargs)


async def all_trades(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/trades", params={"limit": "1000"}, role="trader")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def errors_of(result: dict[str, Any]) -> set[str]:
    return {error["field"] for error in result["problem"]["errors"]}


async def test_batch_mix_answers_each_item_in_order(api: Api, book_trade: BookTrade) -> None:
    already = await book_trade(external_id="FO-BOOKED-1")
    good_jpm = trade_payload(external_id="FO-BATCH-1")
    good_total = trade_payload(
        external_id="FO-BATCH-2",
        isin=TOTAL,
        counterparty_lei=DEUTSCHE,
        currency="EUR",
        venue="XPAR",
        quantity="250",
        price="61.37",
    )
    items = [
        good_jpm,  # 0 created
        trade_payload(isin="US46625H1006"),  # 1 rejected: bad ISIN check digit
        trade_payload(quantity="abc"),  # 2 rejected: type error
        trade_payload(external_id="FO-BOOKED-1"),  # 3 duplicate of a trade booked before
        good_total,  # 4 created
        {**good_jpm, "quantity": "300"},  # 5 duplicate of item 0 (same book + external_id)
        trade_payload(book="NO-SUCH-BOOK", price="0"),  # 6 rejected by the booking rules
        "not an object",  # 7 rejected
    ]

    response = await post_batch(api, items)

    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(8))
    assert [r["outcome"] for r in results] == [
        "created",
        "rejected",
        "rejected",
        "duplicate",
        "created",
        "duplicate",
        "rejected",
        "rejected",
    ]
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 2, 4)

    created_jpm, created_total = results[0]["id"], results[4]["id"]
    assert created_jpm.startswith("trd_")
    assert created_total.startswith("trd_")
    assert results[3]["id"] == already["id"]
    assert results[5]["id"] == created_jpm
    for index in (0, 3, 4, 5):
        assert results[index]["problem"] is None
    for index in (1, 2, 6, 7):
        assert results[index]["id"] is None
        problem = results[index]["problem"]
        assert problem["type"] == TYPE_BASE + "validation-error"
        assert problem["status"] == 422
        assert problem["detail"].startswith(f"Item {index} was not booked")
    assert errors_of(results[1]) == {"isin"}
    assert errors_of(results[2]) == {"quantity"}
    assert errors_of(results[6]) == {"book", "price"}
    assert errors_of(results[7]) == {"item"}

    trades = {t["id"]: t for t in await all_trades(api)}
    assert set(trades) == {already["id"], created_jpm, created_total}
    jpm = trades[created_jpm]
    # Item 0 as booked: 100 x 189.25 = 18925.00, + 1.52 = 18926.52, T+1 -> Wed 25 Nov.
    assert (jpm["quantity"], jpm["gross_amount"], jpm["net_amount"]) == (
        "100",
        "18925.00",
        "18926.52",
    )
    assert jpm["settlement_date"] == "2026-11-25"
    total = trades[created_total]
    # Item 4: 250 x 61.37 = 15342.50; buy + 1.50 + 0.02 = 15344.02; T+2 on TARGET -> Thu 26.
    assert (total["gross_amount"], total["net_amount"], total["settlement_date"]) == (
        "15342.50",
        "15344.02",
        "2026-11-26",
    )
    assert {t["status"] for t in trades.values()} == {"captured"}


async def test_batch_items_are_audited_as_captured(api: Api, reference: None) -> None:
    response = await post_batch(api, [trade_payload(), trade_payload()])
    assert response.status_code == 200, response.text
    for result in response.json()["results"]:
        history = await api.get(f"/trades/{result['id']}/history", role="compliance")
        assert [h["action"] for h in history.json()] == ["captured"]


async def test_batch_of_only_rejected_items_is_still_200(api: Api, reference: None) -> None:
    response = await post_batch(api, [trade_payload(price="0"), {}])
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (0, 0, 2)
    assert "isin" in errors_of(body["results"][1])
    assert await all_trades(api) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [trade_payload() for _ in range(10_001)]}, "items"),
        ({}, "items"),
        ({"items": "all of them"}, "items"),
        ({"items": [trade_payload()], "dry_run": True}, "dry_run"),
    ],
    ids=["empty", "10001-items", "missing", "not-a-list", "extra-field"],
)
async def test_batch_envelope_refusals_are_422(
    api: Api, reference: None, body: dict[str, Any], field: str
) -> None:
    response = await api.post("/trades/batch", json=body, role="trader")
    assert response.status_code == 422, response.text[:500]
    assert field in problem_fields(response)
    assert await all_trades(api) == []


async def test_batch_of_10000_small_items_is_within_the_limit(api: Api, reference: None) -> None:
    # 10,000 items that are each refused at once (an empty object) show the envelope admits
    # exactly 10,000 without booking that many trades in a unit test.
    response = await api.post("/trades/batch", json={"items": [{}] * 10_000}, role="trader")
    assert response.status_code == 200
    assert response.json()["rejected"] == 10_000


async def test_batch_replay_with_the_same_key_answers_the_same_and_books_once(
    api: Api, reference: None
) -> None:
    items = [trade_payload(), trade_payload(price="0"), trade_payload()]
    first = await post_batch(api, items, headers={"Idempotency-Key": "batch-001"})
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers

    replay = await post_batch(api, items, headers={"Idempotency-Key": "batch-001"})
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert len(await all_trades(api)) == 2


async def test_batch_repeated_without_a_key_reports_duplicates(api: Api, reference: None) -> None:
    items = [trade_payload(), trade_payload()]
    first = await post_batch(api, items)
    again = await post_batch(api, items)
    assert [r["outcome"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert len(await all_trades(api)) == 2


async def test_batch_same_key_with_another_body_is_422_and_books_nothing(
    api: Api, reference: None
) -> None:
    first = await post_batch(api, [trade_payload()], headers={"Idempotency-Key": "batch-002"})
    assert first.status_code == 200
    other = await post_batch(api, [trade_payload()], headers={"Idempotency-Key": "batch-002"})
    assert other.status_code == 422
    assert other.json()["type"] == TYPE_BASE + "idempotency-key-reused"
    assert len(await all_trades(api)) == 1


async def test_batch_item_in_another_book_is_not_a_duplicate(api: Api, reference: None) -> None:
    item = trade_payload()
    response = await post_batch(api, [item, {**item, "book": "FI-RATES"}])
    assert [r["outcome"] for r in response.json()["results"]] == ["created", "created"]


async def test_batch_judged_in_parts_answers_late_items_as_one_whole(
    api: Api, db: Database, book_trade: BookTrade
) -> None:
    # 600 items, judged 250 at a time, each part written while the next is judged: a late
    # item still sees what the database held before the batch and what earlier parts created.
    already = await book_trade(external_id="FO-PART-BOOKED")
    items = [trade_payload(external_id=f"FO-PART-{n:03d}") for n in range(600)]
    items[300] = trade_payload(external_id="FO-PART-BOOKED")  # booked before the batch
    items[550] = {**items[5], "quantity": "300"}  # item 5 again, two parts later
    items[580] = trade_payload(price="0")  # refused by the rules

    response = await post_batch(api, items)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    outcomes = {"duplicate": [300, 550], "rejected": [580]}
    for outcome in ("duplicate", "rejected", "created"):
        expected = outcomes.get(outcome, set(range(600)) - {300, 550, 580})
        assert sorted(r["index"] for r in results if r["outcome"] == outcome) == sorted(expected)
    assert (results[300]["id"], results[550]["id"]) == (already["id"], results[5]["id"])
    created = [r["id"] for r in results if r["outcome"] == "created"]
    async with db.sessionmaker() as session:
        audited = await session.scalars(
            select(AuditRecord.entity_id)
            .where(AuditRecord.action == "captured", AuditRecord.entity_id.in_(created))
            .order_by(AuditRecord.id)
        )
        # One record per trade created, their ids ascending in the items' order.
        assert list(audited) == created
