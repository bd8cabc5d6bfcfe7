"""Trades read as Core rows rather than ORM objects, for the set-based moves of clearing and
settlement: every column labelled as ``row_snapshot`` names it, and the audit image of such a
row (equal to ``row_snapshot`` of the same trade loaded by the ORM)."""

from typing import Any

from sqlalchemy import Label, Row, inspect

from app.core.snapshots import jsonable
from app.trades.capture.models import Trade


def _snapshot_columns() -> list[Label[Any]]:
    """Every mapped column, labelled as ``row_snapshot`` names it."""
    return [attr.columns[0].label(attr.key) for attr in inspect(Trade).column_attrs]


SNAPSHOT = _snapshot_columns()


def _plain(column: Label[Any]) -> bool:
    """Whether the column's values go into an image as they are (text, integers)."""
    try:
        return column.type.python_type in (str, int, bool)
    except NotImplementedError:
        return False


_AS_IS = frozenset(column.key for column in SNAPSHOT if _plain(column))


def image(row: Row[Any]) -> dict[str, Any]:
    """``row_snapshot`` of a trade read with ``SNAPSHOT``: only decimals and times need
    converting."""
    return {key: value if key in _AS_IS else jsonable(value) for key, value in row._mapping.items()}
