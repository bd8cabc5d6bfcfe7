"""A real ``settlement serve`` on a loopback port: hostile bodies in a loop leave its memory flat,
and slow headers or bodies cannot hold a connection. No database is touched (the answers come
before any route runs), so this runs once, not per backend."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.config import PROJECT_ROOT

LOOPBACK = "127.0.0.1"
MIB = 1 << 20
BATCH_CAP = 16 * MIB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(port, pid) of ``settlement serve``, with short header and body deadlines."""
    folder: Path = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "SETTLEMENT_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'unused.db'}",
        "SETTLEMENT_BACKGROUND_WORKERS": "false",
        "SETTLEMENT_LOG_LEVEL": "WARNING",
        "SETTLEMENT_HEADER_READ_TIMEOUT_SECONDS": "0.5",
        "SETTLEMENT_BODY_READ_TIMEOUT_SECONDS": "1",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://{LOOPBACK}:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            pytest.fail((folder / "server.log").read_text(errors="replace")[-3000:])
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def post_raw(port: int, head: str, total: int, chunk: int = 256 << 10) -> tuple[int, int]:
    """POST up to ``total`` body bytes, streamed, as a careful client does: ``Expect:
    100-continue``, and no more body once the server has answered. The final status (0 when the
    server closed before the client could read it) and the body bytes sent."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    writer.write(head.encode())
    sent = 0
    answer: asyncio.Future[bytes] | None = None
    try:
        status = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)).split()[1])
        if status == 100:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # the 100's headers
                pass
            answer = asyncio.ensure_future(reader.readuntil(b"\r\n"))
            block = b" " * chunk
            if "chunked" in head:
                block = f"{chunk:x}\r\n".encode() + block + b"\r\n"
            while sent < total and not answer.done():
                writer.write(block)
                await writer.drain()
                sent += chunk
            status = int((await asyncio.wait_for(answer, 10)).split()[1])
    except ConnectionError:
        status = 0  # the server stopped reading and closed while the client still sent
    finally:
        if answer is not None and not answer.done():
            answer.cancel()
        elif answer is not None and not answer.cancelled():
            answer.exception()  # retrieved: a reset after the answer is expected
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return status, sent


def headers(path: str, *, key: str | None, length: int | None, expect: bool = True) -> str:
    lines = [f"POST {path} HTTP/1.1", f"Host: {LOOPBACK}"]
    if expect:
        lines.append("Expect: 100-continue")
    if key:
        lines.append(f"Authorization: Bearer {key}")
    lines.append(f"Content-Length: {length}" if length else "Transfer-Encoding: chunked")
    return "\r\n".join(line for line in lines if line) + "\r\n\r\n"


async def hostile_round(port: int) -> None:
    big = 50 * MIB
    path = "/api/v1/trades/batch"
    # Refused on the headers alone: not one byte of the body is asked for.
    assert await post_raw(port, headers(path, key=None, length=big), big) == (401, 0)
    assert await post_raw(port, headers(path, key="stl_x", length=big), big) == (413, 0)
    # No length announced: counted as it comes, refused once past the cap, the rest never read
    # (what the client still manages to send lands in socket buffers, a few MB at most).
    status, sent = await post_raw(port, headers(path, key="stl_x", length=None), big)
    assert status in {413, 0}
    assert BATCH_CAP < sent < BATCH_CAP + 16 * MIB


async def test_memory_stays_flat_under_hostile_bodies(server: tuple[int, int]) -> None:
    port, pid = server
    await hostile_round(port)  # warm-up, then the baseline
    before = rss_bytes(pid)
    for _ in range(15):
        await hostile_round(port)
    # 45 requests of 50 MB each (15 of them read up to the 16 MB cap), and not one body kept.
    assert rss_bytes(pid) - before < BATCH_CAP


async def test_headers_too_slow_close_the_connection(server: tuple[int, int]) -> None:
    port, _ = server
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    assert time.monotonic() - started < 2
    writer.close()


async def test_headers_too_large_close_the_connection(server: tuple[int, int]) -> None:
    port, _ = server
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nX-Junk: " + b"a" * (128 << 10))
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    with contextlib.suppress(ConnectionError):
        assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_body_too_slow_is_408_and_the_server_still_answers(
    server: tuple[int, int],
) -> None:
    port, _ = server
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    writer.write(headers("/api/v1/trades", key="stl_x", length=100, expect=False).encode() + b"{")
    status_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)
    assert status_line.split()[1] == b"408"
    writer.close()
    async with httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{port}") as client:
        assert (await client.get("/healthz")).status_code == 200
