"""``column IN (values)`` whatever the number of values: on PostgreSQL ``column = ANY(:array)``,
one statement prepared once for every count (an IN list is a new statement, with a parameter
per value, for each count); elsewhere a plain IN list."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles


class AnyOf(ColumnElement[bool]):
    inherit_cache = False
    type = Boolean()

    def __init__(self, column: Any, values: Iterable[Any]) -> None:
        self.column: ColumnElement[Any] = column
        self.values = list(values)


def any_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` (a column or a mapped attribute) among ``values``."""
    return AnyOf(column, values)


@compiles(AnyOf)
def _in_list(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.in_(element.values), **kw))


@compiles(AnyOf, "postgresql")
def _any_array(element: AnyOf, compiler: Any, **kw: Any) -> str:
    array = bindparam(None, element.values, type_=ARRAY(element.column.type))
    return str(compiler.process(element.column == func.any(array), **kw))
