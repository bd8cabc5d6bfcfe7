"""The app under test: real uvicorn processes on free 127.0.0.1 ports, or the ASGI app in this
process (httpx.ASGITransport, its lifespan run by hand) so engine events can see its SQL."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.lib.db import LOOPBACK, PROJECT_ROOT, BenchDatabase, app_environment
from bench.lib.measure import peak_rss_mib

# Seconds a server keeps an idle connection (uvicorn's default is 5): far above the clients'
# own expiry, so an idle connection is always dropped by the client first.
SERVER_KEEPALIVE = 60


@dataclass
class Server:
    """One ``uvicorn app.main:create_app --factory`` process on 127.0.0.1:port."""

    port: int
    process: asyncio.subprocess.Process
    log: Path
    peak_mib: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def sample(self) -> None:
        """Keep the peak RSS while /proc still has it."""
        if self.process.returncode is None:
            self.peak_mib = peak_rss_mib(self.pid) or self.peak_mib

    async def ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as api:
            while time.monotonic() < deadline and self.process.returncode is None:
                with contextlib.suppress(httpx.TransportError):
                    if (await api.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"uvicorn :{self.port} not ready ({self.process.returncode}):\n{tail}")

    async def stop(self) -> None:
        self.sample()
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def addresses(servers: Sequence[Server]) -> list[tuple[str, int]]:
    """(host, port) of each server: the load generator's targets."""
    return [(LOOPBACK, server.port) for server in servers]


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: all held open together, so none is handed out twice."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]


async def _start(
    port: int, url: str, log_dir: Path, log_level: str, settings: dict[str, str] | None = None
) -> Server:
    log = log_dir / f"uvicorn-{port}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"),
            *("--host", LOOPBACK, "--port", str(port), "--no-access-log", "--log-level", "warning"),
            *("--timeout-keep-alive", str(SERVER_KEEPALIVE)),
            cwd=PROJECT_ROOT,
            env=app_environment(url, log_level, settings),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return Server(port, process, log)


@contextlib.asynccontextmanager
async def running_servers(
    count: int,
    database_url: str,
    *,
    log_level: str = "WARNING",
    settings: dict[str, str] | None = None,
) -> AsyncIterator[list[Server]]:
    """``count`` servers, ready (``/readyz`` 200) for the block and stopped after it; their logs
    are kept (and named on stderr) only when the block fails."""
    log_dir = Path(tempfile.mkdtemp(prefix="settlement-bench-"))
    servers: list[Server] = []
    try:
        servers = [
            await _start(p, database_url, log_dir, log_level, settings) for p in free_ports(count)
        ]
        await asyncio.gather(*(server.ready() for server in servers))
        yield servers
    except BaseException:
        print(f"server logs kept in {log_dir}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    finally:
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)


def client(
    base_url: str, headers: dict[str, str], *, connections: int = 1, keepalive: float = 5.0
) -> httpx.AsyncClient:
    """``keepalive``: seconds an idle connection is kept. Well below the servers' keep-alive, so
    that the client never sends on a connection the server is closing as idle (a ReadError),
    however long a busy host leaves it idle between two requests."""
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=keepalive,
    )
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=600, limits=limits)


@dataclass
class InProcessApp:
    """The app in this process; ``client(role)`` talks to it without a socket."""

    app: Any
    db: BenchDatabase

    def client(self, role: str = "operations") -> httpx.AsyncClient:
        transport, headers = httpx.ASGITransport(app=self.app), self.db.headers(role)
        return httpx.AsyncClient(
            transport=transport, base_url="http://a", headers=headers, timeout=9e3
        )


@contextlib.asynccontextmanager
async def in_process_app(
    db: BenchDatabase, *, clock: Callable[[], datetime] | None = None, pool_size: int = 10
) -> AsyncIterator[InProcessApp]:
    """``create_app`` against ``db``, its lifespan entered as uvicorn would; ``clock`` replaces the
    request clock (the dependency tests override too) so a run can happen on a chosen day."""
    from app.core.clock import get_clock
    from app.core.config import Settings
    from app.main import create_app

    app = create_app(Settings(database_url=db.url, log_level="WARNING", db_pool_size=pool_size))
    if clock is not None:

        async def fixed() -> Callable[[], datetime]:
            return clock

        app.dependency_overrides[get_clock] = fixed
    async with app.router.lifespan_context(app):
        yield InProcessApp(app, db)
