"""The load generator end to end: its own process, real sockets, against a small server here
that answers each request with its path (chunked for paths under /chunked, closing the
connection after paths under /close)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.lib.http1 import request_bytes
from bench.lib.loadgen import Job, load


class PathEcho(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ")[1]
            if path.startswith(b"/chunked"):
                half = len(path) // 2
                chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
                    half,
                    path[:half],
                    len(path) - half,
                    path[half:],
                )
                answer = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
            else:
                close = b"Connection: close\r\n" if path.startswith(b"/close") else b""
                answer = b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (
                    close,
                    len(path),
                    path,
                )
            self.transport.write(answer)  # type: ignore[attr-defined]
            if path.startswith(b"/close"):
                self.transport.close()


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = await asyncio.get_running_loop().create_server(PathEcho, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_a_closed_loop_answers_every_request_in_its_place_with_its_body(port: int) -> None:
    paths = [f"/chunked/{i}" if i % 3 == 0 else f"/r/{i}" for i in range(30)]
    requests = [request_bytes("GET", path) for path in paths]
    warm = [request_bytes("GET", "/warm")] * 4
    job = Job([("127.0.0.1", port)], requests, 4, warm, keep_bodies=True)

    outcome = await load(job)

    assert outcome.statuses == [201 if i % 3 == 0 else 200 for i in range(30)]
    assert outcome.bodies == [path.encode() for path in paths]
    assert outcome.warm_statuses == [200] * 4
    assert (outcome.connections, outcome.opened) == (4, 0)
    assert all(latency > 0 for latency in outcome.latencies)


async def test_a_closed_connection_is_replaced_and_the_load_goes_on(port: int) -> None:
    paths = ["/close/0", "/r/1", "/close/2", "/r/3", "/r/4"]
    job = Job([("127.0.0.1", port)], [request_bytes("GET", p) for p in paths], 1)

    outcome = await load(job)

    assert outcome.statuses == [200] * 5
    assert outcome.bodies == [b""] * 5  # none kept unless asked
    assert (outcome.connections, outcome.opened) == (3, 2)


async def test_an_open_loop_sends_on_schedule_and_opens_a_connection_only_when_none_is_idle(
    port: int,
) -> None:
    paths = ["/close/0", "/r/1", "/r/2", "/r/3"]
    # Half a second apart: each answer is back long before the next is due, even on a host
    # busy with other test workers (0.1 s apart, a CI run on a loaded host saw 4 connections).
    schedule = [0.0, 0.5, 1.0, 1.5]
    job = Job([("127.0.0.1", port)], [request_bytes("GET", p) for p in paths], 1)
    job.schedule, job.keep_bodies = schedule, [False, True, False, True]

    outcome = await load(job)

    assert outcome.statuses == [200] * 4
    assert outcome.bodies == [b"", b"/r/1", b"", b"/r/3"]
    # The warm connection closed after the first answer: one more, opened for the second
    # request and idle again by the third.
    assert (outcome.connections, outcome.opened) == (2, 1)
    assert len(outcome.send_lag) == 4
    assert all(0 <= lag < 0.25 for lag in outcome.send_lag), outcome.send_lag
    assert all(end >= due for end, due in zip(outcome.ended, schedule, strict=True))


async def test_bodies_kept_per_request_are_the_loads_not_the_warm_ups(port: int) -> None:
    requests = [request_bytes("GET", "/r/0"), request_bytes("GET", "/r/1")]
    warm = [request_bytes("GET", "/warm")] * 4
    job = Job([("127.0.0.1", port)], requests, 2, warm, keep_bodies=[False, True])

    outcome = await load(job)

    assert outcome.bodies == [b"", b"/r/1"]
    assert outcome.warm_statuses == [200] * 4
