"""Idempotency-Key on creating POSTs: replay, reuse with another body, principals, expiry."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.db import UnitOfWork
from app.core.idempotency import (
    Claim,
    IdempotencyRecord,
    _canonical,
    claim_many,
    purge_expired,
)
from tests.conftest import Database
from tests.factories import trade_payload
from tests.support import Api, problem_fields

PROBLEMS = "https://settlement.example/problems/"
REPLAYED = "idempotent-replayed"

LSE_MARKET: dict[str, Any] = {
    "mic": "XLON",
    "name": "London Stock Exchange",
    "country": "GB",
    "timezone": "Europe/London",
    "calendar": "XLON",
    "settlement_calendars": ["XLON"],
    "settlement_cycle_days": [{"from": "2014-10-06", "days": 2}, {"from": "2027-10-11", "days": 1}],
    "ccp": None,
    "affirmation_cutoff": "19:00",
}


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def _trades(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/trades", role="operations")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _stored_keys(db: Database) -> int:
    async with db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    return int(count or 0)


async def test_the_same_key_and_body_replays_the_first_answer(api: Api, reference: None) -> None:
    payload = trade_payload()
    first = await api.post("/trades", json=payload, headers=_key("order-1"), role="trader")
    second = await api.post("/trades", json=payload, headers=_key("order-1"), role="trader")

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert REPLAYED not in first.headers
    assert second.headers[REPLAYED] == "true"
    assert second.json() == first.json()
    assert second.content == first.content
    trade_id = first.json()["id"]
    assert first.headers["location"] == f"/api/v1/trades/{trade_id}"
    assert second.headers["location"] == f"/api/v1/trades/{trade_id}"
    assert [trade["id"] for trade in await _trades(api)] == [trade_id]


async def test_a_replay_answers_the_first_body_even_after_the_trade_changed(
    api: Api, reference: None
) -> None:
    payload = trade_payload()
    first = await api.post("/trades", json=payload, headers=_key("order-2"), role="trader")
    trade_id = first.json()["id"]
    cancelled = await api.post(
        f"/trades/{trade_id}/cancel", json={"reason": "fat finger"}, role="trader"
    )
    assert cancelled.status_code == 200, cancelled.text
    replay = await api.post("/trades", json=payload, headers=_key("order-2"), role="trader")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.json()["status"] == "captured"


async def test_the_same_key_with_another_body_is_422_and_writes_nothing(
    api: Api, db: Database, reference: None
) -> None:
    payload = trade_payload()
    first = await api.post("/trades", json=payload, headers=_key("order-3"), role="trader")
    assert first.status_code == 201
    changed = {**payload, "quantity": "200"}
    reused = await api.post("/trades", json=changed, headers=_key("order-3"), role="trader")

    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json() == {
        "type": PROBLEMS + "idempotency-key-reused",
        "title": "The Idempotency-Key was used with another request",
        "status": 422,
        "detail": "Idempotency-Key 'order-3' was first used with a different request; "
        "nothing was written.",
        "instance": "/api/v1/trades",
    }
    assert [trade["id"] for trade in await _trades(api)] == [first.json()["id"]]
    assert await _stored_keys(db) == 1


async def test_a_body_that_differs_only_in_json_layout_is_the_same_request(
    api: Api, reference: None
) -> None:
    """The fingerprint is taken over the parsed body, so key order and spacing do not matter."""
    payload = trade_payload()
    first = await api.post("/trades", json=payload, headers=_key("order-4"), role="trader")
    reordered = dict(reversed(list(payload.items())))
    second = await api.post("/trades", json=reordered, headers=_key("order-4"), role="trader")
    assert second.status_code == 201
    assert second.headers[REPLAYED] == "true"
    assert second.json() == first.json()


async def test_the_same_key_on_another_route_is_a_reuse_error(api: Api, reference: None) -> None:
    trade = await api.post("/trades", json=trade_payload(), headers=_key("shared"), role="trader")
    assert trade.status_code == 201
    # Another route with the same key is another request: the fingerprint covers the path.
    batch = await api.post(
        "/trades/batch", json={"items": [trade_payload()]}, headers=_key("shared"), role="trader"
    )
    assert batch.status_code == 422
    assert batch.json()["type"] == PROBLEMS + "idempotency-key-reused"


async def test_keys_are_scoped_to_the_api_key_that_sent_them(
    api: Api, db: Database, reference: None
) -> None:
    created = await api.post(
        "/api-keys", json={"name": "second OMS", "role": "trader"}, role="admin"
    )
    assert created.status_code == 201, created.text
    other_trader = {"Authorization": f"Bearer {created.json()['key']}"}

    first = await api.post("/trades", json=trade_payload(), headers=_key("order-5"), role="trader")
    second = await api.post(
        "/trades",
        json=trade_payload(),
        headers={**_key("order-5"), **other_trader},
    )
    assert first.status_code == 201
    assert second.status_code == 201, second.text
    assert REPLAYED not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert sorted(trade["id"] for trade in await _trades(api)) == sorted(
        [first.json()["id"], second.json()["id"]]
    )
    assert await _stored_keys(db) == 2

    # And each principal replays its own answer.
    replay = await api.post(
        "/trades",
        json=trade_payload(external_id=second.json()["external_id"]),
        headers={**_key("order-5"), **other_trader},
    )
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == second.json()


@pytest.mark.parametrize("key", ["k" * 256, "k" * 1000, ""])
async def test_a_key_outside_1_to_255_characters_is_422(
    api: Api, db: Database, reference: None, key: str
) -> None:
    response = await api.post("/trades", json=trade_payload(), headers=_key(key), role="trader")
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"Idempotency-Key"}
    assert await _trades(api) == []
    assert await _stored_keys(db) == 0


async def test_a_key_of_255_characters_is_accepted(api: Api, reference: None) -> None:
    payload = trade_payload()
    key = _key("k" * 255)
    first = await api.post("/trades", json=payload, headers=key, role="trader")
    second = await api.post("/trades", json=payload, headers=key, role="trader")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers[REPLAYED] == "true"


async def test_a_key_is_still_replayed_just_before_it_expires(
    api: Api, clock: Any, reference: None
) -> None:
    payload = trade_payload()
    first = await api.post("/trades", json=payload, headers=_key("order-6"), role="trader")
    clock.advance(hours=47, minutes=59)
    second = await api.post("/trades", json=payload, headers=_key("order-6"), role="trader")
    assert second.headers[REPLAYED] == "true"
    assert second.json() == first.json()


async def test_an_expired_key_runs_again_and_books_a_new_trade(
    api: Api, db: Database, clock: Any, reference: None
) -> None:
    first = await api.post("/trades", json=trade_payload(), headers=_key("order-7"), role="trader")
    assert first.status_code == 201
    clock.advance(hours=49)
    # Expired: even another body is no reuse error; the request simply runs.
    second = await api.post("/trades", json=trade_payload(), headers=_key("order-7"), role="trader")
    assert second.status_code == 201, second.text
    assert REPLAYED not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert len(await _trades(api)) == 2
    assert await _stored_keys(db) == 1

    # The key now guards the second request.
    third = await api.post(
        "/trades",
        json=trade_payload(external_id=second.json()["external_id"]),
        headers=_key("order-7"),
        role="trader",
    )
    assert third.headers[REPLAYED] == "true"
    assert third.json() == second.json()


async def test_an_expired_key_with_the_same_body_runs_the_work_again(
    api: Api, clock: Any, reference: None
) -> None:
    payload = trade_payload()
    first = await api.post("/trades", json=payload, headers=_key("order-8"), role="trader")
    assert first.status_code == 201
    clock.advance(hours=49)
    again = await api.post("/trades", json=payload, headers=_key("order-8"), role="trader")
    # Run for real, the same external_id in the same book is a duplicate.
    assert again.status_code == 409, again.text
    assert REPLAYED not in again.headers


async def test_a_failed_request_stores_no_key(api: Api, db: Database, reference: None) -> None:
    bad = trade_payload(book="NO-SUCH-BOOK")
    response = await api.post("/trades", json=bad, headers=_key("order-9"), role="trader")
    assert response.status_code == 422
    assert await _stored_keys(db) == 0
    good = await api.post("/trades", json=trade_payload(), headers=_key("order-9"), role="trader")
    assert good.status_code == 201
    assert REPLAYED not in good.headers


async def test_without_a_key_every_post_runs(api: Api, db: Database, reference: None) -> None:
    first = await api.post("/trades", json=trade_payload(), role="trader")
    second = await api.post("/trades", json=trade_payload(), role="trader")
    assert (first.status_code, second.status_code) == (201, 201)
    assert REPLAYED not in second.headers
    assert await _stored_keys(db) == 0


async def test_a_market_replay_keeps_the_from_alias(api: Api, db: Database) -> None:
    first = await api.post("/markets", json=LSE_MARKET, headers=_key("mkt-1"), role="operations")
    second = await api.post("/markets", json=LSE_MARKET, headers=_key("mkt-1"), role="operations")
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.headers[REPLAYED] == "true"
    assert first.headers["location"] == "/api/v1/markets/XLON"
    assert second.headers["location"] == "/api/v1/markets/XLON"
    expected_cycle = [{"from": "2014-10-06", "days": 2}, {"from": "2027-10-11", "days": 1}]
    assert first.json()["settlement_cycle_days"] == expected_cycle
    assert second.json()["settlement_cycle_days"] == expected_cycle
    assert second.json() == first.json()

    fetched = await api.get("/markets/XLON", role="operations")
    assert fetched.json()["settlement_cycle_days"] == expected_cycle
    listed = await api.get("/markets", role="operations")
    assert [market["mic"] for market in listed.json()["items"]] == ["XLON"]


async def test_purge_expired_forgets_only_keys_past_the_retention(
    api: Api, db: Database, clock: Any, reference: None
) -> None:
    old = await api.post("/trades", json=trade_payload(), headers=_key("old"), role="trader")
    clock.advance(hours=49)
    new = await api.post("/trades", json=trade_payload(), headers=_key("new"), role="trader")
    assert (old.status_code, new.status_code) == (201, 201)

    async with db.sessionmaker() as session, UnitOfWork(session):
        purged = await purge_expired(session, now=clock(), retention=timedelta(hours=48))
    assert purged == 1
    async with db.sessionmaker() as session:
        keys = (await session.scalars(select(IdempotencyRecord.key))).all()
    assert list(keys) == ["new"]
    assert len(await _trades(api)) == 2


async def test_claim_many_holds_the_free_keys_with_their_answers_in_key_order(
    db: Database,
) -> None:
    """A capture group claims its members' keys at once (on PostgreSQL from arrays, straight
    to asyncpg): each free key is held with its answer stored; a key another holds is not."""
    now = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    async with db.sessionmaker() as session:
        await claim_many(session, [Claim("key_a", "taken", "f0", 201, now, answer={"id": 0})])
        await session.commit()
    claims = [
        Claim("key_b", "k-2", "f2", 201, now, answer={"id": "trd_2", "price": "189.25"}),
        Claim("key_a", "taken", "f9", 201, now, answer={"id": 9}),
        Claim("key_a", "k-1", "f1", 201, now, answer={"id": "trd_1", "tags": ["a", "b"]}),
    ]

    async with db.sessionmaker() as session:
        held = await claim_many(session, claims)
        await session.commit()

    assert held == {("key_a", "k-1"), ("key_b", "k-2")}
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    IdempotencyRecord.principal,
                    IdempotencyRecord.key,
                    IdempotencyRecord.fingerprint,
                    IdempotencyRecord.status_code,
                    IdempotencyRecord.response_body,
                    IdempotencyRecord.created_at,
                ).order_by(IdempotencyRecord.principal, IdempotencyRecord.key)
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("key_a", "k-1", "f1", 201, {"id": "trd_1", "tags": ["a", "b"]}, now),
        ("key_a", "taken", "f0", 201, {"id": 0}, now),
        ("key_b", "k-2", "f2", 201, {"id": "trd_2", "price": "189.25"}, now),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"items": [trade_payload(), {**trade_payload(), "quantity": 10, "note": None}]},
        {"z": {"y": [None, True, False, 'tab\tnew\nline\u0001quote"back\\']}, "a": -5},
        {"price": 189.25, "nested": [{"big": 1e16}]},  # floats: json writes 1e+16
        {"name": "Société Générale", "e": "\u00e9\U0001f4b8"},  # escaped beyond ASCII
        {"delete": "\x7f"},
        {"huge": 2**70},
        [],
        "text",
        1.5,
        None,
    ],
    ids=[
        "batch",
        "escapes",
        "floats",
        "unicode",
        "del",
        "huge-int",
        "list",
        "str",
        "float",
        "null",
    ],
)
def test_the_fingerprint_hashes_the_text_it_always_hashed(payload: Any) -> None:
    """A key stored before must still match its retry: the canonical text is ``json.dumps``'s,
    however it is made."""
    assert _canonical(payload) == json.dumps(payload, sort_keys=True, separators=(",", ":"))


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(_JSON_VALUES)
def test_any_json_value_hashes_json_dumps_text(payload: Any) -> None:
    assert _canonical(payload) == json.dumps(payload, sort_keys=True, separators=(",", ":"))
