"""``column IN (values)`` whatever the number of values: on PostgreSQL ``column = ANY(:array)``,
one statement prepared once for every count (an IN list is a new statement, with a parameter
per value, for each count); elsewhere a plain IN list.

The element has a cache key (its column and its bound values, never the values themselves), so
a statement using it is compiled once and found in SQLAlchemy's compiled cache afterwards; an
element without one would make every statement holding it compile again at each execution."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.visitors import InternalTraversal


class AnyOf(ColumnElement[bool]):
    # Both binds carry the values, and both are in the cache key: each execution of a cached
    # statement takes its values from whichever of the two the dialect rendered.
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]
    inherit_cache = True
    type = Boolean()

    def __init__(self, column: Any, values: Iterable[Any]) -> None:
        self.column: ColumnElement[Any] = coercions.expect(roles.ExpressionElementRole, column)
        values = list(values)
        self.listed = bindparam(None, values, type_=self.column.type, expanding=True)
        self.array = bindparam(None, values, type_=ARRAY(self.column.type))


def any_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` (a column or a mapped attribute) among ``values``."""
    return AnyOf(column, values)


@compiles(AnyOf)
def _in_list(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.in_(element.listed), **kw))


@compiles(AnyOf, "postgresql")
def _any_array(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column == func.any(element.array), **kw))
