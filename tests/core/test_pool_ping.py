"""The pool pings a connection only when it has been idle (app/core/db.py): a dead one is
replaced at checkout, unseen by the caller."""

import pytest
from sqlalchemy import text

from app.core import db as core_db
from app.core.db import create_engine
from tests.conftest import Database


async def test_a_dead_idle_connection_is_replaced_at_checkout(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.backend == "sqlite":
        pytest.skip("SQLite has no server to lose")
    monkeypatch.setattr(core_db, "PING_IDLE_SECONDS", 0.0)  # every checked-in one is idle
    engine = create_engine(db.url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with db.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})

        async with engine.connect() as connection:
            again = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        assert again != first
    finally:
        await engine.dispose()
