"""Statements of a session's transaction sent to asyncpg itself (PostgreSQL), on the session's
own connection and in its transaction: they commit or roll back with the rest of it.

SQLAlchemy's execution layers (the session, the connection, the cursor adapter, the result)
cost several times what asyncpg takes to send a prepared statement and decode its rows: hot
paths that run a handful of statements per request (a capture group) pay it on each. Here a
Core statement is compiled once per dialect, its parameters go through the columns' bind
processors as they would for ``session.execute``, and asyncpg's own statement cache prepares
it once per connection. Rows come back as asyncpg records (by position or by name); errors as
SQLAlchemy raises them for a statement of its own (a unique violation is an ``IntegrityError``).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, exc, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import await_only


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: dict[str, Any]  # the values the statement itself binds (a LIMIT, a literal)


_COMPILED: dict[tuple[ClauseElement, str], _Compiled] = {}


def _compiled(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    key = (statement, dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        compiled: Any = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        processors = compiled._bind_processors
        found = _COMPILED[key] = _Compiled(
            compiled.string,
            names,
            tuple(processors.get(name) for name in names),
            compiled.construct_params(_check=False),
        )
    return found


def _arguments(compiled: _Compiled, parameters: Mapping[str, Any]) -> list[Any]:
    arguments = []
    for name, process in zip(compiled.names, compiled.processors, strict=True):
        value = parameters[name] if name in parameters else compiled.defaults[name]
        arguments.append(value if process is None or value is None else process(value))
    return arguments


def fetch_sync(
    session: Session, statement: ClauseElement, parameters: Mapping[str, Any]
) -> Sequence[Any]:
    """The rows of ``statement`` run with ``parameters`` (every bind parameter by name) in the
    session's transaction, begun if need be. Call from synchronous code run in the session's
    greenlet (``AsyncSession.run_sync``, a session event); PostgreSQL (asyncpg) only."""
    connection = session.connection()
    compiled = _compiled(statement, connection.dialect)
    arguments = _arguments(compiled, parameters)
    adapted: Any = connection.connection.dbapi_connection
    if connection._has_events or connection.engine._has_events:
        # Seen as any statement is (statement counts, logs): the listeners get no cursor.
        for listen in connection.dispatch.before_cursor_execute:
            listen(connection, None, compiled.sql, arguments, None, False)
    try:
        rows: Sequence[Any] = await_only(_fetch(adapted, compiled.sql, arguments))
    except Exception as error:
        raise _as_sqlalchemy_error(connection, compiled.sql, error) from error
    return rows


async def fetch(
    session: AsyncSession, statement: ClauseElement, parameters: Mapping[str, Any]
) -> Sequence[Any]:
    """``fetch_sync`` from async code."""
    rows: Sequence[Any] = await session.run_sync(fetch_sync, statement, parameters)
    return rows


async def _fetch(adapted: Any, sql: str, arguments: Sequence[Any]) -> Sequence[Any]:
    # As the cursor adapter does it: one statement at a time on the connection, and the
    # transaction begun by the first one (the adapter sends BEGIN lazily).
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        rows: Sequence[Any] = await adapted._connection.fetch(sql, *arguments)
        return rows


def _as_sqlalchemy_error(connection: Connection, statement: str, error: Exception) -> BaseException:
    """asyncpg's error as ``session.execute`` raises it; a connection the error shows dead is
    invalidated (not pooled again)."""
    dialect = connection.dialect
    adapted: Any = connection.connection.dbapi_connection
    translated: Any = error
    try:
        adapted._handle_exception(error)
    except Exception as raised:  # always: it raises the DBAPI's error for asyncpg's
        translated = raised
    if not isinstance(translated, dialect.loaded_dbapi.Error):
        return error
    lost = dialect.is_disconnect(translated, adapted, None)
    if lost:
        connection.invalidate(translated)
    wrapped: BaseException = exc.DBAPIError.instance(
        statement, None, translated, dialect.loaded_dbapi.Error, connection_invalidated=lost
    )
    return wrapped


def insert_from_arrays(table: Table, keys: Sequence[str], *, prefix: str = "n") -> Insert:
    """``INSERT INTO table (keys)`` of the rows given as one array per column (parameters
    ``{prefix}_{key}``), inserted in the arrays' order (serial ids ascend in it): one statement,
    prepared once, whatever the number of rows (a multi-row VALUES is a new statement for
    every count). PostgreSQL; build it once every model is mapped (a foreign key takes its
    type from the column it names)."""
    columns = [table.c[key] for key in keys]
    given = (
        func.unnest(*(bindparam(f"{prefix}_{c.key}", type_=ARRAY(c.type)) for c in columns))
        .table_valued(*(c.key for c in columns), with_ordinality="ordinal")
        .render_derived(name=f"{prefix}_given")
    )
    rows = select(*(given.c[c.key] for c in columns)).order_by(given.c.ordinal)
    return postgresql_insert(table).from_select(list(keys), rows)


def arrays_of(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], *, prefix: str = "n"
) -> dict[str, list[Any]]:
    """The parameters of ``insert_from_arrays`` for ``rows`` (mappings by key)."""
    return {f"{prefix}_{key}": [row[key] for row in rows] for key in keys}
