"""Fixtures: a migrated database per backend and worker, a clean state per test, an API client.

Every database test runs on SQLite, and on PostgreSQL too when SETTLEMENT_TEST_DATABASE_URL is
set (CI sets it; under CI=true its absence is an error, not a skip). Each xdist worker gets its
own database; the schema is built once through Alembic; each test starts from the state just
after migration plus one API key per role, restored by truncation.
"""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import settings
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.apikeys.service import create_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.clock import get_clock
from app.core.config import Settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.main import create_app
from app.models import metadata
from app.reference.demo import load_demo_reference
from tests.support import Api, FrozenClock, SecondKey, seal

PG_ENV = "SETTLEMENT_TEST_DATABASE_URL"

# Property tests: quick in `make test` and CI, long under `make test-deep` (the deep profile):
# twenty times the examples, and the ledger state machine's runs twice as long.
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None, stateful_step_count=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# A Wednesday afternoon in New York: 2026-11-24 (Tuesday) is a trading day at every demo venue.
DEFAULT_NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get(PG_ENV) else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI", "").lower() == "true" and not os.environ.get(PG_ENV):
        raise pytest.UsageError(f"CI=true needs {PG_ENV}: the suite must run on PostgreSQL too.")
    # With -n, the tests of one ``xdist_group`` (servers they share) go to one worker:
    # ``loadgroup`` is ``load`` (xdist's default) plus that.
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` sends the tests of one ``xdist_group`` to one worker by a
    ``@group`` suffix on their node ids, which each worker adds. pytest-xdist 3.8 adds it only
    when ``--dist loadgroup`` is on the command line (``pytest_configure`` above chooses it
    after the workers read theirs) and writes it to ``item._nodeid``, which pytest 9 no longer
    reads (the id is ``item._id``): so add it here, on every worker."""
    if not hasattr(config, "workerinput"):
        return
    for item in items:
        groups = sorted(
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        )
        if groups and not item.nodeid.endswith("@" + "_".join(groups)) and hasattr(item, "_id"):
            item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(groups)}")


def _worker(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _admin_execute(base_url: str, *statements: str) -> None:
    url = make_url(base_url)
    admin = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database="postgres",
    )
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def _fresh_postgres(base_url: str, worker: str) -> str:
    """A database of this worker's own; the process id keeps concurrent runs apart."""
    url = make_url(base_url)
    name = f"{url.database or 'settlement_test'}_{worker}_{os.getpid()}"
    await _admin_execute(
        base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )


class Database:
    """A migrated database and the rows every test starts from."""

    def __init__(self, backend: str, url: str, engine: AsyncEngine) -> None:
        self.backend = backend
        self.url = url
        self.engine = engine
        self.sessionmaker = create_sessionmaker(engine)
        self.baseline: dict[str, list[dict[str, Any]]] = {}
        self.keys: dict[Role, str] = {}

    async def capture_baseline(self) -> None:
        async with self.engine.connect() as connection:
            for table in metadata.sorted_tables:
                rows = (await connection.execute(select(table))).mappings().all()
                self.baseline[table.name] = [dict(row) for row in rows]

    async def reset(self) -> None:
        tables = list(reversed(metadata.sorted_tables))
        async with self.engine.begin() as connection:
            if self.backend == "postgres":
                names = ", ".join(table.name for table in tables)
                await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await connection.execute(delete(table))
            for table in metadata.sorted_tables:
                rows = self.baseline.get(table.name)
                if rows:
                    await connection.execute(insert(table), rows)
                    if self.backend == "postgres":
                        await self._follow_sequences(connection, table)

    @staticmethod
    async def _follow_sequences(connection: Any, table: Any) -> None:
        # RESTART IDENTITY set the sequences back to 1: move them past the restored rows.
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                sequence = func.pg_get_serial_sequence(table.name, column.name)
                highest = select(func.max(column)).scalar_subquery()
                await connection.execute(select(func.setval(sequence, highest)))


@pytest.fixture(scope="session", params=_backends())
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    backend: str = request.param
    worker = _worker(request)
    if backend == "postgres":
        url = await _fresh_postgres(os.environ[PG_ENV], worker)
    else:
        path: Path = tmp_path_factory.mktemp(f"sqlite-{worker}") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
    # Alembic's async env runs its own event loop: run it off this one.
    import asyncio

    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    db = Database(backend, url, engine)
    async with db.sessionmaker() as session, UnitOfWork(session):
        for role in Role:
            issued = await create_key(
                session, name=f"test {role}", role=role, actor=SYSTEM_ACTOR, now=DEFAULT_NOW
            )
            db.keys[role] = issued.secret
    await seal(db.sessionmaker)
    await db.capture_baseline()
    yield db
    await engine.dispose()
    if backend == "postgres":
        name = make_url(url).database
        await _admin_execute(os.environ[PG_ENV], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(database: Database) -> Database:
    await database.reset()
    return database


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as session:
        yield session


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEFAULT_NOW)


@pytest.fixture(scope="session")
async def app(database: Database) -> AsyncIterator[Any]:
    application = create_app(
        Settings(
            database_url=database.url,
            log_json=True,
            log_level="WARNING",
            # Tests seal when they mean to (``tests.support.seal``), not behind their back.
            background_workers=False,
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: Any, db: Database, clock: FrozenClock) -> AsyncIterator[Api]:
    app.dependency_overrides[get_clock] = lambda: clock
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(client, db.keys)
    app.dependency_overrides.clear()


@pytest.fixture
async def reference(db: Database) -> None:
    """The demo reference data (markets, instruments, counterparties, books, accounts, SSIs)."""
    async with db.sessionmaker() as session, UnitOfWork(session):
        await load_demo_reference(session, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)


@pytest.fixture
async def ops2(api: Api) -> SecondKey:
    """A second operations key, for four-eyes approvals."""
    response = await api.post(
        "/api-keys", json={"name": "Second operations desk", "role": "operations"}, role="admin"
    )
    assert response.status_code == 201, response.text
    return SecondKey(response.json())
