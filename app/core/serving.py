"""``settlement serve``: uvicorn with bounded headers, so a slow client cannot hold a connection.

uvicorn bounds the idle time between requests (``timeout_keep_alive``) but not the time a
request's headers take to arrive, nor (with httptools, what ``uvicorn[standard]`` runs) their
size. The protocol below arms a deadline whenever the connection waits for a request's headers
(on connect and after each answer) and drops it once they are in; past the deadline, or past
``header_max_bytes`` while still waiting, the connection is closed. The body's own limits are
the ASGI body guard's (app/core/body_guard.py).
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import get_settings


class _HeaderDeadline:
    """Mixed in before a uvicorn HTTP protocol class."""

    cycle: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.header_read_timeout_seconds
        self.header_max_bytes = settings.header_max_bytes
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_bytes = 0
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        waiting, cycle = self._header_deadline is not None, self.cycle
        if waiting:
            self._header_bytes += len(data)
            if self._header_bytes > self.header_max_bytes:
                self._headers_too_slow()
                return
        super().data_received(data)  # type: ignore[misc]
        if waiting and self.cycle is not cycle:  # a request's headers are complete
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()  # type: ignore[misc]
        if self.cycle is cycle and not self.transport.is_closing():
            self._arm_header_deadline()  # waiting for the next request's headers


class GuardedHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
    pass


def uvicorn_options() -> dict[str, Any]:
    """What ``settlement serve`` passes uvicorn besides host, port and workers."""
    settings = get_settings()
    return {
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
    }
