"""Fixtures: a migrated database per backend and worker, a clean state per test, an API client.

Every database test runs on SQLite, and on PostgreSQL too when SETTLEMENT_TEST_DATABASE_URL is
set (CI sets it; under CI=true its absence is an error, not a skip). Each xdist worker gets its
own database; the schema is built once through Alembic; each test starts from the state just
after migration plus one API key per role (``Database.reset``: on PostgreSQL one call of a
function that deletes and copies back, as exact as the truncation it replaces).
"""

import copy
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import settings
from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.apikeys.service import create_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.clock import get_clock
from app.core.coalesce import close_coalesced_reads
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


@event.listens_for(Engine, "connect")
def _sqlite_without_flush(dbapi_connection: Any, _record: Any) -> None:
    """SQLite's counterpart of ``synchronous_commit = off`` (below): in WAL mode, commits wait
    for no flush to the disk (only a power cut could lose them; what a test sees is the same).
    Every engine of the test process, the app's included."""
    if "sqlite" in type(dbapi_connection).__module__:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


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
        base_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
        # Commits need not wait for their WAL to reach the disk (what a test sees is the same;
        # only a crash of the server could lose them): a flush less per commit.
        f'ALTER DATABASE "{name}" SET synchronous_commit = off',
    )
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )


# TRUNCATE gives every table (and index) new files: ~0.1 s for all of them on an idle host, a
# second on a busy one. The restore function DELETEs instead, which leaves dead rows, and CI's
# server runs no autovacuum (/etc/postgresql/*/main/conf.d/90-ci.conf): one reset in this many
# truncates, which drops them.
TRUNCATE_EVERY = 100
# Wall-clock stamps (not the business clock): a restored row gets the restore's moment, as the
# row written afresh would (the sealer measures its lag from it).
WALL_CLOCK = {"audit_unsealed": "queued_at"}
Rows = dict[str, list[dict[str, Any]]]


class Database:
    """A migrated database and the rows every test starts from."""

    def __init__(self, backend: str, url: str, engine: AsyncEngine) -> None:
        self.backend = backend
        self.url = url
        self.engine = engine
        self.sessionmaker = create_sessionmaker(engine)
        self.baseline: Rows = {}
        self.keys: dict[Role, str] = {}
        self.resets = 0
        # What puts the baseline back in one call: a function (PostgreSQL), a script (SQLite).
        self.restore_call: str | None = None
        self.with_reference: Database | None = None
        self.holds_reference = False  # set by the ``db`` fixture

    async def capture_baseline(self, name: str = "baseline") -> None:
        """The rows the database holds now become the baseline ``reset`` goes back to (a copy
        of this object under another ``name`` keeps a baseline of its own)."""
        self.baseline = {}
        async with self.engine.connect() as connection:
            for table in metadata.sorted_tables:
                rows = (await connection.execute(select(table))).mappings().all()
                self.baseline[table.name] = [dict(row) for row in rows]
        # The state every restore must leave, sequences included: the truncation's, taken as
        # it leaves it.
        await self.reset_by_truncation()
        if self.backend == "postgres":
            async with self.engine.begin() as connection:
                self.restore_call = await _install_restore(
                    connection, self.baseline, f"test_snapshot_{name}"
                )
        else:
            path = Path(make_url(self.url).database or "").with_name(f"snapshot_{name}.db")
            self.restore_call = await _sqlite_snapshot(self.engine, self.baseline, path)

    async def reset(self) -> None:
        """Back to the baseline: every table's rows, every sequence where truncation leaves it
        (tests/test_reset.py holds the two ways equal)."""
        self.resets += 1
        if self.restore_call and self.resets % TRUNCATE_EVERY:
            await self.restore()
        else:
            await self.reset_by_truncation()

    async def restore(self) -> None:
        assert self.restore_call is not None, "a superuser's on PostgreSQL"
        now = datetime.now(UTC)
        async with self.engine.connect() as connection:
            if self.backend == "postgres":
                await connection.execute(text(self.restore_call), {"now": now})
                await connection.commit()
            else:
                # One call, in SQLite's own thread; it commits (or rolls back) itself.
                raw = (await connection.get_raw_connection()).driver_connection
                stamp = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
                await raw.executescript(self.restore_call.replace(_NOW, stamp))  # type: ignore[union-attr]

    async def reset_by_truncation(self) -> None:
        """TRUNCATE on PostgreSQL (DELETE on SQLite, which has none), then the baseline's rows."""
        tables = list(reversed(metadata.sorted_tables))
        now = datetime.now(UTC)
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
                    if column := WALL_CLOCK.get(table.name):
                        rows = [{**row, column: now} for row in rows]
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

    async def load_reference(self) -> None:
        """The demo reference data on top of the baseline: loaded through the services the
        first time, then restored as the baseline is (the same rows, ids included)."""
        if self.with_reference is not None:
            await self.with_reference.reset()
            return
        await self.reset()
        async with self.sessionmaker() as session, UnitOfWork(session):
            await load_demo_reference(session, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        with_reference = copy.copy(self)
        await with_reference.capture_baseline("reference")
        self.with_reference = with_reference


def _copied(table: Any, source: str) -> str:
    """SELECT the table's rows from ``source``, each wall-clock stamp replaced by ``_NOW``."""
    stamped = WALL_CLOCK.get(table.name)
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    values = ", ".join(_NOW if c.name == stamped else f'"{c.name}"' for c in table.columns)
    return f'INSERT INTO "{table.name}" ({columns}) SELECT {values} FROM {source}."{table.name}";'  # noqa: S608


# The restore's moment: the PostgreSQL function's argument, text in the SQLite script.
_NOW = "now__"

# The sequences a TRUNCATE ... RESTART IDENTITY of the tables restarts: those they own.
_OWNED_SEQUENCES = """
SELECT s.oid::regclass::text FROM pg_class AS s
  JOIN pg_depend AS d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  JOIN pg_class AS t ON t.oid = d.refobjid
 WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace
   AND t.relname = ANY(:tables)
 ORDER BY 1
"""


async def _install_restore(connection: Any, baseline: Rows, schema: str) -> str | None:
    """Create ``<schema>.restore(now)`` (in the test database only, a schema the app never
    reads) and return the statement that calls it: one round trip puts back what the database
    holds now (the baseline, just restored by truncation): every table's rows, from copies
    taken here into the schema, and every owned sequence's position. It DELETEs with triggers
    and foreign keys off (``session_replication_role = replica``: the append-only guards would
    refuse, and the order of the tables does not matter), which takes a superuser: without
    one, None (the resets truncate)."""
    superuser = await connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = user"))
    if not superuser:
        return None
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    kept = [table for table in metadata.sorted_tables if baseline.get(table.name)]
    owned = (await connection.execute(text(_OWNED_SEQUENCES), {"tables": tables})).scalars().all()
    positions = []
    for sequence in owned:
        last_value, is_called = (
            await connection.execute(text(f"SELECT last_value, is_called FROM {sequence}"))  # noqa: S608
        ).one()
        positions.append(f"PERFORM setval('{sequence}', {last_value}, {is_called});")
    await connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    await connection.execute(text(f"CREATE SCHEMA {schema}"))
    for table in kept:
        await connection.execute(
            text(f'CREATE TABLE {schema}."{table.name}" AS TABLE "{table.name}"')
        )
    body = [
        *(f'DELETE FROM "{name}";' for name in tables),  # noqa: S608
        *(_copied(table, schema) for table in kept),
        *positions,
    ]
    await connection.execute(
        text(
            f"CREATE FUNCTION {schema}.restore({_NOW} timestamptz) RETURNS void LANGUAGE plpgsql "
            "SET session_replication_role = replica "
            f"AS $$ BEGIN {' '.join(body)} END $$"
        )
    )
    return f"SELECT {schema}.restore(:now)"


async def _sqlite_snapshot(engine: AsyncEngine, baseline: Rows, path: Path) -> str:
    """Copy the tables' rows into a database file of their own and return the script that puts
    them back: one ``executescript``, in one transaction, instead of a statement per table
    (each a hop to aiosqlite's thread)."""
    kept = [table for table in metadata.sorted_tables if baseline.get(table.name)]
    attach = "ATTACH DATABASE '{}' AS snapshot;".format(str(path).replace("'", "''"))
    taken = (
        'DROP TABLE IF EXISTS snapshot."{0}"; CREATE TABLE snapshot."{0}" AS SELECT * FROM "{0}";'
    )
    copies = [taken.format(table.name) for table in kept]
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        await raw.executescript(" ".join([attach, *copies, "DETACH DATABASE snapshot;"]))  # type: ignore[union-attr]
    return " ".join(
        [
            attach,
            "BEGIN IMMEDIATE;",
            *(f'DELETE FROM main."{t.name}";' for t in reversed(metadata.sorted_tables)),  # noqa: S608
            *(_copied(table, "snapshot").replace(_NOW, f"'{_NOW}'") for table in kept),
            "COMMIT;",
            "DETACH DATABASE snapshot;",
        ]
    )


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
    await close_coalesced_reads(engine)
    await engine.dispose()
    if backend == "postgres":
        name = make_url(url).database
        await _admin_execute(os.environ[PG_ENV], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(database: Database, request: pytest.FixtureRequest) -> Database:
    database.holds_reference = "reference" in request.fixturenames
    if database.holds_reference:
        # Restored whole (``Database.load_reference``): before any other fixture writes.
        await database.load_reference()
    else:
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
def reference(db: Database) -> None:
    """The demo reference data (markets, instruments, counterparties, books, accounts, SSIs),
    which the ``db`` fixture of a test that asks for it puts in: loaded through the services by
    the first such test of each database, restored (in a tenth of the time) for the others."""
    assert db.holds_reference, "name the fixture among the test's (or a fixture's) arguments"


@pytest.fixture
async def ops2(api: Api) -> SecondKey:
    """A second operations key, for four-eyes approvals."""
    response = await api.post(
        "/api-keys", json={"name": "Second operations desk", "role": "operations"}, role="admin"
    )
    assert response.status_code == 201, response.text
    return SecondKey(response.json())
