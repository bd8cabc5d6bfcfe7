"""Hostile bodies: no key, no read; a cap per route, answered 413 without reading the rest; a read
deadline answered 408. Raw ASGI where the point is how much was read, HTTP for the answers."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.core.auth import Role
from app.core.body_guard import BodyGuardMiddleware
from app.core.config import Settings
from app.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from tests.factories import trade_payload
from tests.support import Api

CAP = 1000
CHUNK = 100


class Recorder:
    """A client sending ``chunks`` (each after ``delay`` seconds) and what it was answered."""

    def __init__(self, chunks: list[bytes], delay: float = 0.0) -> None:
        self.chunks = chunks
        self.delay = delay
        self.asked = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        index = self.asked
        self.asked += 1
        if index >= len(self.chunks):
            await asyncio.Event().wait()  # nothing more: a client still connected
        await asyncio.sleep(self.delay)
        more = index + 1 < len(self.chunks)
        return {"type": "http.request", "body": self.chunks[index], "more_body": more}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def problem(self) -> dict[str, Any]:
        headers = dict(self.sent[0]["headers"])
        assert headers[b"content-type"] == PROBLEM_MEDIA_TYPE.encode()
        body: dict[str, Any] = json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))
        return body


async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 with its size (what a route would do)."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def guard(read_timeout: float = 5.0) -> BodyGuardMiddleware:
    return BodyGuardMiddleware(
        reading_app,
        prefix="/api/v1",
        default_limit=CAP,
        route_limits={"/api/v1/trades/batch": 3 * CAP},
        read_timeout=read_timeout,
    )


def scope(
    path: str = "/api/v1/trades", *, length: int | None = None, key: str | None = "stl_x"
) -> Scope:
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    if length is None:
        headers.append((b"transfer-encoding", b"chunked"))
    if key is not None:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def test_an_anonymous_body_is_401_before_a_byte_is_read() -> None:
    client = Recorder([b"x" * CHUNK] * 1000)
    await guard()(scope(length=CHUNK * 1000, key=None), client.receive, client.send)
    assert client.asked == 0
    assert client.status == 401
    assert dict(client.sent[0]["headers"])[b"www-authenticate"] == b"Bearer"
    assert client.problem["type"] == PROBLEM_TYPE_BASE + "unauthenticated"


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
async def test_a_malformed_authorization_is_401_before_reading(value: str) -> None:
    client = Recorder([b"x" * CHUNK])
    request = scope(length=CHUNK, key=None)
    request["headers"].append((b"authorization", value.encode()))
    await guard()(request, client.receive, client.send)
    assert (client.asked, client.status) == (0, 401)


async def test_a_content_length_over_the_cap_is_413_before_reading() -> None:
    client = Recorder([b"x" * CHUNK] * 11)
    await guard()(scope(length=CAP + 1), client.receive, client.send)
    assert client.asked == 0
    assert client.status == 413
    assert dict(client.sent[0]["headers"])[b"connection"] == b"close"
    assert client.problem["type"] == PROBLEM_TYPE_BASE + "payload-too-large"
    assert client.problem["detail"].startswith(f"The body has more than {CAP} bytes")


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap() -> None:
    client = Recorder([b"x" * CHUNK] * 1000)
    await guard()(scope(length=None), client.receive, client.send)
    # CAP / CHUNK chunks fit exactly; the next one passes the cap and nothing after it is read.
    assert client.asked == CAP // CHUNK + 1
    assert client.status == 413


async def test_a_body_within_the_cap_reaches_the_route_whole() -> None:
    client = Recorder([b"x" * CHUNK] * (CAP // CHUNK))
    await guard()(scope(length=None), client.receive, client.send)
    assert (client.status, client.sent[1]["body"]) == (200, str(CAP).encode())


async def test_a_route_with_its_own_cap_takes_more() -> None:
    client = Recorder([b"x" * CHUNK] * (3 * CAP // CHUNK))
    await guard()(scope("/api/v1/trades/batch/", length=3 * CAP), client.receive, client.send)
    assert (client.status, client.sent[1]["body"]) == (200, str(3 * CAP).encode())
    over = Recorder([b"x"])
    await guard()(scope("/api/v1/trades/batch", length=3 * CAP + 1), over.receive, over.send)
    assert (over.asked, over.status) == (0, 413)


async def test_a_body_too_slow_is_408() -> None:
    client = Recorder([b"x"] * 10, delay=0.04)
    await guard(read_timeout=0.1)(scope(length=10), client.receive, client.send)
    assert client.status == 408
    assert client.problem["type"] == PROBLEM_TYPE_BASE + "request-timeout"
    assert client.asked == 3  # two chunks in 0.08 s, the third past the deadline


async def test_requests_without_a_body_or_outside_the_api_pass_untouched() -> None:
    for request in (
        {"type": "http", "method": "GET", "path": "/api/v1/trades", "headers": []},
        {**scope("/metrics", length=10 * CAP, key=None)},
    ):
        client = Recorder([b"x" * 10 * CAP])
        await guard()(request, client.receive, client.send)
        assert client.status == 200


def test_the_caps_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLEMENT_BODY_LIMIT_BYTES", "2048")
    monkeypatch.setenv("SETTLEMENT_BODY_LIMITS", '{"/api/v1/trades/batch": 33554432}')
    monkeypatch.setenv("SETTLEMENT_BODY_READ_TIMEOUT_SECONDS", "7.5")
    settings = Settings()
    assert settings.body_limit_bytes == 2048
    assert settings.body_limits == {"/api/v1/trades/batch": 33554432}
    assert settings.body_read_timeout_seconds == 7.5


def test_the_default_caps() -> None:
    settings = Settings()
    assert settings.body_limit_bytes == 1 << 20
    assert settings.body_limits["/api/v1/trades/batch"] == 16 << 20
    assert settings.body_read_timeout_seconds == 30.0


# Through the app -------------------------------------------------------------------------------


async def stream(total: int, chunk: int = 64 << 10) -> AsyncIterator[bytes]:
    """``total`` bytes, chunked, never held whole."""
    for _ in range(total // chunk):
        yield b" " * chunk


async def test_an_anonymous_batch_is_401_not_400(api: Api) -> None:
    response = await api.post("/trades/batch", content=stream(32 << 20))
    assert response.status_code == 401
    assert response.json()["detail"] == "Send 'Authorization: Bearer <api key>'."


async def test_an_authorised_chunked_batch_over_its_cap_is_413(api: Api) -> None:
    response = await api.post("/trades/batch", role=Role.TRADER, content=stream(32 << 20))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["detail"].startswith(f"The body has more than {16 << 20} bytes")


async def test_a_trade_over_the_default_cap_is_413(api: Api) -> None:
    body = json.dumps(trade_payload()).encode() + b" " * (1 << 20)
    response = await api.post("/trades", role=Role.TRADER, content=body)
    assert response.status_code == 413


async def test_a_trade_within_the_cap_is_booked(api: Api, reference: None) -> None:
    response = await api.post("/trades", role=Role.TRADER, json=trade_payload())
    assert response.status_code == 201


async def test_an_unknown_key_with_a_body_is_still_401(api: Api) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield json.dumps(trade_payload()).encode()

    response = await api.post("/trades", headers={"Authorization": "Bearer nope"}, content=body())
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key is unknown or revoked."


async def test_the_openapi_documents_408_and_413_where_a_body_is_taken(api: Api) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    batch = paths["/api/v1/trades/batch"]["post"]["responses"]
    assert {"401", "408", "413"} <= set(batch)
    assert batch["413"]["description"] == "The body is larger than this route accepts"
    assert "413" not in paths["/api/v1/trades"]["get"]["responses"]
