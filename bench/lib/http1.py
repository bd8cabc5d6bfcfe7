"""HTTP/1.1 as bytes for the load generator: requests built once, in full, before a phase; and
an incremental response parser (status line, headers, a body by Content-Length, chunked, or up
to the connection's close), lean enough that parsing is not what limits the load."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from bench.lib.db import LOOPBACK

_HEAD_END = b"\r\n\r\n"
_UNTIL_CLOSE = -1  # a body without Content-Length or chunking: it ends with the connection


class Response(NamedTuple):  # a tuple: made once an answer, the cheapest to make
    status: int
    body: bytes
    keep_alive: bool  # False: the server closes the connection after this answer


def request_bytes(
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    *,
    json_body: Any = None,
    params: Mapping[str, str] | None = None,
) -> bytes:
    """One request as it goes on the wire: request line, Host, the headers given, and a JSON
    body (compact, UTF-8) with its Content-Type and Content-Length."""
    if params:
        path += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    lines = [f"{method} {path} HTTP/1.1", f"Host: {LOOPBACK}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    body = b""
    if json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode()
        lines.append("Content-Type: application/json")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ResponseParser:
    """Bytes in as they arrive (``feed``), whole responses out, in order. Interim 1xx answers
    are skipped; a response without a length ends at the close (``closed``)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._head: tuple[int, int, bool, bool] | None = None  # status, length, chunked, keep
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> list[Response]:
        self._buffer = self._buffer + data if self._buffer else data
        done: list[Response] = []
        while True:
            if self._head is None and not self._read_head():
                return done
            response = self._read_body()
            if response is None:
                return done
            done.append(response)

    def closed(self) -> Response | None:
        """The connection closed: the response read up to here when its body ends so."""
        if self._head is not None and self._head[1] == _UNTIL_CLOSE and not self._head[2]:
            status, body = self._head[0], self._buffer
            self._head, self._buffer = None, b""
            return Response(status, body, keep_alive=False)
        return None

    def _read_head(self) -> bool:
        end = self._buffer.find(_HEAD_END)
        if end < 0:
            return False
        lines = self._buffer[:end].split(b"\r\n")
        self._buffer = self._buffer[end + 4 :]
        version, status = lines[0][:8], int(lines[0][9:12])
        length, chunked, keep = _UNTIL_CLOSE, False, version == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value.strip().lower().endswith(b"chunked")
            elif name == b"connection":
                keep = value.strip().lower() != b"close" and (keep or b"keep-alive" in value)
        if 100 <= status < 200 or status in (204, 304):
            length, chunked = 0, False
        if 100 <= status < 200:
            return self._read_head() if self._buffer else False
        self._head = (status, length, chunked, keep and (length != _UNTIL_CLOSE or chunked))
        return True

    def _read_body(self) -> Response | None:
        assert self._head is not None
        status, length, chunked, keep = self._head
        if chunked:
            if not self._read_chunks():
                return None
            body, self._chunks = b"".join(self._chunks), []
        elif length == _UNTIL_CLOSE or len(self._buffer) < length:
            return None
        else:
            body, self._buffer = self._buffer[:length], self._buffer[length:]
        self._head = None
        return Response(status, body, keep)

    def _read_chunks(self) -> bool:
        """Chunks into ``_chunks`` until the last (size 0) and its trailers; False: more needed."""
        while True:
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(self._buffer[:line_end].split(b";", 1)[0], 16)
            if size == 0:
                # The size line's CRLF then an empty line, or trailers then an empty line.
                trailers_end = self._buffer.find(b"\r\n\r\n", line_end)
                if trailers_end < 0:
                    return False
                self._buffer = self._buffer[trailers_end + 4 :]
                return True
            start = line_end + 2
            if len(self._buffer) < start + size + 2:
                return False
            self._chunks.append(self._buffer[start : start + size])
            self._buffer = self._buffer[start + size + 2 :]
