"""``column IN (values)`` whatever the number of values: on PostgreSQL ``column = ANY(:array)``,
one statement prepared once for every count (an IN list is a new statement, with a parameter
per value, for each count); elsewhere an expanding IN list.

The element carries both parameters (the array and the list) and says which it has in its
cache key: a statement using it is compiled once and then taken from SQLAlchemy's compiled
cache, the values going in as parameters, as for any built-in element."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BindParameter, Boolean, ColumnElement, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


class AnyOf(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, values: Iterable[Any]) -> None:
        clause = getattr(column, "__clause_element__", None)
        self.column: ColumnElement[Any] = clause() if clause is not None else column
        values = list(values)
        # Only one is rendered (by dialect); the other is an unused parameter.
        self.array: BindParameter[Any] = bindparam(None, values, type_=ARRAY(self.column.type))
        self.listed: BindParameter[Any] = bindparam(
            None, values, type_=self.column.type, expanding=True
        )

    @property
    def _from_objects(self) -> Any:
        return self.column._from_objects


def any_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` (a column or a mapped attribute) among ``values``."""
    return AnyOf(column, values)


@compiles(AnyOf)
def _in_list(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.in_(element.listed), **kw))


@compiles(AnyOf, "postgresql")
def _any_array(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column == func.any(element.array), **kw))
