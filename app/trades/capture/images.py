"""Trades read as Core rows rather than ORM objects, for the set-based moves of clearing and
settlement: every column labelled as ``row_snapshot`` names it, and the audit image of such a
row (equal to ``row_snapshot`` of the same trade loaded by the ORM)."""

from typing import Any

from sqlalchemy import Label, inspect

from app.core.snapshots import row_imager
from app.trades.capture.models import Trade


def _snapshot_columns() -> list[Label[Any]]:
    """Every mapped column, labelled as ``row_snapshot`` names it."""
    return [attr.columns[0].label(attr.key) for attr in inspect(Trade).column_attrs]


SNAPSHOT = _snapshot_columns()
# ``row_snapshot`` of a trade read with ``SNAPSHOT``.
image = row_imager(SNAPSHOT)
