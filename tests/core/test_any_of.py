"""``any_of``: one array parameter on PostgreSQL, an IN list elsewhere."""

from typing import Any

from sqlalchemy import ColumnClause, String, column, create_engine, select, text
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


def test_statements_differing_only_in_values_share_one_cache_key() -> None:
    keys = [
        select(ISIN).where(any_of(ISIN, values))._generate_cache_key()
        for values in (["a"], ["b", "c"])
    ]
    assert keys[0] is not None
    assert keys[0] == keys[1]


def test_a_cached_statement_binds_each_executions_values() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (isin TEXT)"))
        connection.execute(text("INSERT INTO t VALUES ('a'), ('b'), ('c')"))
        found = [
            connection.execute(select(ISIN).select_from(text("t")).where(any_of(ISIN, values)))
            .scalars()
            .all()
            for values in (["a"], ["b", "c"], [])
        ]
    assert found == [["a"], ["b", "c"], []]


def test_postgresql_binds_each_executions_array() -> None:
    first, second = (select(ISIN).where(any_of(ISIN, values)) for values in (["a"], ["b", "c"]))
    key = first._generate_cache_key()
    compiled = first._compiler(PGDialect(), cache_key=key, column_keys=None, for_executemany=False)  # type: ignore[no-untyped-call]
    extracted = second._generate_cache_key()
    assert extracted is not None
    assert list(compiled.construct_params(extracted_parameters=extracted[1]).values()) == [
        ["b", "c"]
    ]
