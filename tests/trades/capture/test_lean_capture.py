"""POST /trades is a LeanRoute: a plain capture is solved by hand; every other request, and every
refusal, is FastAPI's own, the same answer as when FastAPI takes the request from the start."""

import json
from typing import Any

import pytest

from app.trades.capture.router import create_trade
from tests.factories import trade_payload
from tests.support import Api, solved_by_fastapi

JSON = "application/json"
# FastAPI takes this content type too; the lean handler leaves it to FastAPI.
JSON_UTF8 = "application/json; charset=utf-8"


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each request whose parameters FastAPI itself solved."""
    return solved_by_fastapi(monkeypatch, create_trade)


async def _post(
    api: Api, payload: Any, content_type: str, role: str = "trader", **headers: str
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await api.post(
        "/trades", content=body, role=role, headers={"Content-Type": content_type, **headers}
    )


async def test_a_plain_capture_is_solved_by_hand(
    api: Api, reference: None, solved: list[Any]
) -> None:
    plain = await _post(api, trade_payload(), JSON)
    keyed = await _post(api, trade_payload(), JSON, **{"Idempotency-Key": "lean-1"})

    assert (plain.status_code, keyed.status_code) == (201, 201)
    assert solved == []


async def test_it_books_what_fastapi_books(api: Api, reference: None, solved: list[Any]) -> None:
    lean = await _post(api, trade_payload(external_id="LEAN-1"), JSON)
    fastapi_own = await _post(api, trade_payload(external_id="LEAN-2"), JSON_UTF8)

    assert lean.status_code == fastapi_own.status_code == 201
    differ = {"id", "external_id", "created_at", "updated_at"}
    assert {k: v for k, v in lean.json().items() if k not in differ} == {
        k: v for k, v in fastapi_own.json().items() if k not in differ
    }
    assert solved == [create_trade]


def _refusals() -> list[tuple[str, Any, str, dict[str, str]]]:
    """(what, payload, role, headers) of requests refused at or after parsing."""
    return [
        ("invalid body", trade_payload(quantity="-1"), "trader", {}),
        ("not JSON", b'{"book": ', "trader", {}),
        ("a list", [trade_payload()], "trader", {}),
        ("nested too deep for the decoder", b"[" * 100_000, "trader", {}),
        ("key too long", trade_payload(), "trader", {"Idempotency-Key": "k" * 256}),
        ("empty key", trade_payload(), "trader", {"Idempotency-Key": ""}),
        ("unknown ISIN", trade_payload(isin="US0000000000"), "trader", {}),
        ("another role", trade_payload(), "operations", {}),
    ]


async def test_each_refusal_is_fastapi_s_own(api: Api, reference: None) -> None:
    for what, payload, role, headers in _refusals():
        lean = await _post(api, payload, JSON, role, **headers)
        fastapi_own = await _post(api, payload, JSON_UTF8, role, **headers)

        assert lean.status_code == fastapi_own.status_code, what
        assert lean.status_code in (400, 403, 422), (what, lean.text)
        assert lean.headers["content-type"] == "application/problem+json", what
        assert lean.json() == fastapi_own.json(), what


async def test_an_unknown_key_is_fastapi_s_401(api: Api, reference: None) -> None:
    for content_type in (JSON, JSON_UTF8):
        response = await api.post(
            "/trades",
            content=json.dumps(trade_payload()).encode(),
            headers={"Authorization": "Bearer not-a-key", "Content-Type": content_type},
        )
        assert response.status_code == 401, response.text
        assert response.json()["detail"] == "The API key is unknown or revoked."


async def test_a_duplicate_and_a_reused_key_answer_alike(api: Api, reference: None) -> None:
    payload = trade_payload()
    first = await _post(api, payload, JSON, **{"Idempotency-Key": "lean-dup"})
    assert first.status_code == 201, first.text
    trade_id = first.json()["id"]
    for content_type in (JSON, JSON_UTF8):
        duplicate = await _post(api, payload, content_type)
        assert duplicate.status_code == 409, duplicate.text
        assert duplicate.json()["trade_id"] == trade_id

        replay = await _post(api, payload, content_type, **{"Idempotency-Key": "lean-dup"})
        assert (replay.status_code, replay.json()) == (201, first.json())
        assert replay.headers["idempotent-replayed"] == "true"

        other = await _post(api, trade_payload(), content_type, **{"Idempotency-Key": "lean-dup"})
        assert other.status_code == 422, other.text
