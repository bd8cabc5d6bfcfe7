"""JSON-safe snapshots of rows, for audit before/after images and event payloads."""

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper

from app.core.money import format_decimal

_AS_IS = frozenset({str, int, bool, float, type(None)})


def jsonable(value: Any) -> Any:
    if type(value) in _AS_IS:  # most columns: answered before the isinstance checks
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
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
