"""Settlement runs: settle every matched, unheld instruction due by a date, in priority order
then age, against our securities and cash accounts. A run works in chunks, one transaction
each; a failed run is resumed and tries nothing twice."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import Change, record_change, record_changes
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.money import format_decimal
from app.core.pagination import PageRequest, fetch_page
from app.core.runs import RUN_TRANSITIONS, RunEvent, RunStatus
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.positions.bookings import service as positions
from app.positions.bookings.service import SettlementLeg
from app.reference.service import ReferenceSet, load_reference
from app.settlement.allocation import Allocation, Candidate, allocate
from app.settlement.models import SettlementInstruction, SettlementRun
from app.settlement.movements import Settlement, post_many, signed
from app.settlement.states import (
    SETTLEABLE,
    TRANSITIONS,
    DeliveryType,
    InstructionEvent,
    InstructionStatus,
)
from app.trades import service as trades

RUN_ENTITY = "settlement_run"
INSTRUCTION_ENTITY = "settlement_instruction"
CHUNK = 500
ZERO = Decimal(0)
_RECEIVED = (DeliveryType.RVP, DeliveryType.RFP)
_SETTLEABLE = [state.value for state in SETTLEABLE]


# What is due -----------------------------------------------------------------------------------


def _due(settlement_date: date) -> Any:
    # The statuses are written into the SQL, not bound: PostgreSQL uses the partial index of
    # settleable instructions only when it can prove the query asks for no other status.
    settleable: Any = bindparam("settleable", _SETTLEABLE, expanding=True, literal_execute=True)
    return (
        SettlementInstruction.status.in_(settleable),
        SettlementInstruction.intended_settlement_date <= settlement_date,
    )


_ORDER = (
    SettlementInstruction.priority,
    SettlementInstruction.created_at,
    SettlementInstruction.id,
)


async def count_due(session: AsyncSession, *, settlement_date: date) -> int:
    statement = (
        select(func.count()).select_from(SettlementInstruction).where(*_due(settlement_date))
    )
    return int(await session.scalar(statement) or 0)


async def _held(session: AsyncSession, settlement_date: date) -> list[str]:
    statement = (
        select(SettlementInstruction.id)
        .where(
            SettlementInstruction.status == InstructionStatus.ON_HOLD.value,
            SettlementInstruction.intended_settlement_date <= settlement_date,
        )
        .order_by(*_ORDER)
    )
    return list((await session.scalars(statement)).all())


def _leg(instruction: SettlementInstruction) -> SettlementLeg:
    return SettlementLeg(
        securities_account=instruction.securities_account,
        cash_account=instruction.cash_account,
        counterparty=instruction.counterparty_lei,
        isin=instruction.isin,
        currency=instruction.currency,
    )


def _candidate(instruction: SettlementInstruction, reference: ReferenceSet) -> Candidate:
    quantity, amount = signed(instruction)
    return Candidate(
        instruction_id=instruction.id,
        securities_account=instruction.securities_account,
        cash_account=instruction.cash_account,
        isin=instruction.isin,
        currency=instruction.currency,
        quantity=quantity,
        amount=amount,
        partial_allowed=instruction.partial_allowed,
        settlement_unit=reference.instruments[instruction.isin].settlement_unit,
    )


# The report ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a run did, chunk by chunk: counts, and per fail reason and currency the
    instructions and the cash value left unsettled."""

    settled: int = 0
    partially_settled: int = 0
    failed: int = 0
    closed: int = 0
    netted_out: int = 0
    fails: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)

    def add(self, allocation: Allocation, candidate: Candidate) -> None:
        if allocation.fail_reason is None:
            self.settled += 1
            return
        if allocation.settled_anything:
            self.partially_settled += 1
        else:
            self.failed += 1
        row = self.fails.setdefault(
            (allocation.fail_reason.value, candidate.currency), [ZERO, ZERO]
        )
        row[0] += 1
        row[1] += abs(candidate.amount - allocation.amount)

    def report(self, held: Sequence[str], held_count: int | None = None) -> dict[str, Any]:
        """``held``: the held instructions' ids (the first 100 are listed), ``held_count``
        how many there are when more than listed."""
        return {
            "settled": self.settled,
            "partially_settled": self.partially_settled,
            "failed": self.failed,
            "market_closed": self.closed,
            "trades_netted_out": self.netted_out,
            "fails": [
                {
                    "reason": reason,
                    "currency": currency,
                    "instructions": int(count),
                    "unsettled_amount": format_decimal(value),
                }
                for (reason, currency), (count, value) in sorted(self.fails.items())
            ],
            "held": len(held) if held_count is None else held_count,
            "held_ids": list(held[:100]),
        }

    @classmethod
    def resumed(cls, run: SettlementRun) -> "Tally":
        tally = cls(run.settled, run.partially_settled, run.failed)
        tally.closed = int(run.report.get("market_closed", 0))
        tally.netted_out = int(run.report.get("trades_netted_out", 0))
        for row in run.report.get("fails", []):
            tally.fails[row["reason"], row["currency"]] = [
                Decimal(row["instructions"]),
                Decimal(row["unsettled_amount"]),
            ]
        return tally


# Settling a chunk ------------------------------------------------------------------------------


async def _reference(session: AsyncSession, rows: Sequence[SettlementInstruction]) -> ReferenceSet:
    return await load_reference(session, isins={r.isin for r in rows}, mics=(), books=(), leis=())


def _open_today(
    rows: Sequence[SettlementInstruction], reference: ReferenceSet, settlement_date: date
) -> tuple[list[SettlementInstruction], list[SettlementInstruction]]:
    """Instructions whose market settles on the date, and those whose market is closed (they
    recycle to its next business day)."""
    open_: list[SettlementInstruction] = []
    closed: list[SettlementInstruction] = []
    for row in rows:
        mic = reference.instruments[row.isin].mic
        calendar = reference.settlement_calendar(mic)
        (open_ if calendar.is_business_day(settlement_date) else closed).append(row)
    return open_, closed


def _moved(
    instruction: SettlementInstruction, allocation: Allocation, run: SettlementRun, now: datetime
) -> str:
    """Move an instruction on by what its allocation settled; returns the audit action."""
    reason = allocation.fail_reason.value if allocation.fail_reason else None
    action = "failed"
    if allocation.settled_anything:
        instruction.settled_quantity += abs(allocation.quantity)
        instruction.settled_amount += abs(allocation.amount)
        instruction.settled_on = run.settlement_date
        event = InstructionEvent.SETTLED if reason is None else InstructionEvent.PARTIALLY_SETTLED
        instruction.status = next_state(
            TRANSITIONS, InstructionStatus(instruction.status), event
        ).value
        action = event.value
    instruction.fail_reason = reason
    instruction.version += 1
    instruction.updated_at = now
    return action


def _kind_of_change(row: SettlementInstruction, allocation: Allocation) -> tuple[bool, ...]:
    """Instructions changing the same columns: each kind is written as one batched UPDATE."""
    reason = allocation.fail_reason.value if allocation.fail_reason else None
    return (allocation.settled_anything, reason is None, row.fail_reason != reason)


async def _apply(
    session: AsyncSession,
    tried: Sequence[tuple[SettlementInstruction, Allocation]],
    *,
    run: SettlementRun,
    actor: Actor,
    now: datetime,
) -> None:
    """Post what the allocations settle, in one go, and move the instructions and their trades
    on. Audited for each instruction that settles or whose fail reason changes; the others are
    only marked as tried by this run."""
    kinds: dict[tuple[bool, ...], list[tuple[SettlementInstruction, Allocation, Any]]] = {}
    for row, allocation in tried:
        settled, _, reason_changed = kind = _kind_of_change(row, allocation)
        before = row_snapshot(row) if settled or reason_changed else None
        kinds.setdefault(kind, []).append((row, allocation, before))
    settling = [(row, allocation) for row, allocation in tried if allocation.settled_anything]
    remainders = await post_many(
        session,
        [Settlement(row, allocation.quantity, allocation.amount) for row, allocation in settling],
        settled_on=run.settlement_date,
        actor=actor,
        now=now,
    )
    pending_ids = {row.id: rest for (row, _), rest in zip(settling, remainders, strict=True)}
    audit = []
    for (settled, _, reason_changed), rows in sorted(kinds.items()):
        for row, allocation, before in rows:
            row.last_run_id = run.id
            if settled:
                row.pending_id = pending_ids[row.id]
            if settled or reason_changed:
                action = _moved(row, allocation, run, now)
                audit.append(Change(INSTRUCTION_ENTITY, row.id, action, before, row_snapshot(row)))
        # The ORM batches only consecutive rows changing the same columns: a flush per kind.
        await session.flush()
    await record_changes(session, audit, actor=actor, now=now)
    await trades.mark_settled_many(
        session,
        in_full={row.obligation_id: allocation.fail_reason is None for row, allocation in settling},
        actor=actor,
        now=now,
    )


async def _next_chunk(
    session: AsyncSession, run: SettlementRun, *, lock: bool
) -> Sequence[SettlementInstruction]:
    statement = (
        select(SettlementInstruction)
        .where(
            *_due(run.settlement_date),
            or_(
                SettlementInstruction.last_run_id.is_(None),
                SettlementInstruction.last_run_id != run.id,
            ),
        )
        .order_by(*_ORDER)
        .limit(CHUNK)
    )
    if lock:
        statement = statement.with_for_update(skip_locked=True)
    return (await session.scalars(statement)).all()


async def _settle_chunk(
    session: AsyncSession, run: SettlementRun, tally: Tally, *, actor: Actor, now: datetime
) -> bool:
    """Settle the next chunk; False when nothing was left."""
    rows = await _next_chunk(session, run, lock=True)
    if not rows:
        return False
    reference = await _reference(session, rows)
    open_, closed = _open_today(rows, reference, run.settlement_date)
    for row in closed:
        row.last_run_id = run.id
    tally.closed += len(closed)
    candidates = [_candidate(row, reference) for row in open_]
    available = await positions.lock_for_settlement(
        session, legs=[_leg(row) for row in open_], now=now
    )
    allocations, _ = allocate(candidates, available)
    await _apply(session, list(zip(open_, allocations, strict=True)), run=run, actor=actor, now=now)
    for candidate, allocation in zip(candidates, allocations, strict=True):
        tally.add(allocation, candidate)
    run.processed += len(rows)
    run.settled, run.partially_settled, run.failed = (
        tally.settled,
        tally.partially_settled,
        tally.failed,
    )
    run.report = tally.report(run.report["held_ids"], run.report["held"])
    return True


def _instructed_obligations() -> Any:
    return select(SettlementInstruction.obligation_id)


async def _settle_netted_out(
    session: AsyncSession, run: SettlementRun, tally: Tally, *, actor: Actor, now: datetime
) -> bool:
    """Settle the next chunk of trades whose obligation netted out to nothing (no instruction,
    nothing moves); False when fewer than a chunk were left."""
    settled = await trades.settle_netted_out(
        session,
        settlement_date=run.settlement_date,
        instructed_obligations=_instructed_obligations(),
        limit=CHUNK,
        actor=actor,
        now=now,
    )
    tally.netted_out += settled
    run.report = tally.report(run.report["held_ids"], run.report["held"])
    return settled == CHUNK


# Runs ------------------------------------------------------------------------------------------


async def start_run(
    session: AsyncSession, *, settlement_date: date, actor: Actor, now: datetime
) -> SettlementRun:
    run = SettlementRun(
        id=new_id("str"),
        settlement_date=settlement_date,
        status=RunStatus.RUNNING.value,
        total=await count_due(session, settlement_date=settlement_date),
        processed=0,
        settled=0,
        partially_settled=0,
        failed=0,
        report=Tally().report(await _held(session, settlement_date)),
        created_at=now,
        created_by=actor.key_id,
    )
    session.add(run)
    await record_change(
        session,
        actor=actor,
        entity_type=RUN_ENTITY,
        entity_id=run.id,
        action="started",
        before=None,
        after=row_snapshot(run),
        now=now,
    )
    return run


async def _locked_run(session: AsyncSession, run_id: str) -> SettlementRun:
    run = await session.get(SettlementRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise NotFound(f"No settlement run '{run_id}'.")
    return run


async def _finish(
    session: AsyncSession,
    run: SettlementRun,
    event: RunEvent,
    *,
    actor: Actor,
    now: datetime,
    error: str | None = None,
) -> None:
    before = row_snapshot(run)
    run.status = next_state(RUN_TRANSITIONS, RunStatus(run.status), event).value
    run.error = error
    run.finished_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=RUN_ENTITY,
        entity_id=run.id,
        action=event.value,
        before=before,
        after=row_snapshot(run),
        now=now,
    )


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: str, actor: Actor, clock: Clock
) -> None:
    """Settle chunk by chunk, one transaction each. After a crash, calling it again for the
    same run goes on from what was committed: each instruction is tried once per run."""
    try:
        while True:
            async with sessionmaker() as session:
                run = await _locked_run(session, run_id)
                tally = Tally.resumed(run)
                more = await _settle_chunk(session, run, tally, actor=actor, now=clock())
                if not more:
                    more = await _settle_netted_out(session, run, tally, actor=actor, now=clock())
                if not more:
                    await _finish(session, run, RunEvent.COMPLETED, actor=actor, now=clock())
                await session.commit()
                if not more:
                    return
    except Exception as error:
        async with sessionmaker() as session:
            run = await _locked_run(session, run_id)
            if run.status == RunStatus.RUNNING:
                await _finish(
                    session, run, RunEvent.FAILED, actor=actor, now=clock(), error=str(error)[:500]
                )
                await session.commit()
        raise


async def resume_run(
    session: AsyncSession, *, run_id: str, actor: Actor, now: datetime
) -> SettlementRun:
    run = await _locked_run(session, run_id)
    before = row_snapshot(run)
    run.status = next_state(RUN_TRANSITIONS, RunStatus(run.status), RunEvent.RESUMED).value
    run.error = None
    await record_change(
        session,
        actor=actor,
        entity_type=RUN_ENTITY,
        entity_id=run.id,
        action=RunEvent.RESUMED.value,
        before=before,
        after=row_snapshot(run),
        now=now,
    )
    return run


async def dry_run(session: AsyncSession, *, settlement_date: date) -> dict[str, Any]:
    """What a run would do now, writing nothing: the same allocation over the same order, with
    what earlier chunks would have moved carried in memory."""
    tally, left = Tally(), dict[tuple[str, str], Decimal]()
    after: tuple[Any, ...] | None = None
    total = 0
    while True:
        statement = select(SettlementInstruction).where(*_due(settlement_date)).order_by(*_ORDER)
        if after is not None:
            statement = statement.where(tuple_(*_ORDER) > after)
        rows = (await session.scalars(statement.limit(CHUNK))).all()
        if not rows:
            break
        total += len(rows)
        after = (rows[-1].priority, rows[-1].created_at, rows[-1].id)
        reference = await _reference(session, rows)
        open_, closed = _open_today(rows, reference, settlement_date)
        tally.closed += len(closed)
        candidates = [_candidate(row, reference) for row in open_]
        left |= await positions.holdings(
            session,
            securities={c.securities for c in candidates} - left.keys(),
            cash={c.cash for c in candidates} - left.keys(),
        )
        allocations, left = allocate(candidates, left)
        for candidate, allocation in zip(candidates, allocations, strict=True):
            tally.add(allocation, candidate)
    tally.netted_out = await trades.count_netted_out(
        session,
        settlement_date=settlement_date,
        instructed_obligations=_instructed_obligations(),
    )
    return {"total": total, **tally.report(await _held(session, settlement_date))}


# Queries ---------------------------------------------------------------------------------------


async def get_run(session: AsyncSession, *, run_id: str) -> SettlementRun:
    run = await session.get(SettlementRun, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"No settlement run '{run_id}'.")
    return run


async def list_runs(
    session: AsyncSession, *, page: PageRequest, settlement_date: date | None = None
) -> tuple[Sequence[SettlementRun], str | None]:
    statement = select(SettlementRun)
    if settlement_date is not None:
        statement = statement.where(SettlementRun.settlement_date == settlement_date)
    return await fetch_page(session, statement, SettlementRun.id, page)


async def latest_run(session: AsyncSession, *, settlement_date: date) -> SettlementRun | None:
    statement = (
        select(SettlementRun)
        .where(SettlementRun.settlement_date == settlement_date)
        .order_by(SettlementRun.created_at.desc(), SettlementRun.id.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()
