"""The reset every test starts with (``Database.reset`` in tests/conftest.py) is one call: on
PostgreSQL a function that deletes every table's rows and copies the baseline's back, instead of
a TRUNCATE of every table; on SQLite one script, instead of a statement per table. It must leave
exactly what the truncation (and the baseline's rows inserted again) leaves, rows and sequences,
after a test that wrote to most of the tables (two days of the demo week, sealed)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from app.audit.models import UnsealedRecord
from app.models import metadata
from tests.audit.support import REFERENCE_RECORDS
from tests.conftest import Database
from tests.e2e.test_demo_week import load_demo, play
from tests.support import FrozenClock, seal

SEQUENCES = """
SELECT c.oid::regclass::text FROM pg_class AS c
 WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace ORDER BY 1
"""

State = tuple[dict[str, list[str]], dict[str, tuple[Any, ...]]]


async def state(db: Database, *, advance: bool = False) -> State:
    """Every table's rows, in a stable order, and every sequence of the schema: where it stands
    and whether nextval moves past it (``advance``: after one more nextval of each)."""
    rows: dict[str, list[str]] = {}
    sequences: dict[str, tuple[Any, ...]] = {}
    async with db.engine.begin() as connection:
        for table in metadata.sorted_tables:
            result = await connection.execute(select(table))
            rows[table.name] = sorted(repr(dict(row)) for row in result.mappings())
        if db.backend != "postgres":
            return rows, sequences
        for name in (await connection.execute(text(SEQUENCES))).scalars().all():
            if advance:
                await connection.execute(text(f"SELECT nextval('{name}')"))
            statement = text(f"SELECT last_value, is_called FROM {name}")  # noqa: S608
            sequences[name] = tuple((await connection.execute(statement)).one())
    return rows, sequences


async def test_the_restore_leaves_what_truncation_leaves_after_a_week_of_business(
    app: Any, db: Database, clock: FrozenClock
) -> None:
    baseline = {name: sorted(repr(row) for row in kept) for name, kept in db.baseline.items()}
    await db.reset_by_truncation()
    truncated = await state(db)
    assert truncated[0] == baseline

    await load_demo(db)
    await play(app, db, clock)
    await seal(db.sessionmaker)
    written = await state(db, advance=True)
    # Most of the tables (38 of 58 when this was written), and every sequence (PostgreSQL's
    # six), moved.
    assert sum(written[0][name] != baseline[name] for name in baseline) >= 35
    assert len(written[1]) == (6 if db.backend == "postgres" else 0)
    assert [name for name in written[1] if written[1][name] == truncated[1][name]] == []

    await db.restore()
    assert await state(db) == truncated


async def test_the_reference_data_is_restored_as_it_was_loaded_its_queue_stamped_anew(
    db: Database,
) -> None:
    await db.load_reference()  # the first test of the database loads and keeps it
    loaded = db.with_reference
    assert loaded is not None
    expected = {name: sorted(repr(row) for row in kept) for name, kept in loaded.baseline.items()}
    queued = sorted(row["record_id"] for row in loaded.baseline["audit_unsealed"])
    before = datetime.now(UTC)

    await loaded.restore()
    rows, _ = await state(db)
    async with db.sessionmaker() as session:
        stamps = (await session.execute(select(UnsealedRecord).order_by("record_id"))).scalars()
        assert [(s.record_id, s.queued_at >= before) for s in stamps] == [(i, True) for i in queued]
    assert len(queued) == REFERENCE_RECORDS
    # The reference data's generation token: the tables' triggers renewed it as the rows went
    # back in after the load (SQLite's at each restore too), as they do when the rows are loaded.
    other = {"audit_unsealed", "reference_generation"}
    assert {name: rows[name] for name in rows if name not in other} == {
        name: expected[name] for name in expected if name not in other
    }
