"""Bulk inserts of plain rows: ``COPY`` on PostgreSQL for many rows, one executemany ``INSERT``
otherwise (SQLite, and a handful of rows, where COPY's extra round trip costs more than it saves).

COPY runs on the session's own connection, inside its transaction: the rows commit or roll back
with the rest of the unit of work. Each value goes through the column type's bind processor, as
an ``INSERT`` would send it (exact decimals, UTC timestamps, JSON encoded by the engine's
serializer), so both paths store the same row; then COPY's text format (asyncpg's binary
encoding of decimals cost more than formatting them here).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Dialect, Table, insert, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.util import await_only, greenlet_spawn

from app.core.driver import as_sqlalchemy_error
from app.core.types import ExactDecimal

# Below this many rows an executemany INSERT is as quick (COPY reads the table's column types
# first: one more round trip).
COPY_MIN_ROWS = 64
# Rows a COPY statement sends at most: a run writing a day's hundred thousand rows holds one
# part's text at a time (the text of a whole table was several copies of its rows).
COPY_PART_ROWS = 10_000
# Rows of a part whose text is built and sent at a time: the database takes in each while the
# next is built (a part's text built whole kept it waiting for all of it).
COPY_CHUNK_ROWS = 500

Processor = Callable[[Any], Any] | None
# A table's new rows, column by column (each column's values, one per row): ``write_tables``.
TableRows = tuple[Table, Mapping[str, Sequence[Any]]]
Plan = list[tuple[str, str, Any, Processor]]  # per column: name, row key, default, processor


def copies(session: Session, count: int) -> bool:
    """Whether ``write_rows`` of ``count`` rows goes through COPY on this session."""
    return count >= COPY_MIN_ROWS and session.get_bind().dialect.name == "postgresql"


def write_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each with the same keys) into ``table`` in the session's transaction.

    A column missing from the rows takes its Python default when it has a plain value, else
    the database's (a sequence, NULL), as with ``INSERT``. Call from synchronous code (inside
    ``AsyncSession.run_sync`` or a session event); ``insert_rows`` is the coroutine."""
    if not rows:
        return
    if not copies(session, len(rows)):
        session.execute(insert(table), list(rows))
        return
    _copy(
        session, table, rows[0].keys(), lambda key, default: [row.get(key, default) for row in rows]
    )


def write_columns(session: Session, table: Table, columns: Mapping[str, Sequence[Any]]) -> None:
    """``write_rows`` of rows given column by column: each column's values, one per row (a
    value the rows share can be the same object, converted once). Spares a writer of many rows
    a dictionary per row."""
    count = len(next(iter(columns.values()), ()))
    if not count:
        return
    if not copies(session, count):
        keys = list(columns)
        rows = [
            dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]
        session.execute(insert(table), rows)
        return
    _copy(
        session,
        table,
        columns.keys(),
        lambda key, default: columns[key] if key in columns else [default] * count,
    )


def write_tables(session: Session, tables: Sequence[TableRows]) -> None:
    """``write_columns`` of several tables, in the order given. Through COPY, each table's
    text is built while the database still takes in the previous table's rows, so that
    Python and PostgreSQL work at once (each on a core) instead of taking turns; the rows are
    written in the same order, on the same connection, in the same transaction."""
    finish(start_tables(session, tables, None))


def start_tables(
    session: Session,
    tables: Sequence[TableRows],
    after: "Pending | None",
    *,
    last_later: bool = False,
) -> "Pending | None":
    """``write_tables`` without waiting for the last COPY (the first table's text built while
    ``after``, a COPY still under way, runs): the caller lets the event loop run meanwhile and
    ``finish``es it before the connection's next use. ``last_later``: the last table is sent
    only by that ``finish``, so that the caller's work overlaps the COPY before it (a small
    last table, such as the sealer's queue after the audit records, keeps the database busy
    for less time than the caller's work, which would then wait on it)."""
    if last_later and len(tables) > 1:
        pending = start_tables(session, tables[:-1], after)
        if pending is None:
            return start_tables(session, tables[-1:], None)
        return replace(pending, session=session, then=tables[-1:])
    pending = after
    try:
        for table, columns in tables:
            count = len(next(iter(columns.values()), ()))
            if not count:
                continue
            if not copies(session, count):
                finish(pending)
                pending = None
                write_columns(session, table, columns)
                continue
            pending = _start_copy(session, table, columns.keys(), _values(columns, count), pending)
    except BaseException:
        # The connection is left with no COPY under way, whose error would come second.
        if pending is not None and not pending.task.done():
            with contextlib.suppress(Exception):
                await_only(pending.task)
        raise
    return pending


async def finished(session: Any, pending: "Pending | None") -> None:
    """``finish`` from async code, ``session`` being an ``AsyncSession``."""
    if pending is not None:
        await session.run_sync(lambda _session: finish(pending))


async def stream_columns(
    session: Any,
    table: Table,
    keys: Sequence[str],
    parts: AsyncIterator[Mapping[str, Sequence[Any]]],
    *,
    most: int,
) -> None:
    """``write_columns`` of rows made a part at a time (each part column by column, with
    ``keys``), ``session`` being an ``AsyncSession``. On PostgreSQL, one COPY takes the parts
    as they come: a part's text is sent, and the next part is made while the database takes it
    in, so that Python and PostgreSQL work at once. Where COPY does not pay (SQLite, or fewer
    than ``COPY_MIN_ROWS`` rows, ``most`` being as many as the parts can hold), the parts are
    gathered and written together."""
    if not await session.run_sync(copies, most):
        gathered: dict[str, list[Any]] = {key: [] for key in keys}
        async for columns in parts:
            for key in keys:
                gathered[key] += columns[key]
        await session.run_sync(write_columns, table, gathered)
        return
    connection, driver, plan = await session.run_sync(_copy_target, table, keys)
    processes = [process for _, _, _, process in plan]
    raised: list[BaseException] = []

    async def texts() -> AsyncIterator[bytes]:
        try:
            async for columns in parts:
                count = len(next(iter(columns.values()), ()))
                if count:
                    values_of = _values(columns, count)
                    part = [values_of(key, default) for _, key, default, _ in plan]
                    yield _copy_content(part, processes, yielding=False)
        except BaseException as error:  # the parts' own error, not the database's
            raised.append(error)
            raise

    names = [name for name, _, _, _ in plan]
    try:
        await driver.copy_to_table(
            table.name, source=texts(), columns=names, schema_name=table.schema, format="text"
        )
    except Exception as error:
        if raised and error is raised[0]:
            raise
        statement = f"COPY {table.name} ({', '.join(names)})"
        adapted = connection.connection.dbapi_connection
        translated, lost = as_sqlalchemy_error(connection.dialect, adapted, statement, error)
        if lost is not None:
            await greenlet_spawn(connection.invalidate, lost)
        if translated is error:
            raise
        raise translated from error


def _copy_target(session: Session, table: Table, keys: Sequence[str]) -> tuple[Any, Any, Plan]:
    """The session's connection, asyncpg's own under it (inside the transaction, begun if need
    be), and the columns a COPY of rows with ``keys`` writes."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    if not driver.is_in_transaction():
        # The asyncpg adapter begins its transaction with the first statement: COPY must not
        # be that statement, or it would commit on its own.
        connection.execute(text("SELECT 1"))
    return connection, driver, _plan(table, connection.dialect, keys)


def _values(
    columns: Mapping[str, Sequence[Any]], count: int
) -> Callable[[str, Any], Sequence[Any]]:
    return lambda key, default: columns[key] if key in columns else [default] * count


@dataclass(frozen=True)
class Pending:
    """A COPY sent and not yet answered."""

    connection: Connection
    statement: str
    task: asyncio.Future[Any]
    raised: list[BaseException] = field(default_factory=list)  # by the rows' text, not the database
    # Tables to write once it is answered (``start_tables(..., last_later=True)``), by ``session``.
    session: Session | None = None
    then: Sequence[TableRows] = ()


def finish(pending: Pending | None) -> None:
    """Wait for the COPY under way (if any) to be answered, its error raised as an INSERT's
    would be."""
    if pending is None:
        return
    try:
        await_only(pending.task)
    except Exception as error:
        if error in pending.raised:  # a value no column takes: raised as it was
            raise
        _raise_as_sqlalchemy_error(pending.connection, pending.statement, error)
    if pending.then and pending.session is not None:
        finish(start_tables(pending.session, pending.then, None))


def _copy(
    session: Session,
    table: Table,
    keys: Iterable[str],
    values_of: Callable[[str, Any], Sequence[Any]],
) -> None:
    """COPY the rows: ``values_of(key, default)`` gives a column's values, one per row."""
    finish(_start_copy(session, table, keys, values_of, None))


def _start_copy(
    session: Session,
    table: Table,
    keys: Iterable[str],
    values_of: Callable[[str, Any], Sequence[Any]],
    waiting: Pending | None,
) -> Pending:
    """Build the rows' COPY text and send it, ``COPY_PART_ROWS`` rows a statement, without
    waiting for the last one's answer. ``waiting``: a COPY still under way on the connection,
    as each part after the first is: the event loop is let on with between columns (the next
    text is built meanwhile), and it is answered before the next part is sent."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection  # asyncpg's own connection
    if waiting is None and not driver.is_in_transaction():
        # The asyncpg adapter begins its transaction with the first statement: COPY must not
        # be that statement, or it would commit on its own.
        connection.execute(text("SELECT 1"))
    plan = _plan(table, connection.dialect, keys)
    names = [name for name, _, _, _ in plan]
    statement = f"COPY {table.name} ({', '.join(names)})"
    columns = [values_of(key, default) for _, key, default, _ in plan]
    processes = [process for _, _, _, process in plan]
    pending = waiting
    try:
        for start in range(0, len(columns[0]), COPY_PART_ROWS):
            part = [values[start : start + COPY_PART_ROWS] for values in columns]
            # The first chunk now (a value no column takes raises here, before the COPY), the
            # others as the COPY sends them.
            first = [values[:COPY_CHUNK_ROWS] for values in part]
            content = _copy_content(first, processes, yielding=pending is not None)
            finish(pending)
            raised: list[BaseException] = []
            task = asyncio.ensure_future(
                driver.copy_to_table(
                    table.name,
                    source=_chunks(content, part, processes, raised),
                    columns=names,
                    schema_name=table.schema,
                    format="text",
                )
            )
            pending = Pending(connection, statement, task, raised)
    except BaseException:
        # The connection is left with no COPY under way, whose error would come second.
        if pending is not None and pending is not waiting and not pending.task.done():
            with contextlib.suppress(Exception):
                await_only(pending.task)
        raise
    assert pending is not None  # COPY is for COPY_MIN_ROWS rows and more
    return pending


async def _chunks(
    first: bytes,
    part: Sequence[Sequence[Any]],
    processes: Sequence[Processor],
    raised: list[BaseException],
) -> AsyncIterator[bytes]:
    """A part's text as the COPY sends it: ``first`` (its first chunk, built already), then
    each further chunk built while the database takes in the one before."""
    yield first
    for start in range(COPY_CHUNK_ROWS, len(part[0]), COPY_CHUNK_ROWS):
        chunk = [values[start : start + COPY_CHUNK_ROWS] for values in part]
        try:
            content = _copy_content(chunk, processes, yielding=False)
        except BaseException as error:
            raised.append(error)
            raise
        yield content


def _copy_content(
    columns: Sequence[Sequence[Any]], processes: Sequence[Processor], *, yielding: bool
) -> bytes:
    """Rows given column by column as COPY's text: each column's values are alike, and
    converting a list at a time keeps the per-value work in C (COPY of audit records is most
    of a batch run's writes). ``yielding``: the event loop is let on between columns (a COPY
    under way is sent its rows meanwhile)."""
    texts = []
    for values, process in zip(columns, processes, strict=True):
        if yielding:
            await_only(asyncio.sleep(0))
        texts.append(_column_text(values, process))
    lines = list(map("\t".join, zip(*texts, strict=True)))
    lines.append("")
    return "\n".join(lines).encode()


def _raise_as_sqlalchemy_error(connection: Connection, statement: str, error: Exception) -> None:
    """asyncpg's error as an INSERT would have raised it (``IntegrityError`` for a duplicate
    key, ...): callers catch SQLAlchemy's errors (a lost idempotency race retries on one). A
    connection the error shows dead is invalidated, as SQLAlchemy does for its own statements.
    In a greenlet (``session.run_sync``)."""
    adapted = connection.connection.dbapi_connection
    translated, lost = as_sqlalchemy_error(connection.dialect, adapted, statement, error)
    if lost is not None:
        connection.invalidate(lost)
    if translated is error:
        raise error
    raise translated from error


# COPY's text format: NULL is \N; a backslash, tab, newline or carriage return in a value is
# escaped. Values are what the bind processors give asyncpg for an INSERT.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        text: str = value
        if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
            return text.translate(_ESCAPES)
        return text
    if kind is Decimal or kind is int:
        return str(value)
    if kind is datetime or kind is date:
        return str(value.isoformat())
    if kind is bool:
        return "t" if value else "f"
    raise TypeError(f"no COPY text for {kind.__name__}")


_NULL = "\\N"


_STRINGS = {str, type(None)}


def _column_text(values: Sequence[Any], process: Processor) -> list[str]:
    """One column's values in COPY's text format, as ``_copy_text`` writes each value (after
    the column's bind processor). Where rows share their value objects (a batch's time, its
    actor), each object is converted once."""
    if process is None and set(map(type, values)) <= _STRINGS:
        return _texts(list(values))  # their own text: nothing to convert, nothing to share
    if process in _DECIMALS and _checked_decimals(values):
        return _texts(list(values))  # what the processor would answer for each
    shared = {id(value): value for value in values}
    if len(shared) * 2 > len(values):
        return _texts(list(map(process, values)) if process is not None else list(values))
    # The objects stay alive in ``values`` meanwhile: their ids name them.
    converted = list(shared.values())
    texts = dict(
        zip(shared, _texts(list(map(process, converted)) if process else converted), strict=True)
    )
    return [texts[id(value)] for value in values]


def _texts(values: list[Any]) -> list[str]:
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if kinds <= {str}:
        given = [value for value in values if value is not None] if nulls else values
        joined = "\x00".join(given)
        if not ("\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined):
            return [_NULL if value is None else value for value in values] if nulls else values
        if joined.count("\x00") == len(given) - 1:  # no value holds a NUL: escape them at once
            escaped = _escaped(joined).split("\x00")
            return _with_nulls(values, escaped) if nulls else escaped
    elif kinds <= {int, Decimal}:
        return [_NULL if value is None else str(value) for value in values]
    elif kinds <= {datetime, date}:
        return [_NULL if value is None else value.isoformat() for value in values]
    return list(map(_copy_text, values))


def _escaped(text: str) -> str:
    """``_ESCAPES`` applied by ``str.replace``, a C scan per character escaped: a column of
    JSON images with quotes escaped in them (every match's key) went through ``translate`` one
    value at a time, a fifth of a reconciliation run."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _with_nulls(values: list[Any], texts: list[str]) -> list[str]:
    given = iter(texts)
    return [_NULL if value is None else next(given) for value in values]


async def insert_rows(session: Any, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``write_rows`` from async code, ``session`` being an ``AsyncSession``."""
    if rows:
        await session.run_sync(write_rows, table, rows)


_PLANS: dict[tuple[str, str, frozenset[str]], Plan] = {}


def _plan(table: Table, dialect: Dialect, keys: Any) -> Plan:
    """The columns COPY writes: those the rows give, and those with a plain Python default."""
    given = frozenset(keys)
    cache_key = (table.fullname, dialect.name, given)
    plan = _PLANS.get(cache_key)
    if plan is None:
        plan = [
            (column.name, column.key, _scalar_default(column), _processor(column, dialect))
            for column in table.columns
            if column.key in given or _scalar_default(column) is not None
        ]
        _PLANS[cache_key] = plan
    return plan


def _scalar_default(column: Column[Any]) -> Any:
    default = column.default
    return default.arg if isinstance(default, ScalarElementColumnDefault) else None


def _processor(column: Column[Any], dialect: Dialect) -> Processor:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if (
        process is not None
        and isinstance(column.type, ExactDecimal)
        and column.type.load_dialect_impl(dialect).bind_processor(dialect) is None
    ):
        _DECIMALS.add(process)
    return process


# Bind processors of ExactDecimal columns whose implementation takes the Decimal as it is
# (asyncpg): the value is the processor's answer once it is checked a Decimal and finite,
# which ``_column_text`` checks of a whole column at once (trades' amounts and postings'
# amounts, costs and P&L are most of a batch's values).
_DECIMALS: set[Callable[[Any], Any]] = set()


def _checked_decimals(values: Sequence[Any]) -> bool:
    """Whether every value is a finite Decimal or None: what ExactDecimal binds unchanged."""
    kinds = set(map(type, values))
    if not kinds <= {Decimal, type(None)}:
        return False
    given = [value for value in values if value is not None] if type(None) in kinds else values
    return all(map(Decimal.is_finite, given))
