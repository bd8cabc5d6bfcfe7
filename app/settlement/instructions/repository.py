"""Every query and lock of settlement instructions: this package's, and what settlement runs
take."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import bulk
from app.core.any_of import any_of
from app.core.db import dialect_insert, table_of
from app.core.lookups import by_key
from app.core.pagination import PageRequest, fetch_page
from app.core.runs.framework import claim
from app.core.snapshots import row_imager
from app.settlement.instructions.models import (
    InstructionStatusEvent,
    NettedOutObligation,
    SettlementInstruction,
)
from app.settlement.instructions.states import (
    AT_CSD,
    OPEN,
    SETTLEABLE,
    DeliveryType,
    InstructionStatus,
)

_OPEN = [state.value for state in OPEN]
_SETTLEABLE = [state.value for state in SETTLEABLE]
_BY_OBLIGATIONS_CHUNK = 500
_FAILING_CHUNK = 1000
_INSTRUCTIONS = table_of(SettlementInstruction)


async def get(session: AsyncSession, instruction_id: str) -> SettlementInstruction | None:
    return await session.get(SettlementInstruction, instruction_id)


async def get_for_update(
    session: AsyncSession, instruction_id: str
) -> SettlementInstruction | None:
    """The instruction locked (``FOR UPDATE``) and read afresh; what the session holds unflushed
    is flushed first, so that reading afresh loses nothing."""
    await session.flush()
    return await session.get(
        SettlementInstruction, instruction_id, with_for_update=True, populate_existing=True
    )


async def instructed_obligations(session: AsyncSession, obligation_ids: Sequence[str]) -> set[str]:
    """Those of the obligations that have an instruction."""
    found: set[str] = set()
    column = _INSTRUCTIONS.c.obligation_id
    for start in range(0, len(obligation_ids), _BY_OBLIGATIONS_CHUNK):
        chunk = obligation_ids[start : start + _BY_OBLIGATIONS_CHUNK]
        found.update(await session.scalars(select(column).where(column.in_(chunk))))
    return found


async def insert_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New instructions as plain rows, every column given (COPY on PostgreSQL)."""
    await bulk.insert_rows(session, _INSTRUCTIONS, rows)


def _failing_on(today: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Open and past its intended settlement date."""
    return (
        SettlementInstruction.status.in_(_OPEN),
        SettlementInstruction.intended_settlement_date < today,
    )


async def failing_in_chunks(
    session: AsyncSession, *, today: date
) -> list[list[SettlementInstruction]]:
    """Every instruction failing on ``today``, in id order, read a chunk at a time."""
    after: str | None = None
    chunks: list[list[SettlementInstruction]] = []
    while True:
        statement = (
            select(SettlementInstruction)
            .where(*_failing_on(today))
            .order_by(SettlementInstruction.id)
            .limit(_FAILING_CHUNK)
        )
        if after is not None:
            statement = statement.where(SettlementInstruction.id > after)
        rows = list((await session.scalars(statement)).all())
        if not rows:
            return chunks
        chunks.append(rows)
        after = rows[-1].id


async def due_between(session: AsyncSession, *, start: date, end: date) -> list[Any]:
    """What settlement efficiency counts of every instruction not cancelled whose intended
    settlement date is in [start, end]: rows of (intended settlement date, isin,
    counterparty, currency, amount, status, settled on), oldest first."""
    statement = (
        select(
            SettlementInstruction.intended_settlement_date,
            SettlementInstruction.isin,
            SettlementInstruction.counterparty_lei,
            SettlementInstruction.currency,
            SettlementInstruction.amount,
            SettlementInstruction.status,
            SettlementInstruction.settled_on,
        )
        .where(
            SettlementInstruction.intended_settlement_date >= start,
            SettlementInstruction.intended_settlement_date <= end,
            SettlementInstruction.status != InstructionStatus.CANCELLED.value,
        )
        .order_by(SettlementInstruction.intended_settlement_date, SettlementInstruction.id)
    )
    return list((await session.execute(statement)).all())


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    status: InstructionStatus | None,
    intended_settlement_date: date | None,
    isin: str | None,
    counterparty_lei: str | None,
    obligation_id: str | None,
    failing_on: date | None,
    intended_before: date | None,
) -> tuple[Sequence[SettlementInstruction], str | None]:
    """A page of instructions in id order, filtered by whichever of these are given."""
    statement = select(SettlementInstruction)
    if failing_on is not None:
        statement = statement.where(*_failing_on(failing_on))
    if intended_before is not None:
        statement = statement.where(
            SettlementInstruction.intended_settlement_date < intended_before
        )
    filters = {
        SettlementInstruction.status: status.value if status else None,
        SettlementInstruction.intended_settlement_date: intended_settlement_date,
        SettlementInstruction.isin: isin,
        SettlementInstruction.counterparty_lei: counterparty_lei,
        SettlementInstruction.obligation_id: obligation_id,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    return await fetch_page(session, statement, SettlementInstruction.id, page)


async def obligations_in_repair(session: AsyncSession, obligation_ids: Sequence[str]) -> set[str]:
    """Those of the obligations whose instruction waits in ``repair``."""
    found: set[str] = set()
    for start in range(0, len(obligation_ids), _BY_OBLIGATIONS_CHUNK):
        rows = await session.scalars(
            select(SettlementInstruction.obligation_id).where(
                SettlementInstruction.obligation_id.in_(
                    obligation_ids[start : start + _BY_OBLIGATIONS_CHUNK]
                ),
                SettlementInstruction.status == InstructionStatus.REPAIR.value,
            )
        )
        found.update(rows.all())
    return found


# What settlement runs take ---------------------------------------------------------------------

# Runs take lower priorities first, then older instructions.
_ORDER = (
    SettlementInstruction.priority,
    SettlementInstruction.created_at,
    SettlementInstruction.id,
)


def _settled_at_csd(csd_isins: frozenset[str]) -> ColumnElement[bool]:
    """Instructions the depository settles: of its instruments, and moving securities (a
    cash-only one has nothing to instruct)."""
    return and_(
        any_of(SettlementInstruction.isin, sorted(csd_isins)),
        SettlementInstruction.delivery_type != DeliveryType.PFOD.value,
    )


def _due(settlement_date: date, csd_isins: frozenset[str] = frozenset()) -> Any:
    """Settleable by our runs: not the depository's (``csd_isins``), due by the date."""
    # The statuses are written into the SQL, not bound: PostgreSQL uses the partial index of
    # settleable instructions only when it can prove the query asks for no other status.
    settleable: Any = bindparam("settleable", _SETTLEABLE, expanding=True, literal_execute=True)
    due = (
        SettlementInstruction.status.in_(settleable),
        SettlementInstruction.intended_settlement_date <= settlement_date,
    )
    return (*due, not_(_settled_at_csd(csd_isins))) if csd_isins else due


async def count_due(
    session: AsyncSession, *, settlement_date: date, csd_isins: frozenset[str] = frozenset()
) -> int:
    statement = (
        select(func.count())
        .select_from(SettlementInstruction)
        .where(*_due(settlement_date, csd_isins))
    )
    return int(await session.scalar(statement) or 0)


def _at_csd_due(settlement_date: date, csd_isins: frozenset[str]) -> tuple[Any, ...]:
    return (
        SettlementInstruction.status.in_([state.value for state in AT_CSD]),
        SettlementInstruction.intended_settlement_date <= settlement_date,
        _settled_at_csd(csd_isins),
    )


async def claim_at_csd(
    session: AsyncSession,
    *,
    settlement_date: date,
    csd_isins: frozenset[str],
    run_id: str,
    limit: int,
) -> Sequence[SettlementInstruction]:
    """The next instructions the depository settles, due by the date and open there (not in
    repair, held, settled nor cancelled), that this run has not looked at yet; locked, ``SKIP
    LOCKED``."""
    statement = (
        select(SettlementInstruction)
        .where(
            *_at_csd_due(settlement_date, csd_isins),
            or_(
                SettlementInstruction.last_run_id.is_(None),
                SettlementInstruction.last_run_id != run_id,
            ),
        )
        .order_by(*_ORDER)
    )
    return (await session.scalars(claim(statement, limit=limit))).all()


async def at_csd_after(
    session: AsyncSession,
    *,
    settlement_date: date,
    csd_isins: frozenset[str],
    after: str | None,
    limit: int,
) -> Sequence[SettlementInstruction]:
    """A dry run's next page of them, unlocked, in id order after ``after``."""
    statement = (
        select(SettlementInstruction)
        .where(*_at_csd_due(settlement_date, csd_isins))
        .order_by(SettlementInstruction.id)
    )
    if after is not None:
        statement = statement.where(SettlementInstruction.id > after)
    return (await session.scalars(statement.limit(limit))).all()


async def held(session: AsyncSession, *, settlement_date: date) -> list[str]:
    """Instructions due by the date but on hold, in run order."""
    statement = (
        select(SettlementInstruction.id)
        .where(
            SettlementInstruction.status == InstructionStatus.ON_HOLD.value,
            SettlementInstruction.intended_settlement_date <= settlement_date,
        )
        .order_by(*_ORDER)
    )
    return list((await session.scalars(statement)).all())


async def claim_due_rows(
    session: AsyncSession,
    *,
    settlement_date: date,
    run_id: str,
    limit: int,
    csd_isins: frozenset[str] = frozenset(),
    after: tuple[Any, ...] | None = None,
) -> Sequence[Row[Any]]:
    """The next instructions due that this run has not tried yet (only those after the
    run-order key ``after``, if given), locked (``SKIP LOCKED``: another run takes others), as
    plain rows (every column, by name), not ORM objects: a run reads them and writes them back
    with ``write_tried``, set-based, so the ORM's per-row bookkeeping is never needed."""
    table = table_of(SettlementInstruction)
    statement = (
        select(table)
        .where(
            *_due(settlement_date, csd_isins),
            or_(table.c.last_run_id.is_(None), table.c.last_run_id != run_id),
        )
        .order_by(*_ORDER)
    )
    if after is not None:
        statement = statement.where(tuple_(*_ORDER) > after)
    return (await session.execute(claim(statement, limit=limit))).all()


# ``row_snapshot`` of a row ``claim_due_rows`` gives.
claimed_image = row_imager(table_of(SettlementInstruction).columns)

# What a run writes back on each instruction it tried.
TRIED_COLUMNS = (
    "last_run_id",
    "pending_id",
    "settled_quantity",
    "settled_amount",
    "settled_on",
    "status",
    "fail_reason",
    "version",
    "updated_at",
)


async def write_tried(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write back the ``TRIED_COLUMNS`` of instructions a run holds locked (each row: ``id``
    and every one of them). On PostgreSQL one ``UPDATE ... FROM unnest(...)`` for the whole
    chunk; elsewhere one executemany UPDATE."""
    if not rows:
        return
    table = table_of(SettlementInstruction)
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("t_id"))
            .values({name: bindparam(f"t_{name}") for name in TRIED_COLUMNS}),
            [{f"t_{name}": value for name, value in row.items()} for row in rows],
        )
        return
    names = ("id", *TRIED_COLUMNS)
    arrays = [
        bindparam(f"t_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
        for name in names
    ]
    tried = func.unnest(*arrays).table_valued(*names).render_derived(name="tried")
    async with by_key(session):
        await session.execute(
            update(table)
            .where(table.c.id == tried.c.id)
            .values({name: tried.c[name] for name in TRIED_COLUMNS})
        )


async def due_after(
    session: AsyncSession,
    *,
    settlement_date: date,
    after: tuple[Any, ...] | None,
    limit: int,
    csd_isins: frozenset[str] = frozenset(),
) -> Sequence[SettlementInstruction]:
    """A dry run's next page of what is due, unlocked, after the run-order key ``after``."""
    statement = (
        select(SettlementInstruction).where(*_due(settlement_date, csd_isins)).order_by(*_ORDER)
    )
    if after is not None:
        statement = statement.where(tuple_(*_ORDER) > after)
    return (await session.scalars(statement.limit(limit))).all()


def run_order_key(instruction: SettlementInstruction | Row[Any]) -> tuple[Any, ...]:
    return (instruction.priority, instruction.created_at, instruction.id)


# Obligations that net out to nothing ----------------------------------------------------------


async def add_netted_out(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row: ``obligation_id`` and ``settlement_date``; one already there is kept (a
    resumed clearing run names its obligations again)."""
    if rows:
        statement = dialect_insert(session, NettedOutObligation).on_conflict_do_nothing(
            index_elements=["obligation_id"]
        )
        await session.execute(statement, rows)


def _netted_out_due(settlement_date: date) -> tuple[ColumnElement[bool], ...]:
    return (
        NettedOutObligation.settled_at.is_(None),
        NettedOutObligation.settlement_date <= settlement_date,
    )


async def claim_netted_out(
    session: AsyncSession, *, settlement_date: date, run_id: str, limit: int
) -> list[str]:
    """The next netted-out obligations due that this run has not tried yet, locked (``SKIP
    LOCKED``: another run takes others)."""
    statement = (
        select(NettedOutObligation.obligation_id)
        .where(
            *_netted_out_due(settlement_date),
            or_(
                NettedOutObligation.last_run_id.is_(None),
                NettedOutObligation.last_run_id != run_id,
            ),
        )
        .order_by(NettedOutObligation.obligation_id)
    )
    return list((await session.scalars(claim(statement, limit=limit))).all())


async def netted_out_due(session: AsyncSession, *, settlement_date: date) -> list[str]:
    statement = select(NettedOutObligation.obligation_id).where(*_netted_out_due(settlement_date))
    return list((await session.scalars(statement)).all())


async def mark_netted_out(
    session: AsyncSession,
    *,
    tried: Sequence[str],
    settled: Sequence[str],
    run_id: str,
    now: datetime,
) -> None:
    """Every obligation ``tried`` by the run, and those ``settled`` settled now."""
    table = table_of(NettedOutObligation)
    if tried:
        await session.execute(
            update(table).where(table.c.obligation_id.in_(tried)).values(last_run_id=run_id)
        )
    if settled:
        await session.execute(
            update(table).where(table.c.obligation_id.in_(settled)).values(settled_at=now)
        )


async def add_events(session: AsyncSession, events: Sequence[InstructionStatusEvent]) -> None:
    session.add_all(events)
    await session.flush()


async def events_page(
    session: AsyncSession, *, instruction_id: str, page: PageRequest
) -> tuple[Sequence[InstructionStatusEvent], str | None]:
    """One instruction's status history in id order (the order received)."""
    statement = select(InstructionStatusEvent).where(
        InstructionStatusEvent.instruction_id == instruction_id
    )
    return await fetch_page(session, statement, InstructionStatusEvent.id, page)


async def count_by_status(session: AsyncSession, *, settlement_date: date) -> dict[str, int]:
    """Instructions intended to settle on the date, counted per status."""
    statement = (
        select(SettlementInstruction.status, func.count())
        .where(SettlementInstruction.intended_settlement_date == settlement_date)
        .group_by(SettlementInstruction.status)
    )
    return {status: int(count) for status, count in (await session.execute(statement)).all()}


def _not_settled_by(day: date) -> ColumnElement[bool]:
    """Not settled in full by the end of ``day`` (settled later, or not at all)."""
    return or_(
        SettlementInstruction.status != InstructionStatus.SETTLED.value,
        SettlementInstruction.settled_on > day,
    )


async def penalty_candidates(
    session: AsyncSession, *, day: date, ids: Sequence[str] = ()
) -> list[SettlementInstruction]:
    """Instructions that may owe or be owed a penalty for ``day``: due by then (or matched on
    it: late matching), neither cancelled nor in repair, not settled in full by its end; and
    those named by ``ids`` whatever their state (their penalties are re-examined)."""
    due = and_(
        SettlementInstruction.intended_settlement_date <= day,
        SettlementInstruction.status.not_in(
            [InstructionStatus.CANCELLED.value, InstructionStatus.REPAIR.value]
        ),
    )
    matched_on_day = select(InstructionStatusEvent.instruction_id).where(
        InstructionStatusEvent.block == "matching", InstructionStatusEvent.status == "matched"
    )
    where = or_(
        and_(due, _not_settled_by(day)), and_(due, SettlementInstruction.id.in_(matched_on_day))
    )
    if ids:
        where = or_(where, SettlementInstruction.id.in_(sorted(set(ids))))
    statement = select(SettlementInstruction).where(where).order_by(SettlementInstruction.id)
    return list((await session.scalars(statement)).all())


async def first_matched(session: AsyncSession, ids: Sequence[str]) -> dict[str, datetime]:
    """Per instruction, when the depository first advised it matched (none: pre-matched, or
    never matched)."""
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), _BY_OBLIGATIONS_CHUNK):
        statement = (
            select(
                InstructionStatusEvent.instruction_id, func.min(InstructionStatusEvent.received_at)
            )
            .where(
                InstructionStatusEvent.instruction_id.in_(
                    ids[start : start + _BY_OBLIGATIONS_CHUNK]
                ),
                InstructionStatusEvent.block == "matching",
                InstructionStatusEvent.status == "matched",
            )
            .group_by(InstructionStatusEvent.instruction_id)
        )
        found.update({row[0]: row[1] for row in (await session.execute(statement)).all()})
    return found
