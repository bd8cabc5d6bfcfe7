"""Hostile bodies cannot exhaust the server: no key, no read; a cap per route; a read deadline.

A pure ASGI middleware in front of the routes (FastAPI reads and parses the whole body before any
dependency runs, the key check included, so the guard must sit before it):

- a request under ``/api/v1`` that carries a body but no ``Authorization: Bearer <key>`` header is
  answered 401 before one byte of the body is read. The check is the header's shape only; the key
  itself is still resolved by the route's dependency, which reads the database (uncached, so a
  revoked key stops at once). Resolving it here too would double that lookup on every write, and
  a well-formed but unknown key reads at most the route's cap before its 401;
- a ``Content-Length`` above the route's cap is answered 413 at once; a chunked body is counted as
  it streams and answered 413 as soon as it passes the cap: what follows is never buffered;
- the whole body must arrive within ``body_read_timeout_seconds`` of the request's start, or 408.

Header size and time are bounded by the server (app/core/serving.py).
"""

import asyncio
import contextlib
import copy
import traceback
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.bodies import BODY_LIMIT_SCOPE_KEY
from app.core.config import Settings
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    PayloadTooLarge,
    RequestTimeout,
    Unauthenticated,
    problem_responses,
)


class _BodyRefused(Exception):
    """Raised into the app by ``receive`` once the body is refused; the guard answers."""


class _GuardedBody:
    """``receive`` counting the body against its cap and its deadline."""

    def __init__(self, receive: Receive, *, limit: int, deadline: float) -> None:
        self._receive = receive
        self.limit = limit
        self.deadline = deadline
        self.received = 0
        self.complete = False
        self.refusal: AppError | None = None
        self.raised: list[_BodyRefused] = []

    def _refuse(self) -> _BodyRefused:
        refused = _BodyRefused()
        self.raised.append(refused)
        return refused

    def release(self) -> None:
        """Drop what the app had read when the body was refused (up to the cap): the frames of
        the refused reads hold it in reference cycles, which would keep it until a full
        garbage collection, so memory would climb by a cap per refusal meanwhile."""
        for refused in self.raised:
            traceback.clear_frames(refused.__traceback__)
            refused.__traceback__ = None
        self.raised.clear()

    async def receive(self) -> Message:
        if self.refusal is not None:
            raise self._refuse()
        if self.complete:  # waiting for a disconnect while the answer streams: no deadline
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.refusal = RequestTimeout(
                "The body did not arrive in time; send it faster or in smaller requests."
            )
            raise self._refuse() from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.refusal = _too_large(self.limit)
                raise self._refuse()
            self.complete = not message.get("more_body", False)
        return message


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body has more than {limit} bytes, the most this route accepts; "
        "split it into smaller requests."
    )


class BodyGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        default_limit: int,
        route_limits: Mapping[str, int],
        read_timeout: float,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.default_limit = default_limit
        self.route_limits = {path.rstrip("/"): limit for path, limit in route_limits.items()}
        self.read_timeout = read_timeout

    def limit_for(self, path: str) -> int:
        return self.route_limits.get(path.rstrip("/"), self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        if not _bearer_shaped(headers.get(b"authorization")):
            await _refuse(scope, send, Unauthenticated("Send 'Authorization: Bearer <api key>'."))
            return
        limit = scope[BODY_LIMIT_SCOPE_KEY] = self.limit_for(scope["path"])
        length = headers.get(b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await _refuse(scope, send, _too_large(limit))
            return
        deadline = asyncio.get_running_loop().time() + self.read_timeout
        body = _GuardedBody(receive, limit=limit, deadline=deadline)
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if body.refusal is not None:  # what the app made of the refusal: ours instead
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with contextlib.suppress(_BodyRefused):
                await self.app(scope, body.receive, guarded_send)
        finally:
            body.release()
        if body.refusal is not None and not started:
            await _refuse(scope, send, body.refusal)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _has_body(headers: Mapping[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"").strip()
    return b"transfer-encoding" in headers or (bool(length) and length != b"0")


def _bearer_shaped(value: bytes | None) -> bool:
    """What the route's dependency asks before it looks the key up (HTTPBearer's own test)."""
    if value is None:
        return False
    scheme, _, credentials = value.decode("latin-1").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())


async def _refuse(scope: Scope, send: Send, error: AppError) -> None:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else {}
    # The rest of the body is never read: the connection closes after the answer.
    headers["Connection"] = "close"
    response = JSONResponse(
        error.to_problem(scope["path"]),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def install_body_guard(app: FastAPI, settings: Settings, *, prefix: str) -> None:
    """The middleware, and its answers (401, 408, 413) in the OpenAPI of every route with a body."""
    app.add_middleware(
        BodyGuardMiddleware,
        prefix=prefix,
        default_limit=settings.body_limit_bytes,
        route_limits=settings.body_limits,
        read_timeout=settings.body_read_timeout_seconds,
    )
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document(build(), prefix)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _document(schema: dict[str, Any], prefix: str) -> None:
    guard = problem_responses(408, 413)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not path.startswith(prefix) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            # Shaped as FastAPI documents the route's own problem answers (401 on every route).
            content = responses.get("401", {}).get("content") or {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
            for code, answer in guard.items():
                responses.setdefault(
                    str(code),
                    {"description": answer["description"], "content": copy.deepcopy(content)},
                )
