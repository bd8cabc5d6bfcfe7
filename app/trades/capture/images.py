"""Trades' audit images read with Core, without ORM objects: each value as ``row_snapshot``
(``jsonable``) writes it. On PostgreSQL the database writes the decimals and timestamps as text
itself (numeric's text is the plain notation ``jsonable`` gives, a timestamp in UTC in
``isoformat``'s form): decoding them to Python objects only to format them again cost more
than anything else in an image."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    Row,
    String,
    Text,
    case,
    cast,
    func,
    inspect,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.snapshots import column_writer, python_type_of
from app.trades.capture.models import Trade

Convert = Callable[[Any], Any]


def _numeric_sql(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(column, Text)


def _timestamp_sql(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``2026-11-25T15:00:00+00:00``, with ``.ffffff`` only where there are microseconds, as
    ``datetime.isoformat`` writes it, whatever the session's time zone."""
    utc = func.timezone("UTC", column)
    micro = func.to_char(utc, "US", type_=String)
    return (
        func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS', type_=String)
        + case((micro == "000000", ""), else_="." + micro)
        + "+00:00"
    )


_IN_SQL: dict[type, Callable[[ColumnElement[Any]], ColumnElement[Any]]] = {
    Decimal: _numeric_sql,
    datetime: _timestamp_sql,
}


@dataclass(frozen=True)
class ImagePlan:
    """What to select for the images of rows of some columns, and which of the selected
    values Python still converts (by position)."""

    columns: list[Label[Any]]
    keys: tuple[str, ...]
    converted: list[tuple[int, Convert]]


def plan_images(columns: Sequence[Label[Any]], *, postgresql: bool) -> ImagePlan:
    """The plan for the images of rows of ``columns`` (each labelled with its image key).
    Call once the columns' types are known (foreign keys take theirs from the columns they
    name when every model is mapped)."""
    selected: list[Label[Any]] = []
    converted: list[tuple[int, Convert]] = []
    for index, column in enumerate(columns):
        in_sql = _IN_SQL.get(python_type_of(column)) if postgresql else None
        if in_sql is not None:
            selected.append(in_sql(column.element).label(column.key))
            continue
        selected.append(column)
        if (write := column_writer(column)) is not None:
            converted.append((index, write))
    return ImagePlan(selected, tuple(column.key for column in columns), converted)


class Images:
    """The image plan of some columns, per database, made at first use."""

    def __init__(self, columns: Sequence[Label[Any]]) -> None:
        self._columns = list(columns)
        self._plans: dict[bool, ImagePlan] = {}

    def plan(self, session: AsyncSession) -> ImagePlan:
        postgresql = session.get_bind().dialect.name == "postgresql"
        plan = self._plans.get(postgresql)
        if plan is None:
            plan = self._plans[postgresql] = plan_images(self._columns, postgresql=postgresql)
        return plan


def image(row: Row[Any], plan: ImagePlan) -> dict[str, Any]:
    """The image of a row selected by ``plan.columns``."""
    values = list(row)
    for index, text_of in plan.converted:
        value = values[index]
        if value is not None:
            values[index] = text_of(value)
    return dict(zip(plan.keys, values, strict=True))


def _snapshot_columns() -> list[Label[Any]]:
    """Every mapped column of a trade, labelled as ``row_snapshot`` names it."""
    return [attr.columns[0].label(attr.key) for attr in inspect(Trade).column_attrs]


# A trade's audit image read with Core, as ``row_snapshot`` of the ORM object gives it.
TRADE_IMAGES = Images(_snapshot_columns())


_CONVERTED: list[tuple[str, Convert, bool]] = []


def _converted_columns() -> list[tuple[str, Convert, bool]]:
    """The columns of a trade whose values ``jsonable`` changes: (key, writer, whether equal
    values write the same text: times and days do, decimals not: 1.5 == 1.50). Made at first
    use, once foreign keys have their columns' types (text: nothing to convert)."""
    if not _CONVERTED:
        for attr in inspect(Trade).column_attrs:
            column = attr.columns[0]
            kind = python_type_of(column)
            if kind is object:
                raise RuntimeError(f"trades.{column.name} has no type yet")
            write = column_writer(column)
            if write is not None:
                _CONVERTED.append((attr.key, write, kind in (datetime, date)))
    return _CONVERTED


def new_trade_image(row: Mapping[str, Any], texts: dict[Any, Any]) -> dict[str, Any]:
    """The audit image of a trade's row as it is inserted (every column, by key): what
    ``jsonable(row)`` gives, converting only the columns whose type needs it. ``texts`` keeps
    the text of each time and day written, for the next row (a batch's trades share them)."""
    image = dict(row)
    for key, write, by_value in _converted_columns():
        value = image[key]
        if value is None:
            continue
        if by_value:
            text = texts.get(value)
            if text is None:
                text = texts[value] = write(value)
            image[key] = text
        else:
            image[key] = write(value)
    return image
