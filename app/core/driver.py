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
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Table, Text, bindparam, cast, event, exc, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import await_only, greenlet_spawn

from app.core.snapshots import python_type_of
from app.core.types import ExactDecimal


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


# The session's connection, kept for its transaction (``fetch`` finds it without a greenlet).
_CONNECTION = "driver_connection"


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTION, None)


def _connection(session: Session) -> Connection:
    connection: Connection | None = session.info.get(_CONNECTION)
    if connection is None:
        connection = session.info[_CONNECTION] = session.connection()
    return connection


def fetch_sync(
    session: Session, statement: ClauseElement, parameters: Mapping[str, Any]
) -> Sequence[Any]:
    """The rows of ``statement`` run with ``parameters`` (its bind parameters by name) in the
    session's transaction, begun if need be. Call from synchronous code run in the session's
    greenlet (``AsyncSession.run_sync``, a session event); PostgreSQL (asyncpg) only."""
    rows: Sequence[Any] = await_only(_fetch(_connection(session), statement, parameters))
    return rows


async def fetch(
    session: AsyncSession, statement: ClauseElement, parameters: Mapping[str, Any]
) -> Sequence[Any]:
    """``fetch_sync`` from async code: once the transaction has its connection, without
    entering a greenlet."""
    connection: Connection | None = session.info.get(_CONNECTION)
    if connection is None:
        connection = await session.run_sync(_connection)
    return await _fetch(connection, statement, parameters)


async def _fetch(
    connection: Connection, statement: ClauseElement, parameters: Mapping[str, Any]
) -> Sequence[Any]:
    compiled = _compiled(statement, connection.dialect)
    arguments = _arguments(compiled, parameters)
    if connection._has_events or connection.engine._has_events:
        # Seen as any statement is (statement counts, logs): the listeners get no cursor.
        for listen in connection.dispatch.before_cursor_execute:
            listen(connection, None, compiled.sql, arguments, None, False)
    adapted: Any = connection.connection.dbapi_connection
    try:
        # As the cursor adapter does it: one statement at a time on the connection, and the
        # transaction begun by the first one (the adapter sends BEGIN lazily).
        async with adapted._execute_mutex:
            if adapted._transaction is None:
                await adapted._start_transaction()
            rows: Sequence[Any] = await adapted._connection.fetch(compiled.sql, *arguments)
            return rows
    except Exception as error:
        translated, lost = as_sqlalchemy_error(connection.dialect, adapted, compiled.sql, error)
        if lost is not None:
            await greenlet_spawn(connection.invalidate, lost)
        if translated is error:
            raise
        raise translated from error


def as_sqlalchemy_error(
    dialect: Dialect, adapted: Any, statement: str, error: Exception
) -> tuple[Exception, Exception | None]:
    """asyncpg's ``error`` (raised on the asyncpg connection under SQLAlchemy's ``adapted`` one)
    as SQLAlchemy raises it for a statement of its own (a unique violation an
    ``IntegrityError``, a lost server a disconnect), and the DBAPI error when it shows the
    connection dead, for the caller to invalidate it (never to be used again). An error that is
    no database error comes back as it is."""
    translated: Any = error
    try:
        adapted._handle_exception(error)
    except Exception as raised:  # always: it raises the DBAPI's error for asyncpg's
        translated = raised
    if not isinstance(translated, dialect.loaded_dbapi.Error):
        return error, None
    lost = dialect.is_disconnect(translated, adapted, None)
    wrapped: Exception = exc.DBAPIError.instance(
        statement, None, translated, dialect.loaded_dbapi.Error, connection_invalidated=lost
    )
    return wrapped, translated if lost else None


# Column types whose arrays go as the text of an array literal, each value written by Python:
# asyncpg's binary encoding of a decimal or a timestamp cost several times ``str`` or
# ``isoformat`` of it (and a value the rows share, their time, is written once here).
_AS_TEXT = (Decimal, datetime, date)


def insert_from_arrays(table: Table, keys: Sequence[str], *, prefix: str = "n") -> Insert:
    """``INSERT INTO table (keys)`` of the rows given as one array per column (parameters
    ``{prefix}_{key}``, made by ``arrays_of``), inserted in the arrays' order (serial ids ascend
    in it): one statement, prepared once, whatever the number of rows (a multi-row VALUES is a
    new statement for every count). PostgreSQL; build it once every model is mapped (a foreign
    key takes its type from the column it names)."""
    columns = [table.c[key] for key in keys]
    given = (
        func.unnest(*(array_parameter(column, prefix) for column in columns))
        .table_valued(*(c.key for c in columns), with_ordinality="ordinal")
        .render_derived(name=f"{prefix}_given")
    )
    rows = select(*(given.c[c.key] for c in columns)).order_by(given.c.ordinal)
    return postgresql_insert(table).from_select(list(keys), rows)


def array_parameter(column: Column[Any], prefix: str) -> Any:
    """The parameter ``{prefix}_{column.key}``: an array of the column's values, as
    ``arrays_of`` gives it (for statements over arrays other than ``insert_from_arrays``)."""
    name = f"{prefix}_{column.key}"
    if python_type_of(column) in _AS_TEXT:
        return cast(bindparam(name, type_=Text()), ARRAY(column.type))
    return bindparam(name, type_=ARRAY(column.type))


def arrays_of(
    dialect: Dialect, table: Table, columns: Mapping[str, Sequence[Any]], *, prefix: str = "n"
) -> dict[str, Any]:
    """The parameters of ``insert_from_arrays`` for rows given column by column (each
    column's values, one per row)."""
    return {
        f"{prefix}_{key}": _column_array(dialect, table.c[key], values)
        for key, values in columns.items()
    }


# Per (dialect, column): how its values are written into an array's text (its bind processor,
# and the one type whose values are written by ``str`` alone once the column is checked, or
# None), None for a column whose array goes as it is. Looked up once: a capture group builds
# some forty arrays.
_Writer = tuple[Callable[[Any], Any] | None, type | None]
_WRITERS: dict[tuple[str, Column[Any]], _Writer | None] = {}
_NONE = type(None)


def _writer(dialect: Dialect, column: Column[Any]) -> _Writer | None:
    key = (dialect.name, column)
    if key not in _WRITERS:
        kind = python_type_of(column)
        if kind not in _AS_TEXT:
            _WRITERS[key] = None
        else:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            plain: type | None = None
            if process is None and kind is date:
                plain = date  # a day's text is its ISO form: ``str`` of a date
            elif isinstance(column.type, ExactDecimal) and (
                column.type.load_dialect_impl(dialect).bind_processor(dialect) is None
            ):
                plain = Decimal  # bound as it is once checked a finite Decimal (asyncpg)
            _WRITERS[key] = (process, plain)
    return _WRITERS[key]


def _plain_texts(values: Sequence[Any], plain: type) -> str | None:
    """The array's text when every value is of exactly the type ``plain`` or None, and a
    Decimal finite: what the column's bind processor answers unchanged (or has none for), so
    that ``str`` of each is its text, as below. Checked of the whole column at once, in C."""
    kinds = set(map(type, values))
    if not kinds <= {plain, _NONE}:
        return None
    if _NONE in kinds:
        given = [value for value in values if value is not None]
        if plain is Decimal and not all(map(Decimal.is_finite, given)):
            return None
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    if plain is Decimal and not all(map(Decimal.is_finite, values)):
        return None
    return "{" + ",".join(map(str, values)) + "}"


def _column_array(dialect: Dialect, column: Column[Any], values: Sequence[Any]) -> Any:
    writer = _writer(dialect, column)
    if writer is None:
        return values
    process, plain = writer
    if plain is not None and (text := _plain_texts(values, plain)) is not None:
        return text
    # Each value through the column's bind processor first (a decimal checked finite, a time
    # zone-aware and in UTC), as an INSERT would send it.
    texts: dict[int, str] = {}
    written = []
    for value in values:
        if value is None:
            written.append("NULL")
            continue
        text = texts.get(id(value))  # the objects stay alive in ``values`` meanwhile
        if text is None:
            bound = value if process is None else process(value)
            text = texts[id(value)] = bound.isoformat() if isinstance(bound, date) else str(bound)
        written.append(text)
    return "{" + ",".join(written) + "}"
