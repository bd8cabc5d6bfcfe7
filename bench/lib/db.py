"""A fresh PostgreSQL database per run: created empty, migrated and seeded by the app's own
``settlement migrate`` and ``settlement demo`` commands (Alembic, demo reference data and
opening balances, one API key per role), bulk rows by asyncpg COPY, dropped at the end."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

LOOPBACK = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG_URL = os.environ.get(
    "BENCH_PG_URL", f"postgresql+asyncpg://postgres@{LOOPBACK}:5432/postgres"
)
MONITOR_APP = "bench-monitor"  # application_name of the bench's own connections
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def connect_kwargs(url: str) -> dict[str, Any]:
    """asyncpg.connect() arguments for a SQLAlchemy URL."""
    given = make_url(url).translate_connect_args(username="user")
    return {"host": LOOPBACK, "user": "postgres", "database": "postgres", **given}


async def connect(url: str) -> asyncpg.Connection:
    """A connection of the bench (monitoring, COPY, checks), told apart from the app's."""
    return await asyncpg.connect(
        **connect_kwargs(url), server_settings={"application_name": MONITOR_APP}
    )


def app_environment(
    url: str, log_level: str = "WARNING", settings: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment an app process needs to use this checkout against ``url``, with any
    other ``settings`` (``SETTLEMENT_...`` variables)."""
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "SETTLEMENT_DATABASE_URL": url,
        "SETTLEMENT_LOG_LEVEL": log_level,
        **(settings or {}),
    }


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    url: str  # SQLAlchemy URL (postgresql+asyncpg)
    server_url: str
    keys: dict[str, str]  # role -> secret
    key_ids: dict[str, str]  # role -> api_keys.id

    def headers(self, role: str = "trader") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


async def _admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(**{**connect_kwargs(server_url), "database": "postgres"})
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r} must match {_NAME.pattern}")
    return name


async def drop_database(name: str, server_url: str = DEFAULT_PG_URL) -> None:
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')


async def clone_database(db: BenchDatabase, clone: str) -> str:
    """``clone`` afresh as a copy of ``db`` (``CREATE DATABASE ... TEMPLATE``: same rows, same
    statistics); its URL. Nothing may be connected to ``db`` meanwhile: the bench closes its
    connections first; an idle one the app left behind after its engine was disposed (seen
    once setup has gone through the API) is ended after two seconds."""
    await drop_database(clone, db.server_url)
    for attempt in range(20):
        connection = await asyncpg.connect(
            **{**connect_kwargs(db.server_url), "database": "postgres"}
        )
        try:
            others = await connection.fetch(
                "SELECT pid, state FROM pg_stat_activity WHERE datname = $1", db.name
            )
            if others and attempt == 19:
                await connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND state = 'idle'",
                    db.name,
                )
        finally:
            await connection.close()
        if not others:
            break
        await asyncio.sleep(0.1)
    await _admin(db.server_url, f'CREATE DATABASE "{_checked(clone)}" TEMPLATE "{db.name}"')
    url = make_url(db.url).set(database=clone)
    return url.render_as_string(hide_password=False)


async def _settlement(url: str, *args: str) -> None:
    """The app's own ``settlement`` command (``python -m app.cli``) against ``url``."""
    out, env = asyncio.subprocess.PIPE, app_environment(url)
    command = (sys.executable, "-m", "app.cli", *args)
    process = await asyncio.create_subprocess_exec(*command, cwd=PROJECT_ROOT, env=env, stdout=out)
    output, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"settlement {' '.join(args)} failed:\n{output.decode()[-2000:]}")


async def prepare_database(name: str, server_url: str = DEFAULT_PG_URL) -> BenchDatabase:
    """``name`` afresh (dropped first), then ``settlement migrate`` and ``settlement demo``."""
    await drop_database(name, server_url)
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    await _settlement(rendered, "migrate")
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as folder:
        keys_file = Path(folder) / "keys.txt"
        await _settlement(rendered, "demo", "--keys-file", str(keys_file))
        keys = dict(line.split("\t", 1) for line in keys_file.read_text().splitlines() if line)
    connection = await connect(rendered)
    try:
        rows = await connection.fetch("SELECT role, id FROM api_keys WHERE name LIKE 'demo %'")
    finally:
        await connection.close()
    return BenchDatabase(name, rendered, server_url, keys, {r["role"]: r["id"] for r in rows})


async def copy_rows(
    connection: asyncpg.Connection, table: str, columns: Sequence[str], rows: Sequence[Any]
) -> None:
    """COPY ``rows`` into ``table``, one transaction per 20,000."""
    for start in range(0, len(rows), 20_000):
        async with connection.transaction():
            part = rows[start : start + 20_000]
            await connection.copy_records_to_table(table, records=part, columns=list(columns))
