"""Engine, sessions and the unit of work: services flush, the boundary commits or rolls back."""

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import MetaData, Table, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from starlette.types import ASGIApp, Receive, Scope, Send

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _json_text(value: Any) -> str:
    # JSON columns (audit before/after above all) are encoded once per change, by orjson:
    # several times faster than the standard library, same JSON.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    json_codec: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **json_codec)
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **json_codec)
    _ping_when_idle(engine)
    return engine


# A connection back in the pool for less than this is taken as alive, unpinged.
PING_IDLE_SECONDS = 1.0
_CHECKED_IN_AT = "checked_in_at"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """``pool_pre_ping`` for connections that sat idle, not for every checkout.

    On asyncpg a ping is three round trips (BEGIN, an empty query, ROLLBACK): on a busy server it
    was a request's costliest statement. A connection checked in under a second ago was just
    used; one idle longer, whose server may have gone meanwhile, is pinged, and replaced when
    dead (the pool retries the checkout with a new connection on ``DisconnectionError``). A
    server lost in that second shows as a failed statement, which invalidates the pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN_AT)
        if checked_in is None or time.monotonic() - checked_in < PING_IDLE_SECONDS:
            return  # new (just connected), or just used
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise DisconnectionError("the pooled connection is dead") from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE.

    SQLite has no SELECT ... FOR UPDATE: a transaction that reads, then writes, fails with
    SQLITE_BUSY when another writer came first. Taking the write lock at BEGIN makes
    writers queue instead, which is what the row locks do on PostgreSQL.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# ``session.info`` key: set False to write no audit records (benchmarks of the trail's cost).
AUDIT_TRAIL = "audit_trail"


def create_sessionmaker(
    engine: AsyncEngine, *, audit_trail: bool = True
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info={AUDIT_TRAIL: audit_trail}
    )


class UnitOfWork:
    """One transaction per request or command.

    ``async with uow:`` commits when the block ends without an error and rolls back otherwise.
    Routes use it explicitly so the commit happens before the response is sent: a failed commit
    reaches the client as an error, never as a 201.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session: AsyncSession | None = session

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._make_session()
        return self._session

    @property
    def made_session(self) -> AsyncSession | None:
        """The session, if it has been made (a request's is made at its first use)."""
        return self._session

    @property
    def bind(self) -> Any:
        """What the session works on (an engine, or a connection), known without making it."""
        return self.session.bind

    def _make_session(self) -> AsyncSession:
        raise AssertionError("a unit of work is given its session")

    async def __aenter__(self) -> "UnitOfWork":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.made_session
        if session is None:  # nothing was done in it
            return
        if exc_type is None:
            await session.commit()
        else:
            await session.rollback()


class _RequestUnitOfWork(UnitOfWork):
    """A request's: its session is made when first asked for. A grouped capture on PostgreSQL
    reads its key and reference data outside it (``app.core.coalesce``) and books in the
    group's, so it never needs one: made anyway, it cost 10-15 us of CPU a request."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], sessions: list[AsyncSession]
    ) -> None:
        self._session = None
        self._sessionmaker, self._sessions = sessionmaker, sessions

    @property
    def bind(self) -> Any:
        return self._sessionmaker.kw.get("bind")

    def _make_session(self) -> AsyncSession:
        session = self._sessionmaker()
        self._sessions.append(session)  # closed by RequestSessions
        return session


async def read_snapshot(session: AsyncSession) -> None:
    """End the session's transaction and begin one whose reads all see one moment of the
    database, however long it takes: REPEATABLE READ on PostgreSQL. SQLite's transaction
    (BEGIN IMMEDIATE) keeps every writer out until it ends, which comes to the same."""
    await session.commit()
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


# ASGI scope key: the sessions ``get_uow`` opened for the request, closed by ``RequestSessions``.
REQUEST_SESSIONS_SCOPE_KEY = "settlement.sessions"
# ASGI scope key: the request's unit of work, once ``get_uow`` has made it.
REQUEST_UOW_SCOPE_KEY = "settlement.uow"


async def get_uow(request: Request) -> UnitOfWork:
    """FastAPI dependency: one session per request, shared by auth and the route, closed by
    ``RequestSessions`` once the request is answered. A plain dependency, not one that yields:
    FastAPI runs a yielding one in an exit stack with cancel scopes of its own, 50-60 us of CPU
    a request. Made once per request whoever asks (FastAPI's dependency cache, or the role
    check calling it directly), so that the route and its key lookup share the session; the
    session itself is made at its first use."""
    scope = request.scope
    made: UnitOfWork | None = scope.get(REQUEST_UOW_SCOPE_KEY)
    if made is not None:
        return made
    sessions: list[AsyncSession] | None = scope.get(REQUEST_SESSIONS_SCOPE_KEY)
    if sessions is None:
        raise RuntimeError("get_uow needs the RequestSessions middleware")
    made = _RequestUnitOfWork(request.app.state.sessionmaker, sessions)
    scope[REQUEST_UOW_SCOPE_KEY] = made
    return made


class RequestSessions:
    """Pure ASGI middleware: the request's sessions (``get_uow``) are closed once the app has
    answered, whatever happened, as a yielding dependency would close them after the response
    (a streamed answer still reads through its session until its last byte)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sessions: list[AsyncSession] = []
        scope[REQUEST_SESSIONS_SCOPE_KEY] = sessions
        try:
            await self.app(scope, receive, send)
        finally:
            for session in sessions:
                if not _pristine(session):
                    async with session:  # its exit closes it, to completion even if cancelled
                        pass


def _pristine(session: AsyncSession) -> bool:
    """Nothing to close: no transaction (so no connection) and no object held. Requests whose
    reads are all coalesced (a grouped capture on PostgreSQL) leave their session so, and its
    close (a task and a greenlet) costs 30-45 us of CPU for nothing."""
    return not (session.in_transaction() or session.identity_map or session.new or session.deleted)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for the session's
    database (PostgreSQL and SQLite spell them the same way)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)


def insert_or_nothing(
    table: Table, conflict: Sequence[str], returning: Any
) -> Callable[[AsyncSession], Any]:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING RETURNING returning``, built once per
    dialect, the row given at execution (``session.execute(statement, row)``): a statement
    built per call would have its cache key computed from scratch every time, hot paths pay."""
    statements = {
        name: build(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(returning)
        for name, build in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
    }
    return lambda session: statements[session.get_bind().dialect.name]


def table_of(model: type[Any]) -> Table:
    """A mapped class's table, for Core statements: a bulk ``INSERT`` of plain rows through the
    table skips the ORM's per-row bookkeeping, several times cheaper on hot paths."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
