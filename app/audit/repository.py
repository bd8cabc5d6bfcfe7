"""Every query of the audit trail: writers' appends, the sealer's queue and chain, readers."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Dialect,
    Row,
    Select,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from app.audit.chain import HASHED_FIELDS
from app.audit.models import GENESIS_HASH, AuditRecord, AuditSeal, UnsealedRecord
from app.core import bulk, driver
from app.core.any_of import any_of
from app.core.db import table_of
from app.core.pagination import PageRequest, fetch_row_page
from app.core.types import ROW_ID


@dataclass(frozen=True)
class AuditFilter:
    """Which records to list; every field left None matches all. ``occurred_from`` is
    inclusive, ``occurred_to`` exclusive, so consecutive windows neither overlap nor miss."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor_key_id: str | None = None
    actor_role: str | None = None
    action: str | None = None
    request_id: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class SealedRecord:
    """A record with its place in the chain."""

    record: AuditRecord
    seal: AuditSeal


# Writers --------------------------------------------------------------------------------------


# An appended record's columns (its id drawn from the sequence).
RECORD_COLUMNS = (
    "occurred_at",
    "actor_key_id",
    "actor_role",
    "actor_name",
    "request_id",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
    "event_type",
)


def append_records(session: Session, columns: dict[str, list[Any]]) -> None:
    """Insert records, given column by column (``RECORD_COLUMNS``, one value per record each),
    and queue them for the sealer, no shared lock taken. Ids ascend in the order of the
    records. On PostgreSQL one statement for a few records (the columns go as arrays), COPY
    for many (ids drawn first: cheaper for the database per record); on SQLite two."""
    count = len(columns["entity_id"])
    if bulk.copies(session, count):
        bulk.write_tables(session, record_tables(session, columns))
        return
    queued_at = datetime.now(UTC)
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        values = {name: _bound(dialect, name, columns[name]) for name in RECORD_COLUMNS}
        # Straight to asyncpg (``driver``): a capture group's commit runs it.
        driver.fetch_sync(session, _APPEND_AND_QUEUE, {**values, "queued_at": queued_at})
        return
    statement = insert(table_of(AuditRecord)).returning(
        AuditRecord.id, sort_by_parameter_order=True
    )
    keys = list(columns)
    rows = zip(*columns.values(), strict=True)
    records = [dict(zip(keys, row, strict=True)) for row in rows]
    appended = list(session.execute(statement, records).scalars().all())
    bulk.write_columns(
        session, table_of(UnsealedRecord), {"record_id": appended, "queued_at": [queued_at] * count}
    )


def record_tables(session: Session, columns: dict[str, list[Any]]) -> list[bulk.TableRows]:
    """The rows that append records (``append_records``) and queue them for the sealer, their
    ids drawn now, for ``bulk.write_tables`` to COPY (PostgreSQL)."""
    count = len(columns["entity_id"])
    queued_at = datetime.now(UTC)
    appended = sorted(session.execute(_DRAW_IDS, {"count": count}).scalars().all())
    return [
        (table_of(AuditRecord), {**columns, "id": appended}),
        (table_of(UnsealedRecord), {"record_id": appended, "queued_at": [queued_at] * count}),
    ]


# The sequence the migration gave audit_records.id (PostgreSQL only).
_DRAW_IDS = text("SELECT nextval('audit_records_id_seq') FROM generate_series(1, :count)")


def _bound(dialect: Dialect, name: str, values: list[Any]) -> list[Any]:
    """A column's values as its type binds them (UTC times checked, images as JSON text): each
    object once, however many records share it (a batch's time, its actor)."""
    process = table_of(AuditRecord).c[name].type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    shared = {id(value): value for value in values}
    if len(shared) * 2 > len(values):
        return list(map(process, values))
    # The objects stay alive in ``values`` meanwhile: their ids name them.
    converted = {key: process(value) for key, value in shared.items()}
    return [converted[id(value)] for value in values]


# One statement appends and queues, the records' ids never leaving the database. The rows come
# out of unnest in the arrays' order (WITH ORDINALITY, ORDER BY), and each id is drawn as its
# row reaches the INSERT: ids ascend in the records' order.
_APPEND_AND_QUEUE = text(
    """
WITH appended AS (
    INSERT INTO audit_records (occurred_at, actor_key_id, actor_role, actor_name, request_id,
                               entity_type, entity_id, action, before, after, event_type)
    SELECT occurred_at, actor_key_id, actor_role, actor_name, request_id,
           entity_type, entity_id, action, CAST(before AS json), CAST(after AS json), event_type
    FROM unnest(CAST(:occurred_at AS timestamptz[]), CAST(:actor_key_id AS text[]),
                CAST(:actor_role AS text[]), CAST(:actor_name AS text[]),
                CAST(:request_id AS text[]), CAST(:entity_type AS text[]),
                CAST(:entity_id AS text[]), CAST(:action AS text[]), CAST(:before AS text[]),
                CAST(:after AS text[]), CAST(:event_type AS text[]))
         WITH ORDINALITY AS given(occurred_at, actor_key_id, actor_role, actor_name, request_id,
                                  entity_type, entity_id, action, before, after, event_type, n)
    ORDER BY n
    RETURNING id
)
INSERT INTO audit_unsealed (record_id, queued_at) SELECT id, :queued_at FROM appended
"""
)


# The sealer -----------------------------------------------------------------------------------


async def chain_head(session: AsyncSession) -> tuple[int, str]:
    """The last seal's ``seq`` and hash; ``(0, GENESIS_HASH)`` before the first."""
    statement = select(AuditSeal.seq, AuditSeal.hash).order_by(AuditSeal.seq.desc()).limit(1)
    row = (await session.execute(statement)).first()
    return (0, GENESIS_HASH) if row is None else (row.seq, row.hash)


# What the sealer reads of each record: its id, when it was queued, then the fields the chain
# hashes that the record holds (``SEALED_FIELDS``), in that order; then the chain's head as the
# statement saw it (``seq`` and hash, None before the first seal), the same on every row.
SEALED_FIELDS = tuple(name for name in HASHED_FIELDS if name not in ("seq", "prev_hash"))


def _head_columns() -> tuple[Any, ...]:
    # Read in the statement that reads the records: no round trip of its own.
    seals = table_of(AuditSeal)
    last = select(seals.c.seq, seals.c.hash).order_by(seals.c.seq.desc()).limit(1).subquery()
    return (
        select(last.c.seq).scalar_subquery().label("head_seq"),
        select(last.c.hash).scalar_subquery().label("head_hash"),
    )


def _unsealed_statement() -> Select[Any]:
    records, queue = table_of(AuditRecord), table_of(UnsealedRecord)
    return (
        select(
            records.c.id,
            queue.c.queued_at,
            *(records.c[name] for name in SEALED_FIELDS),
            *_head_columns(),
        )
        .join(queue, queue.c.record_id == records.c.id)
        .order_by(queue.c.record_id)
        .limit(bindparam("limit"))
    )


def _taking_statement() -> Select[Any]:
    """PostgreSQL: the queue's oldest rows deleted and their records read in one statement (the
    seals follow in the same transaction, so a record leaves the queue only with its seal)."""
    records, queue = table_of(AuditRecord), table_of(UnsealedRecord)
    oldest = select(queue.c.record_id).order_by(queue.c.record_id).limit(bindparam("limit"))
    taken = (
        delete(queue)
        .where(queue.c.record_id == func.any(_ids(oldest.subquery().c.record_id)))
        .returning(queue.c.record_id, queue.c.queued_at)
        .cte("taken")
    )
    return (
        select(
            records.c.id,
            taken.c.queued_at,
            *(records.c[name] for name in SEALED_FIELDS),
            *_head_columns(),
        )
        .join_from(taken, records, records.c.id == taken.c.record_id)
        .where(records.c.id == func.any(_ids(taken.c.record_id)))
        .order_by(records.c.id)
    )


def _ids(column: Any) -> Any:
    # Rows looked up by an array of ids: index scans, however long the trail or the queue. A
    # join on the queue alone leaves the plan to its statistics, those of a moment (empty, or a
    # run's backlog): misjudged, it walks the whole trail.
    return cast(select(func.array_agg(column)).scalar_subquery(), ARRAY(ROW_ID))


_UNSEALED = _unsealed_statement()
_TAKING = _taking_statement()


def _takes_at_read(session: AsyncSession) -> bool:
    # SQLite has no DELETE in a WITH clause: it deletes the queue's rows with the seals.
    return session.get_bind().dialect.name == "postgresql"


async def unsealed_records(session: AsyncSession, *, limit: int) -> Sequence[Sequence[Any]]:
    """Committed records waiting for a seal, oldest id first, taken off the queue (on
    PostgreSQL here, elsewhere by ``append_seals``): plain rows (no ORM objects: the sealer
    reads every record once) of the id, when it was queued, ``SEALED_FIELDS``, then the chain's
    head (``seq``, hash)."""
    statement = _UNSEALED
    if _takes_at_read(session):
        await session.execute(_PLANNED_EACH_TIME)
        statement = _TAKING
    rows: Sequence[Row[Any]] = (await session.execute(statement, {"limit": limit})).all()
    return rows


# The sealer reads only by key (the queue's oldest ids, those records, the chain's head), yet
# the planner may prefer to walk the trail: the taking statement is prepared once per connection
# and after five runs PostgreSQL may keep a generic plan costed while the trail was empty, which
# walks all of it once per taken record (a nested loop), and even a fresh plan knows no better
# than ten ids in the array. The leader's CPU then grows with the trail times the backlog, and
# it falls behind. So, for the sealer's transaction only: no walks, and a plan made each poll.
_PLANNED_EACH_TIME = text(
    "SELECT set_config('enable_seqscan', 'off', true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)


async def append_seals(session: AsyncSession, seals: Sequence[dict[str, Any]]) -> None:
    """The seals (on PostgreSQL one statement for a poll's few, COPY when a batch of trades
    left many), and, where ``unsealed_records`` did not, the queue's rows they empty."""
    if _takes_at_read(session) and len(seals) < bulk.COPY_MIN_ROWS:
        columns = {name: [seal[name] for seal in seals] for name in _SEAL_COLUMNS}
        await session.execute(_APPEND_SEALS, columns)
        return
    await bulk.insert_rows(session, table_of(AuditSeal), seals)
    if not _takes_at_read(session):
        queue = table_of(UnsealedRecord)
        sealed = [seal["record_id"] for seal in seals]
        await session.execute(delete(queue).where(any_of(queue.c.record_id, sealed)))


_SEAL_COLUMNS = ("seq", "record_id", "prev_hash", "hash", "sealed_at")
# A poll's few seals in one statement, their columns as arrays: an INSERT given many rows runs
# once per row in the database (an execution each, with its own overhead, for every capture).
_APPEND_SEALS = text(
    """
INSERT INTO audit_seals (seq, record_id, prev_hash, hash, sealed_at)
SELECT * FROM unnest(CAST(:seq AS bigint[]), CAST(:record_id AS bigint[]),
                     CAST(:prev_hash AS text[]), CAST(:hash AS text[]),
                     CAST(:sealed_at AS timestamptz[]))
"""
)


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many committed records wait for a seal, and when the oldest of them was queued."""
    statement = select(func.count(), func.min(UnsealedRecord.queued_at))
    count, oldest = (await session.execute(statement)).one()
    return int(count), oldest


async def chain_slice(
    session: AsyncSession, *, after_seq: int, last_seq: int | None, limit: int
) -> Sequence[SealedRecord]:
    """Sealed records from ``after_seq + 1`` on, in chain order, at most ``limit``."""
    statement = (
        select(AuditRecord, AuditSeal)
        .join(AuditSeal, AuditSeal.record_id == AuditRecord.id)
        .where(AuditSeal.seq > after_seq)
        .order_by(AuditSeal.seq)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if last_seq is not None:
        statement = statement.where(AuditSeal.seq <= last_seq)
    rows = (await session.execute(statement)).all()
    return [SealedRecord(record, seal) for record, seal in rows]


async def seal_before(session: AsyncSession, seq: int) -> AuditSeal | None:
    statement = select(AuditSeal).where(AuditSeal.seq < seq).order_by(AuditSeal.seq.desc())
    return (await session.scalars(statement.limit(1))).first()


# The event feed -------------------------------------------------------------------------------

# What an event carries, read from a sealed record: ``seq`` first (the feed's order).
_EVENT_COLUMNS = (
    AuditSeal.seq,
    AuditRecord.event_type,
    AuditRecord.occurred_at,
    AuditRecord.entity_type,
    AuditRecord.entity_id,
)


def _sealed_events(*columns: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(*_EVENT_COLUMNS, *columns)
        .join(AuditRecord, AuditRecord.id == AuditSeal.record_id)
        .where(AuditRecord.event_type.is_not(None))
    )


async def sealed_events(
    session: AsyncSession,
    *,
    after: int,
    exact: Sequence[str] | None,
    prefixes: Sequence[str],
    limit: int,
    heads_only: bool = False,
    up_to: int | None = None,
) -> Sequence[Row[Any]]:
    """Events sealed after ``after`` (up to ``up_to``), in ``seq`` order, at most ``limit``:
    those whose type is one of ``exact`` or starts with one of ``prefixes`` (every type when
    ``exact`` is None). ``heads_only`` leaves out the before and after images."""
    statement = _sealed_events(*(() if heads_only else (AuditRecord.before, AuditRecord.after)))
    statement = statement.where(AuditSeal.seq > after)
    if up_to is not None:
        statement = statement.where(AuditSeal.seq <= up_to)
    if exact is not None:
        wanted: list[ColumnElement[bool]] = [AuditRecord.event_type.in_(exact)] if exact else []
        wanted += [AuditRecord.event_type.startswith(p, autoescape=True) for p in prefixes]
        statement = statement.where(or_(false(), *wanted))
    return (await session.execute(statement.order_by(AuditSeal.seq).limit(limit))).all()


async def events_at(session: AsyncSession, seqs: Sequence[int]) -> Sequence[Row[Any]]:
    """The sealed events at these places in the chain, in ``seq`` order."""
    statement = _sealed_events(AuditRecord.before, AuditRecord.after).where(AuditSeal.seq.in_(seqs))
    return (await session.execute(statement.order_by(AuditSeal.seq))).all()


# Readers --------------------------------------------------------------------------------------


def _readable() -> Select[AuditRecord, AuditSeal, int]:
    # Readers page by ``seq``: only sealed records have their final place in the chain, so a
    # cursor over them never skips a record that committed late.
    # ``seq`` once more as a column: the keyset pager reads the cursor from it.
    return select(AuditRecord, AuditSeal, AuditSeal.seq).join(
        AuditSeal, AuditSeal.record_id == AuditRecord.id
    )


def _filtered(wanted: AuditFilter) -> Select[AuditRecord, AuditSeal, int]:
    statement = _readable()
    equal_to = {
        AuditRecord.entity_type: wanted.entity_type,
        AuditRecord.entity_id: wanted.entity_id,
        AuditRecord.actor_key_id: wanted.actor_key_id,
        AuditRecord.actor_role: wanted.actor_role,
        AuditRecord.action: wanted.action,
        AuditRecord.request_id: wanted.request_id,
    }
    for column, value in equal_to.items():
        if value is not None:
            statement = statement.where(column == value)
    if wanted.occurred_from is not None:
        statement = statement.where(AuditRecord.occurred_at >= wanted.occurred_from)
    if wanted.occurred_to is not None:
        statement = statement.where(AuditRecord.occurred_at < wanted.occurred_to)
    return statement


async def page_of_records(
    session: AsyncSession, *, wanted: AuditFilter, page: PageRequest
) -> tuple[list[SealedRecord], str | None]:
    """The sealed records ``wanted`` asks for, in chain order, one page after the cursor."""
    rows, cursor = await fetch_row_page(session, _filtered(wanted), AuditSeal.seq, page)
    return [SealedRecord(record, seal) for record, seal, _ in rows], cursor


async def entity_has_records(session: AsyncSession, *, entity_type: str, entity_id: str) -> bool:
    statement = (
        _readable()
        .with_only_columns(AuditSeal.seq)
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
        .limit(1)
    )
    return (await session.scalar(statement)) is not None


async def entity_records_with_seq(
    session: AsyncSession, *, entity_type: str, entity_id: str
) -> Sequence[tuple[AuditRecord, int | None]]:
    """Every record of one entity, sealed or not, in the order its changes were made."""
    statement = (
        select(AuditRecord, AuditSeal.seq)
        .outerjoin(AuditSeal, AuditSeal.record_id == AuditRecord.id)
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
        .order_by(AuditRecord.id)
    )
    return [(record, seq) for record, seq in (await session.execute(statement)).all()]


async def last_after_up_to(
    session: AsyncSession, *, entity_type: str, entity_id: str, as_of: datetime
) -> tuple[dict[str, Any] | None] | None:
    """The after image of the entity's last record at or before ``as_of`` (in a tuple: the
    image of a deletion is None), or None when it has no record by then."""
    statement = (
        select(AuditRecord.after)
        .where(
            AuditRecord.entity_type == entity_type,
            AuditRecord.entity_id == entity_id,
            AuditRecord.occurred_at <= as_of,
        )
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0],)


async def first_before_after(
    session: AsyncSession, *, entity_type: str, entity_id: str, as_of: datetime
) -> tuple[dict[str, Any] | None] | None:
    """The before image of the entity's first record after ``as_of`` (in a tuple: None for a
    creation), or None when it has no record after then."""
    statement = (
        select(AuditRecord.before)
        .where(
            AuditRecord.entity_type == entity_type,
            AuditRecord.entity_id == entity_id,
            AuditRecord.occurred_at > as_of,
        )
        .order_by(AuditRecord.id)
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0],)


async def entity_ids_with_action(
    session: AsyncSession,
    *,
    entity_type: str,
    entity_ids: Sequence[str],
    action: str,
    up_to: datetime,
) -> set[str]:
    """Those of ``entity_ids`` (at most a few hundred) with a record of ``action`` at or
    before ``up_to``."""
    statement = (
        select(AuditRecord.entity_id)
        .distinct()
        .where(
            AuditRecord.entity_type == entity_type,
            AuditRecord.entity_id.in_(entity_ids),
            AuditRecord.action == action,
            AuditRecord.occurred_at <= up_to,
        )
    )
    return set((await session.scalars(statement)).all())


# Verification ---------------------------------------------------------------------------------


async def first_seq_sealed_from(session: AsyncSession, moment: datetime) -> int | None:
    """The first record sealed at or after ``moment``."""
    # One sealer seals in order, so ``sealed_at`` rises with ``seq``: the index on
    # (sealed_at, seq) finds the first at once where min(seq) would scan every later seal.
    statement = (
        select(AuditSeal.seq)
        .where(AuditSeal.sealed_at >= moment)
        .order_by(AuditSeal.sealed_at, AuditSeal.seq)
        .limit(1)
    )
    seq: int | None = await session.scalar(statement)
    return seq


async def last_seal_before(session: AsyncSession, moment: datetime) -> tuple[int, str] | None:
    """The last seal made before ``moment``: the chain's head as it stood then."""
    statement = (
        select(AuditSeal.seq, AuditSeal.hash)
        .where(AuditSeal.sealed_at < moment)
        .order_by(AuditSeal.sealed_at.desc(), AuditSeal.seq.desc())
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row.seq, row.hash)


# Drift: the tables are the domains', handed in as mapped classes by the wiring.


async def rows_in_key_order(
    session: AsyncSession,
    model: type[Any],
    key: Sequence[InstrumentedAttribute[Any]],
    *,
    after: Sequence[Any] | None,
    limit: int,
    deferred: frozenset[str],
) -> Sequence[Any]:
    """Up to ``limit`` rows of ``model`` after the primary key ``after``, in key order, with the
    ``deferred`` columns left unread."""
    statement = select(model).order_by(*key).limit(limit)
    if deferred:
        statement = statement.options(*(defer(getattr(model, name)) for name in deferred))
    if after is not None:
        statement = statement.where(_key_of(key) > _key_of(after))
    return (await session.scalars(statement)).all()


async def last_after_images(
    session: AsyncSession, *, entity_type: str, entity_ids: Sequence[str]
) -> dict[str, dict[str, Any] | None]:
    """The after-image of each entity's last record (by id, sealed or not); entities without a
    record are absent."""
    last = (
        select(func.max(AuditRecord.id))
        .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id.in_(entity_ids))
        .group_by(AuditRecord.entity_id)
    )
    statement = select(AuditRecord.entity_id, AuditRecord.after).where(AuditRecord.id.in_(last))
    return {row.entity_id: row.after for row in await session.execute(statement)}


async def audited_entities(
    session: AsyncSession, *, entity_type: str, after: str | None, limit: int
) -> Sequence[tuple[str, int]]:
    """Up to ``limit`` entity ids of ``entity_type`` after ``after``, in order, each with the id
    of its last record (read off the index on entity type, id and record id)."""
    statement = (
        select(AuditRecord.entity_id, func.max(AuditRecord.id))
        .where(AuditRecord.entity_type == entity_type)
        .group_by(AuditRecord.entity_id)
        .order_by(AuditRecord.entity_id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(AuditRecord.entity_id > after)
    return [(entity_id, record_id) for entity_id, record_id in await session.execute(statement)]


async def existing_keys(
    session: AsyncSession,
    key: Sequence[InstrumentedAttribute[Any]],
    keys: Sequence[tuple[Any, ...]],
) -> set[tuple[Any, ...]]:
    """Which of the primary keys ``keys`` have a row."""
    if not keys:
        return set()
    if len(key) == 1:
        statement = select(*key).where(key[0].in_([k for (k,) in keys]))
    else:
        statement = select(*key).where(tuple_(*key).in_(keys))
    return {tuple(row) for row in await session.execute(statement)}


def _key_of(parts: Sequence[Any]) -> Any:
    # A one-column key compares as itself: row values only where the key has several columns.
    return parts[0] if len(parts) == 1 else tuple_(*parts)


async def after_images(
    session: AsyncSession, *, record_ids: Sequence[int]
) -> dict[int, dict[str, Any] | None]:
    statement = select(AuditRecord.id, AuditRecord.after).where(AuditRecord.id.in_(record_ids))
    return {row.id: row.after for row in await session.execute(statement)}
