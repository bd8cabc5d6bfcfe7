"""app.core.bulk: rows written by COPY (PostgreSQL) read back as written, whatever their text."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from app.audit.models import AuditRecord, UnsealedRecord
from app.core import bulk
from app.core.db import table_of
from app.core.types import ExactDecimal
from tests.conftest import Database

AWKWARD = [
    "tab\there",
    "line\nbreak and \r return",
    "back\\slash \\N \\.",
    'quote " and json {"a": "\\u00e9"}',
    "ünïcødé €",
    "",
]


def record(n: int, text: str) -> dict[str, Any]:
    return {
        "occurred_at": datetime(2026, 11, 25, 15, 0, n, 123456, tzinfo=UTC),
        "actor_key_id": text,
        "actor_role": "trader",
        "actor_name": f"writer {n}",
        "request_id": None if n % 2 else text,
        "entity_type": "test",
        "entity_id": f"e{n}",
        "action": "written",
        "before": None,
        "after": {"text": text, "n": n, "nested": [text, None]},
        "event_type": None,
    }


@pytest.mark.parametrize(
    ("minimum", "part", "chunk"),
    [(1, 10_000, 500), (1, 4, 500), (1, 10_000, 4), (1, 5, 2), (10**9, 4, 500)],
    ids=["copy", "copy-parts", "copy-chunks", "copy-parts-chunks", "insert"],
)
async def test_rows_read_back_as_written(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int, part: int, chunk: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    monkeypatch.setattr(bulk, "COPY_PART_ROWS", part)  # 6 rows: a part of 4, a part of 2
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", chunk)  # sent in chunks of as many rows
    rows = [record(n, text) for n, text in enumerate(AWKWARD)]
    async with db.sessionmaker() as session, session.begin():
        await bulk.insert_rows(session, table_of(AuditRecord), rows)
        assert bulk.copies(session.sync_session, len(rows)) == (
            db.backend == "postgres" and minimum == 1
        )
    async with db.sessionmaker() as session:
        statement = select(AuditRecord).where(AuditRecord.entity_type == "test")
        found = (await session.scalars(statement.order_by(AuditRecord.id))).all()
    columns = list(rows[0])
    assert [{key: getattr(r, key) for key in columns} for r in found] == rows


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_a_refused_row_raises_what_an_insert_raises(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    # Callers catch SQLAlchemy's errors: a lost idempotency race retries on IntegrityError.
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    monkeypatch.setattr(bulk, "COPY_PART_ROWS", 2)  # the refused row in the second part
    queued_at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    async with db.sessionmaker() as session, session.begin():
        await bulk.insert_rows(session, table_of(AuditRecord), [record(0, "a"), record(1, "b")])
    async with db.sessionmaker() as session:
        kept = (await session.scalars(select(AuditRecord.id))).all()
    rows = [{"record_id": record_id, "queued_at": queued_at} for record_id in kept]
    rows.append({"record_id": 10**12, "queued_at": queued_at})  # no such record
    async with db.sessionmaker() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await bulk.insert_rows(session, table_of(UnsealedRecord), rows)
    async with db.sessionmaker() as session:
        assert (await session.scalars(select(UnsealedRecord))).all() == []


def records_and_queue(start: int, count: int) -> list[bulk.TableRows]:
    """Audit records of the entity type "test" with ids from ``start`` (above the baseline's),
    and their rows in the sealer's queue."""
    queued_at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    ids = list(range(start, start + count))
    records = [{**record(n % 60, AWKWARD[n % 6]), "id": ids[n]} for n in range(count)]
    columns = {key: [r[key] for r in records] for key in records[0]}
    queue: dict[str, list[Any]] = {"record_id": ids, "queued_at": [queued_at] * count}
    return [(table_of(AuditRecord), columns), (table_of(UnsealedRecord), queue)]


async def stored_ids(db: Database) -> tuple[list[int], list[int]]:
    async with db.sessionmaker() as session:
        records = await session.scalars(
            select(AuditRecord.id).where(AuditRecord.entity_type == "test").order_by(AuditRecord.id)
        )
        queued = await session.scalars(
            select(UnsealedRecord.record_id)
            .where(UnsealedRecord.record_id >= 10**9)
            .order_by(UnsealedRecord.record_id)
        )
        return list(records), list(queued)


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_tables_are_written_in_order_in_one_pipeline(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    # The queue's rows refer to the records: written in the order given, or refused.
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    async with db.sessionmaker() as session, session.begin():
        await session.run_sync(bulk.write_tables, records_and_queue(10**9, 70))
    ids = list(range(10**9, 10**9 + 70))
    assert await stored_ids(db) == (ids, ids)


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_a_last_table_sent_later_is_written_when_the_pipeline_is_finished(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    tables = records_and_queue(10**9, 70)

    def started(session: Session) -> bulk.Pending | None:
        pending = bulk.start_tables(session, tables, None, last_later=True)
        if pending is not None:  # the queue not sent yet: the records' COPY is under way
            assert [table for table, _ in pending.then] == [tables[1][0]]
        return pending

    async with db.sessionmaker() as session, session.begin():
        pending = await session.run_sync(started)
        await bulk.finished(session, pending)
    ids = list(range(10**9, 10**9 + 70))
    assert await stored_ids(db) == (ids, ids)


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_a_pipeline_refused_in_its_first_table_raises_and_leaves_the_session_usable(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    tables = records_and_queue(10**9, 70)
    duplicate = {key: [*values, values[0]] for key, values in tables[0][1].items()}
    async with db.sessionmaker() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await session.run_sync(bulk.write_tables, [(tables[0][0], duplicate), tables[1]])
        async with session.begin():
            await session.run_sync(bulk.write_tables, records_and_queue(2 * 10**9, 70))
    ids = list(range(2 * 10**9, 2 * 10**9 + 70))
    assert await stored_ids(db) == (ids, ids)


async def test_a_pipeline_failing_in_python_waits_for_the_copy_under_way(db: Database) -> None:
    # A value the column's type refuses: the error is that one, not the driver's "another
    # operation is in progress" from a rollback sent while the first COPY was still running.
    tables = records_and_queue(10**9, 70)
    naive = datetime(2026, 11, 25, 15, 0)  # no time zone: refused by the column's type
    unwritable = {**tables[1][1], "queued_at": [naive] * 70}
    expected = ValueError if db.backend == "postgres" else StatementError
    async with db.sessionmaker() as session:
        with pytest.raises(expected, match="timezone-aware"):
            async with session.begin():
                await session.run_sync(bulk.write_tables, [tables[0], (tables[1][0], unwritable)])
    assert await stored_ids(db) == ([], [])


async def test_a_value_refused_in_a_later_chunk_raises_that_error(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built while the COPY sends the chunk before: the error is the value's, and nothing stays.
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 30)
    tables = records_and_queue(10**9, 70)
    queued_at = list(tables[1][1]["queued_at"])
    queued_at[65] = datetime(2026, 11, 25, 15, 0)  # no time zone: refused by the column's type
    unwritable = {**tables[1][1], "queued_at": queued_at}
    expected = ValueError if db.backend == "postgres" else StatementError
    async with db.sessionmaker() as session:
        with pytest.raises(expected, match="timezone-aware"):
            async with session.begin():
                await session.run_sync(bulk.write_tables, [tables[0], (tables[1][0], unwritable)])
    assert await stored_ids(db) == ([], [])


async def parts_of(
    rows: list[dict[str, Any]], size: int, *, failing_at: int | None = None
) -> AsyncIterator[dict[str, list[Any]]]:
    """``rows`` column by column, ``size`` rows a part; ``failing_at``: the part whose making
    fails (a caller's error while the COPY is under way)."""
    for number, start in enumerate(range(0, len(rows), size)):
        if number == failing_at:
            raise LookupError("the caller could not make this part")
        part = rows[start : start + size]
        yield {key: [row[key] for row in part] for key in part[0]}


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_rows_streamed_a_part_at_a_time_read_back_as_written(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    rows = [record(n, text) for n, text in enumerate(AWKWARD * 3)]  # 18 rows: parts of 4 and 2
    table = table_of(AuditRecord)
    async with db.sessionmaker() as session, session.begin():
        await bulk.stream_columns(session, table, list(rows[0]), parts_of(rows, 4), most=18)
    async with db.sessionmaker() as session:
        statement = select(AuditRecord).where(AuditRecord.entity_type == "test")
        found = (await session.scalars(statement.order_by(AuditRecord.id))).all()
    assert [{key: getattr(r, key) for key in rows[0]} for r in found] == rows


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_a_stream_refused_by_the_database_raises_what_an_insert_raises(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    queued_at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    rows = [{"record_id": 10**12 + n, "queued_at": queued_at} for n in range(5)]  # no records
    async with db.sessionmaker() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await bulk.stream_columns(
                    session, table_of(UnsealedRecord), list(rows[0]), parts_of(rows, 2), most=5
                )
    assert await stored_ids(db) == ([], [])


@pytest.mark.parametrize("minimum", [1, 10**9], ids=["copy", "insert"])
async def test_a_stream_whose_part_fails_raises_that_error_and_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch, minimum: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", minimum)
    rows = [record(n, text) for n, text in enumerate(AWKWARD)]
    table = table_of(AuditRecord)
    async with db.sessionmaker() as session:
        parts = parts_of(rows, 2, failing_at=1)  # the first part is sent already
        with pytest.raises(LookupError, match="could not make this part"):
            async with session.begin():
                await bulk.stream_columns(session, table, list(rows[0]), parts, most=6)
        async with session.begin():  # the session is usable again
            await bulk.stream_columns(session, table, list(rows[0]), parts_of(rows, 4), most=6)
    async with db.sessionmaker() as session:
        statement = select(AuditRecord.entity_id).where(AuditRecord.entity_type == "test")
        assert (await session.scalars(statement.order_by(AuditRecord.id))).all() == [
            f"e{n}" for n in range(6)
        ]


@pytest.mark.parametrize("streamed", [False, True], ids=["rows", "stream"])
async def test_a_copy_on_a_lost_server_invalidates_its_connection(
    db: Database, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    # As SQLAlchemy does for its own statements: the dead connection is never pooled again.
    if db.backend != "postgres":
        pytest.skip("COPY is PostgreSQL's")
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)
    rows = [record(n, text) for n, text in enumerate(AWKWARD)]
    table = table_of(AuditRecord)
    async with db.sessionmaker() as session:
        connection = await session.connection()
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        async with db.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        write = (
            bulk.stream_columns(session, table, list(rows[0]), parts_of(rows, 4), most=6)
            if streamed
            else bulk.insert_rows(session, table, rows)
        )
        with pytest.raises(DBAPIError) as raised:
            await write
        assert (raised.value.connection_invalidated, connection.invalidated) == (True, True)


_DECIMALS = Table(
    "bulk_decimals",
    MetaData(),
    Column("n", Integer),
    Column("amount", ExactDecimal()),
    Column("cost", ExactDecimal(), nullable=True),
)


@pytest.mark.parametrize(
    ("refused", "message"),
    [
        (None, None),
        (Decimal("NaN"), "ExactDecimal refuses NaN and infinity"),
        (1.5, "ExactDecimal takes Decimal, not float"),
    ],
    ids=["exact", "nan", "float"],
)
async def test_a_copy_of_decimals_writes_them_exactly_or_refuses_them_as_an_insert_does(
    db: Database, refused: Any, message: str | None
) -> None:
    """Columns of finite decimals (and nulls) are checked a column at once, their text each
    value's own; anything else goes through the column's bind processor, as before."""
    if db.backend != "postgres":
        pytest.skip("COPY is PostgreSQL's")
    amounts = [Decimal("1.50"), Decimal("-0.000000000001"), Decimal("0E-8"), Decimal("1E+3")]
    amounts += [Decimal(f"{n}.{n:02d}") for n in range(70)]
    rows = [
        {"n": n, "amount": amount, "cost": None if n % 2 else -amount}
        for n, amount in enumerate(amounts)
    ]
    if refused is not None:
        rows[-1]["amount"] = refused
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "CREATE TEMP TABLE bulk_decimals (n integer, amount numeric, cost numeric) "
                "ON COMMIT DROP"
            )
        )
        assert bulk.copies(session.sync_session, len(rows))
        if message is not None:
            with pytest.raises((ValueError, TypeError, StatementError), match=message):
                await bulk.insert_rows(session, _DECIMALS, rows)
            return
        await bulk.insert_rows(session, _DECIMALS, rows)
        found = await session.execute(
            text("SELECT amount::text, cost::text FROM bulk_decimals ORDER BY n")
        )
        assert [tuple(row) for row in found] == [
            (f"{amount:f}", None if n % 2 else f"{-amount:f}") for n, amount in enumerate(amounts)
        ]
