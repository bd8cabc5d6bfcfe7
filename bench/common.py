"""What every benchmark (and the multi-process e2e test) needs.

- a fresh PostgreSQL database by name (dropped first when it exists), migrated through Alembic,
  loaded with the demo reference data and one API key per role;
- N real ``uvicorn`` processes serving the app against it on free loopback ports, ready when
  ``/readyz`` answers 200, stopped (and their peak RSS kept) at the end;
- valid trade payloads and the equivalent raw ``trades`` rows, built from the demo data;
- CPU and memory readings from /proc, percentiles and fixed-width result tables.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app.apikeys.service import create_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.config import PROJECT_ROOT
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.ids import new_id
from app.core.migrations import upgrade
from app.reference import demo_data
from app.reference.demo import load_demo_reference

LOOPBACK = "127.0.0.1"
DEFAULT_PG_URL = os.environ.get(
    "BENCH_PG_URL", f"postgresql+asyncpg://postgres@{LOOPBACK}:5432/postgres"
)
API = "/api/v1"
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# --- Databases --------------------------------------------------------------------------------


def database_url(server_url: str, name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the server of ``server_url``."""
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


def connect_kwargs(url: str) -> dict[str, Any]:
    """asyncpg.connect() arguments for a SQLAlchemy URL."""
    parsed = make_url(url)
    return {
        "host": parsed.host or LOOPBACK,
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "database": parsed.database or "postgres",
    }


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(**connect_kwargs(url))


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(**{**connect_kwargs(server_url), "database": "postgres"})


def _checked_name(name: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"database name {name!r} must match {_DATABASE_NAME.pattern}")
    return name


async def create_database(name: str, server_url: str = DEFAULT_PG_URL) -> str:
    """Drop database ``name`` if it exists, create it empty, and return its URL."""
    name = _checked_name(name)
    admin = await _admin(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return database_url(server_url, name)


async def drop_database(name: str, server_url: str = DEFAULT_PG_URL) -> None:
    name = _checked_name(name)
    admin = await _admin(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def migrate(url: str) -> None:
    """Alembic upgrade to head. It runs its own event loop: call it outside a running loop."""
    upgrade(url)


async def migrate_async(url: str) -> None:
    """``migrate`` from inside a running loop (in a worker thread)."""
    await asyncio.to_thread(migrate, url)


@dataclass(frozen=True)
class BenchKey:
    id: str
    secret: str


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    url: str
    server_url: str
    keys: dict[Role, BenchKey]

    def token(self, role: Role = Role.TRADER) -> str:
        return self.keys[role].secret

    def headers(self, role: Role = Role.TRADER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}


async def seed(url: str, *, now: datetime | None = None) -> dict[Role, BenchKey]:
    """Load the demo reference data and create one API key per role, in one transaction."""
    now = now or datetime.now(UTC)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    keys: dict[Role, BenchKey] = {}
    try:
        async with create_sessionmaker(engine)() as session, UnitOfWork(session):
            await load_demo_reference(session, actor=SYSTEM_ACTOR, now=now)
            for role in Role:
                issued = await create_key(
                    session, name=f"bench {role}", role=role, actor=SYSTEM_ACTOR, now=now
                )
                keys[role] = BenchKey(issued.api_key.id, issued.secret)
    finally:
        await engine.dispose()
    return keys


async def prepare_database(name: str, server_url: str = DEFAULT_PG_URL) -> BenchDatabase:
    """A fresh, migrated, seeded database with one API key per role."""
    url = await create_database(name, server_url)
    await migrate_async(url)
    keys = await seed(url)
    return BenchDatabase(name=name, url=url, server_url=server_url, keys=keys)


# --- Servers ----------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on the loopback interface (held open together)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Server:
    """One uvicorn process serving ``app.main:create_app`` on 127.0.0.1:port."""

    port: int
    process: asyncio.subprocess.Process
    log_path: Path
    peak_rss_kib: int | None = None
    cpu_seconds: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_path, lines)

    def sample(self) -> None:
        """Keep the latest peak RSS and CPU time while /proc still has them."""
        if self.process.returncode is None:
            self.peak_rss_kib = peak_rss_kib(self.pid) or self.peak_rss_kib
            self.cpu_seconds = cpu_seconds(self.pid) or self.cpu_seconds

    async def stop(self, grace: float = 15.0) -> None:
        self.sample()
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _open_log(path: Path) -> Any:
    return path.open("wb")


def server_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


async def start_servers(
    count: int,
    database_url: str,
    *,
    log_dir: Path,
    app_log_level: str = "WARNING",
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> list[Server]:
    """Start ``count`` servers at once and wait until each answers /readyz with 200."""
    environment = {
        **os.environ,
        "SETTLEMENT_DATABASE_URL": database_url,
        "SETTLEMENT_LOG_LEVEL": app_log_level,
        **(env or {}),
    }
    servers: list[Server] = []
    try:
        for port in free_ports(count):
            log_path = log_dir / f"uvicorn-{port}.log"
            log = _open_log(log_path)
            try:
                process = await asyncio.create_subprocess_exec(
                    *server_command(port),
                    cwd=PROJECT_ROOT,
                    env=environment,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                )
            finally:
                log.close()
            servers.append(Server(port=port, process=process, log_path=log_path))
        await asyncio.gather(*(_wait_ready(server, ready_timeout) for server in servers))
    except BaseException:
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
        raise
    return servers


async def _wait_ready(server: Server, within: float) -> None:
    deadline = time.monotonic() + within
    last = "no answer yet"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise RuntimeError(
                    f"uvicorn on port {server.port} exited with {server.process.returncode}:\n"
                    + server.log_tail()
                )
            try:
                response = await client.get("/readyz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            await asyncio.sleep(0.1)
    raise RuntimeError(
        f"uvicorn on port {server.port} not ready after {within:.0f} s ({last}):\n"
        + server.log_tail()
    )


@contextlib.asynccontextmanager
async def running_servers(
    count: int,
    database_url: str,
    *,
    app_log_level: str = "WARNING",
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 60.0,
    keep_logs: bool = False,
) -> AsyncIterator[list[Server]]:
    """Servers for the block; stopped after it. Their logs are removed unless the block failed
    (or ``keep_logs``), in which case the folder is printed to stderr."""
    log_dir = Path(tempfile.mkdtemp(prefix="settlement-bench-"))
    failed = True
    servers: list[Server] = []
    try:
        servers = await start_servers(
            count,
            database_url,
            log_dir=log_dir,
            app_log_level=app_log_level,
            env=env,
            ready_timeout=ready_timeout,
        )
        yield servers
        failed = False
    finally:
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
        if failed or keep_logs:
            print(f"server logs kept in {log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


# --- Trades -----------------------------------------------------------------------------------

TRADE_DATE = date(2026, 11, 24)  # a Tuesday: a trading day at every demo venue
TRADE_TIME = datetime(2026, 11, 24, 14, 31, 5, tzinfo=UTC)
COUNTERPARTY_LEIS: tuple[str, ...] = tuple(c["lei"] for c in demo_data.COUNTERPARTIES)
# T+1 in the US; T+2 in the EU until 2027-10-11 (only for the shape of the raw COPY rows).
_SETTLEMENT_DATES = {"XNYS": date(2026, 11, 25)}
_EU_SETTLEMENT_DATE = date(2026, 11, 26)


@dataclass(frozen=True)
class TradeShape:
    isin: str
    currency: str
    venue: str
    book: str
    bond: bool


def _shapes() -> tuple[TradeShape, ...]:
    shapes = []
    for instrument in demo_data.INSTRUMENTS:
        bond = instrument["type"] == "bond"
        shapes.append(
            TradeShape(
                isin=instrument["isin"],
                currency=instrument["currency"],
                venue=instrument["mic"],
                book="FI-RATES" if bond else "EQ-FLOW",
                bond=bond,
            )
        )
    return tuple(shapes)


SHAPES = _shapes()


@dataclass(frozen=True)
class BenchTrade:
    """The n-th trade of a run: every demo instrument and counterparty in turn."""

    n: int
    shape: TradeShape = field(init=False)
    lei: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", SHAPES[self.n % len(SHAPES)])
        object.__setattr__(self, "lei", COUNTERPARTY_LEIS[self.n % len(COUNTERPARTY_LEIS)])

    @property
    def side(self) -> str:
        return "buy" if self.n % 2 == 0 else "sell"

    @property
    def quantity(self) -> Decimal:
        return (
            Decimal(100_000 * (1 + self.n % 5))
            if self.shape.bond
            else Decimal(100 * (1 + self.n % 9))
        )

    @property
    def price(self) -> Decimal:
        return Decimal("78.50") if self.shape.bond else Decimal(f"{50 + self.n % 150}.25")

    @property
    def commission(self) -> Decimal:
        return Decimal("0") if self.shape.bond else Decimal("1.50")

    @property
    def fees(self) -> Decimal:
        return Decimal("0") if self.shape.bond else Decimal("0.02")


def trade_payload(n: int, *, prefix: str) -> dict[str, Any]:
    """A valid POST /trades body (as tests/factories.trade_payload), external_id ``prefix-n``."""
    terms = BenchTrade(n)
    return {
        "external_id": f"{prefix}-{n:08d}",
        "book": terms.shape.book,
        "counterparty_lei": terms.lei,
        "isin": terms.shape.isin,
        "side": terms.side,
        "quantity": str(terms.quantity),
        "price": str(terms.price),
        "currency": terms.shape.currency,
        "trade_date": TRADE_DATE.isoformat(),
        "trade_time": TRADE_TIME.isoformat().replace("+00:00", "Z"),
        "venue": terms.shape.venue,
        "settlement_date": None,
        "commission": str(terms.commission),
        "fees": str(terms.fees),
    }


TRADE_COLUMNS: tuple[str, ...] = (
    "id",
    "external_id",
    "book",
    "counterparty_lei",
    "isin",
    "side",
    "quantity",
    "price",
    "currency",
    "trade_date",
    "trade_time",
    "venue",
    "settlement_date",
    "commission",
    "fees",
    "accrued_interest",
    "gross_amount",
    "net_amount",
    "status",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "cancel_reason",
)


def trade_record(n: int, *, prefix: str, created_by: str, now: datetime) -> tuple[Any, ...]:
    """A ``trades`` row of the same shape as a booked trade, in TRADE_COLUMNS order."""
    terms = BenchTrade(n)
    shape = terms.shape
    gross = terms.quantity * terms.price / (100 if shape.bond else 1)
    gross = gross.quantize(Decimal("0.01"))
    accrued = Decimal("1234.56") if shape.bond else None
    costs = terms.commission + terms.fees
    net = gross + costs if terms.side == "buy" else gross - costs
    if accrued is not None:
        net += accrued
    return (
        new_id("trd"),
        f"{prefix}-{n:08d}",
        shape.book,
        terms.lei,
        shape.isin,
        terms.side,
        terms.quantity,
        terms.price,
        shape.currency,
        TRADE_DATE,
        TRADE_TIME,
        shape.venue,
        _SETTLEMENT_DATES.get(shape.venue, _EU_SETTLEMENT_DATE),
        terms.commission,
        terms.fees,
        accrued,
        gross,
        net,
        "captured",
        1,
        now,
        now,
        created_by,
        None,
    )


# --- Measurements -----------------------------------------------------------------------------


def _proc_status_kib(pid: int | str, field_name: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return None


def peak_rss_kib(pid: int | str = "self") -> int | None:
    """The process's peak resident set size (VmHWM), in KiB."""
    return _proc_status_kib(pid, "VmHWM")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float | None:
    """User + system CPU time the process has used so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def host_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


async def backend_pids(monitor: asyncpg.Connection, database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` (the monitor's own excluded)."""
    rows = await monitor.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    return [row["pid"] for row in rows]


@dataclass
class CpuMeter:
    """CPU used over one phase by the servers, the PostgreSQL backends serving the database
    (when given a monitor connection to it), this client and the whole host.

    Backends are polled every ``poll_seconds`` so that one closed during the phase (a pool's
    overflow connection) still counts up to its last poll. Percentages are of one core for
    processes (200 % = both cores of a 2-core host) and of all cores for the host.
    PostgreSQL's background processes (WAL writer, checkpointer) are not counted.
    """

    server_pids: Sequence[int]
    monitor: asyncpg.Connection | None = None
    database: str | None = None
    poll_seconds: float = 0.2
    wall: float = 0.0
    servers_pct: float = 0.0
    postgres_pct: float | None = None
    client_pct: float = 0.0
    host_pct: float = 0.0
    _start: tuple[float, float, float, tuple[int, int]] | None = None
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _poller: asyncio.Task[None] | None = None

    def _servers_cpu(self) -> float:
        return sum(cpu_seconds(pid) or 0.0 for pid in self.server_pids)

    async def _poll_backends(self) -> None:
        if self.monitor is None or self.database is None:
            return
        for pid in await backend_pids(self.monitor, self.database):
            cpu = cpu_seconds(pid)
            if cpu is not None:
                self._last[pid] = cpu

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self._poll_backends()

    async def start(self) -> None:
        await self._poll_backends()
        self._first = dict(self._last)
        if self.monitor is not None:
            self._poller = asyncio.create_task(self._poll_forever())
        self._start = (
            time.perf_counter(),
            self._servers_cpu(),
            time.process_time(),
            host_cpu_ticks(),
        )

    async def stop(self) -> None:
        assert self._start is not None, "start() first"
        wall0, servers0, client0, (busy0, total0) = self._start
        self.wall = time.perf_counter() - wall0
        servers1, client1, (busy1, total1) = (
            self._servers_cpu(),
            time.process_time(),
            host_cpu_ticks(),
        )
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            await self._poll_backends()
            used = sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())
            self.postgres_pct = 100 * used / self.wall if self.wall else 0.0
        if self.wall > 0:
            self.servers_pct = 100 * (servers1 - servers0) / self.wall
            self.client_pct = 100 * (client1 - client0) / self.wall
        if total1 > total0:
            self.host_pct = 100 * (busy1 - busy0) / (total1 - total0)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 90, 99)) -> dict[float, float]:
    return {q: percentile(values, q) for q in qs}


# --- Output -----------------------------------------------------------------------------------


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> str:
    """A fixed-width table: the first column left-aligned, the others right-aligned."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [
        max([len(header), *(len(row[i]) for row in cells if i < len(row))])
        for i, header in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.ljust(width) if i == 0 else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=False))
        ]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out.append(line(headers))
    out.append("  ".join("-" * width for width in widths))
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def fmt_pct(value: float) -> str:
    return f"{value:.0f}%"


def fmt_mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:,.1f} MiB"


def add_server_arguments(
    parser: argparse.ArgumentParser, *, database: str, phase_timeout: float
) -> None:
    """The options every bench shares: which database, which server, how long a phase may take."""
    parser.add_argument("--database", default=database, help="database name")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--app-log-level", default="INFO", help="SETTLEMENT_LOG_LEVEL of servers")
    parser.add_argument(
        "--phase-timeout", type=float, default=phase_timeout, help="seconds per phase"
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")


def check_limits(parser: argparse.ArgumentParser, limits: dict[str, tuple[int, int, int]]) -> None:
    """``{"--name": (value, low, high)}``: refuse any value outside its range."""
    for name, (value, low, high) in limits.items():
        if not low <= value <= high:
            parser.error(f"{name} must be between {low} and {high}")
