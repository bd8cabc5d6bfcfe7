"""JSON-safe snapshots of rows, for audit before/after images and event payloads, and rows
rebuilt from them for answers ``as_of`` a past moment."""

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import TypeDecorator, inspect
from sqlalchemy.orm import Mapper

from app.core.money import format_decimal

_AS_IS = frozenset({str, int, bool, float, type(None)})


def jsonable(value: Any) -> Any:
    if type(value) in _AS_IS:  # most columns: answered before the isinstance checks
        return value
    if isinstance(value, Decimal):
        # PostgreSQL's numeric has no negative zero: "-0.00" would be read back as "0.00".
        return format_decimal(abs(value) if value.is_zero() else value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


_COLUMN_KEYS: dict[type, tuple[str, ...]] = {}


def _column_keys(mapped: type) -> tuple[str, ...]:
    keys = _COLUMN_KEYS.get(mapped)
    if keys is None:
        mapper: Mapper[Any] = inspect(mapped)
        keys = _COLUMN_KEYS[mapped] = tuple(attr.key for attr in mapper.column_attrs)
    return keys


def row_snapshot(obj: Any, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every mapped column of ``obj`` as JSON-safe values."""
    return {
        key: jsonable(getattr(obj, key)) for key in _column_keys(type(obj)) if key not in exclude
    }


M = TypeVar("M")


def _as_is(value: Any) -> Any:
    return value


# What ``jsonable`` wrote, read back: the other column types are stored in JSON as they are.
_READERS: dict[type, Callable[[Any], Any]] = {
    Decimal: Decimal,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
}
_COLUMN_READERS: dict[type, dict[str, Callable[[Any], Any]]] = {}


def _column_readers(mapped: type) -> dict[str, Callable[[Any], Any]]:
    readers = _COLUMN_READERS.get(mapped)
    if readers is None:
        mapper: Mapper[Any] = inspect(mapped)
        readers = {}
        for attr in mapper.column_attrs:
            column_type = attr.columns[0].type
            if isinstance(column_type, TypeDecorator):  # exact decimals, UTC timestamps
                column_type = column_type.impl_instance
            try:
                python_type = column_type.python_type
            except NotImplementedError:  # kept in JSON as they are
                python_type = object
            readers[attr.key] = _READERS.get(python_type, _as_is)
        _COLUMN_READERS[mapped] = readers
    return readers


def row_from_snapshot(mapped: type[M], snapshot: Mapping[str, Any]) -> M:
    """A transient ``mapped`` (never added to a session) holding a ``row_snapshot``'s columns
    as their Python types again: what the row was, for code that reads rows. Columns the
    snapshot lacks (added to the table after it was taken) are left unset, that is None."""
    values = {
        key: None if snapshot[key] is None else read(snapshot[key])
        for key, read in _column_readers(mapped).items()
        if key in snapshot
    }
    return mapped(**values)


# Images of Core rows ---------------------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else jsonable(value)


def _moment_text(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _day_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


_WRITERS: dict[type, Callable[[Any], Any] | None] = {
    str: None,
    int: None,
    bool: None,
    Decimal: _decimal_text,
    datetime: _moment_text,
    date: _day_text,
}


def python_type_of(column: Any) -> type:
    """The Python type of a column's values (``object`` when its type does not say)."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):  # exact decimals, UTC timestamps
        column_type = column_type.impl_instance
    try:
        python_type: type = column_type.python_type
    except NotImplementedError:
        return object
    return python_type


def column_writer(column: Any) -> Callable[[Any], Any] | None:
    """What turns a column's value into what ``jsonable`` gives, chosen once by the column's
    type; None where the value goes in as it is (text, integers)."""
    return _WRITERS.get(python_type_of(column), jsonable)


def row_imager(columns: Iterable[Any]) -> Callable[[Any], dict[str, Any]]:
    """``row_snapshot`` for Core rows of ``columns``, in that order (named as the mapped
    attributes are): what ``jsonable`` gives for each value, converting only the columns that
    need it (decimals, times, JSON), each by its column's type rather than by testing every
    value's."""
    listed = list(columns)
    keys = [column.key for column in listed]
    writers = [column_writer(column) for column in listed]
    convert = [(index, write) for index, write in enumerate(writers) if write is not None]

    def image(row: Any) -> dict[str, Any]:
        values = list(row)
        for index, write in convert:
            values[index] = write(values[index])
        return dict(zip(keys, values, strict=True))

    return image
