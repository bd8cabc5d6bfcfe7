"""``any_of``: one array parameter on PostgreSQL, an IN list elsewhere."""

from typing import Any

from sqlalchemy import ColumnClause, String, column, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql.base import PGDialect

from app.core.any_of import any_of

ISIN: ColumnClause[Any] = column("isin", String)


def test_postgresql_binds_the_values_as_one_array() -> None:
    compiled = select(ISIN).where(any_of(ISIN, ["DE0001102614", "FR0000121014"]))
    statement = compiled.compile(dialect=PGDialect())  # type: ignore[no-untyped-call]
    assert "isin = any(" in str(statement).lower()
    assert list(statement.params.values()) == [["DE0001102614", "FR0000121014"]]


def test_sqlite_lists_the_values() -> None:
    compiled = select(ISIN).where(any_of(ISIN, ["DE0001102614", "FR0000121014"]))
    statement = compiled.compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
    )
    assert "isin IN (?, ?)" in str(statement)
