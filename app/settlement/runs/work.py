"""A settlement run's work, a chunk per transaction: every matched, unheld instruction due by
the date on an ``internal`` market, in priority order then age, settles against our securities
and cash accounts; then the instructions the depository settles (``csd`` markets) are counted,
their fails aged, and those it holds no live message for re-sent (they settle only on its
confirmations); then the trades whose obligations netted out to nothing settle without an
instruction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes
from app.core.auth import SYSTEM_ACTOR, Actor
from app.core.snapshots import jsonable
from app.core.states import next_state
from app.positions.bookings import service as positions
from app.positions.bookings.service import SettlementLeg
from app.reference.partial import PartialIndicator, in_window
from app.reference.service import ReferenceSet, load_reference
from app.settlement.instructions import repository
from app.settlement.instructions import service as instructions
from app.settlement.instructions.at_csd import csd_isins
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.instructions.movements import Settlement, Terms, post_many, signed
from app.settlement.instructions.states import (
    SETTLEABLE,
    TRANSITIONS,
    DeliveryType,
    InstructionEvent,
    InstructionStatus,
)
from app.settlement.runs.allocation import Allocation, Candidate, allocate
from app.settlement.runs.models import SettlementRun
from app.settlement.runs.tally import Tally
from app.trades.capture import post_trade as trades
from app.trades.capture import set_based

RUN_ENTITY = "settlement_run"
INSTRUCTION_ENTITY = "settlement_instruction"
# Instructions settled per transaction: the balances a chunk moves are locked and written once
# for the whole chunk, so a larger one writes fewer balance rows per instruction (5,000 as a
# clearing chunk: 2,000 wrote half again as many balance rows as the set-based SQL).
CHUNK = 5000
# The instructions at the depository and the netted-out obligations go a few hundred at a time
# (each re-sent message, each trade, is its own work).
_AT_MOST_OTHERS = 500


def _others_chunk() -> int:
    return min(CHUNK, _AT_MOST_OTHERS)


ZERO = Decimal(0)
_RECEIVED = (DeliveryType.RVP, DeliveryType.RFP)
_SETTLEABLE = [state.value for state in SETTLEABLE]


@dataclass
class Progress:
    """What a run's chunks carry in this process: the ISINs the depository settles, and the
    run-order key of the last instruction claimed. Each chunk claims from there on, so it does
    not scan again past what earlier chunks tried and left due (their fails); a run resumed
    elsewhere starts again from the start of the order, which is only slower."""

    isins: frozenset[str]
    after: tuple[Any, ...] | None = None


class Due(Terms, Protocol):
    """An instruction due, as a run (a plain row) or a dry run (the ORM's) reads it."""

    @property
    def partial_indicator(self) -> str: ...


D = TypeVar("D", bound=Due)
# An instruction a run claimed: a plain row of every column (``repository.claim_due_rows``).
Claimed = Row[Any]


def _leg(instruction: Due) -> SettlementLeg:
    return SettlementLeg(
        securities_account=instruction.securities_account,
        cash_account=instruction.cash_account,
        isin=instruction.isin,
        currency=instruction.currency,
    )


def _in_partial_windows(reference: ReferenceSet, now: datetime) -> dict[str, bool]:
    """Per market: whether ``now`` is in one of its partial settlement windows."""
    return {
        mic: in_window(now, market.partial_settlement_windows, market.timezone)
        for mic, market in reference.markets.items()
    }


def _candidates(rows: Sequence[Due], reference: ReferenceSet, now: datetime) -> list[Candidate]:
    """What is left of each instruction, with its partial indicator, thresholds and whether
    its market settles partially at ``now``."""
    windows = _in_partial_windows(reference, now)
    candidates = []
    for row in rows:
        quantity, amount = signed(row)
        instrument = reference.instruments[row.isin]
        market = reference.markets[instrument.mic]
        candidates.append(
            Candidate(
                instruction_id=row.id,
                securities_account=row.securities_account,
                cash_account=row.cash_account,
                isin=row.isin,
                currency=row.currency,
                quantity=quantity,
                amount=amount,
                settlement_unit=instrument.settlement_unit,
                partial=PartialIndicator(row.partial_indicator),
                partial_quantity_threshold=instrument.partial_quantity_threshold,
                partial_cash_threshold=market.partial_cash_thresholds.get(row.currency),
                in_partial_window=windows[instrument.mic],
            )
        )
    return candidates


# Settling a chunk ------------------------------------------------------------------------------


async def _reference(session: AsyncSession, rows: Sequence[Due]) -> ReferenceSet:
    return await load_reference(session, isins={r.isin for r in rows}, mics=(), books=(), leis=())


def _open_today(
    rows: Sequence[D], reference: ReferenceSet, settlement_date: date
) -> tuple[list[D], list[D]]:
    """Instructions whose market settles on the date, and those whose market is closed (they
    recycle to its next business day)."""
    open_: list[D] = []
    closed: list[D] = []
    for row in rows:
        mic = reference.instruments[row.isin].mic
        calendar = reference.settlement_calendar(mic)
        (open_ if calendar.is_business_day(settlement_date) else closed).append(row)
    return open_, closed


def _moved(
    row: Claimed,
    allocation: Allocation,
    *,
    pending_id: str | None,
    run: SettlementRun,
    now: datetime,
) -> tuple[str | None, dict[str, Any]]:
    """What trying an instruction changes on it (``TRIED_COLUMNS``), and the audit action when
    it settled anything or its fail reason changed (None: it was only tried by this run)."""
    reason = allocation.fail_reason.value if allocation.fail_reason else None
    changed: dict[str, Any] = {name: getattr(row, name) for name in repository.TRIED_COLUMNS}
    changed["last_run_id"] = run.id
    if not allocation.settled_anything and row.fail_reason == reason:
        return None, changed
    action = "failed"
    if allocation.settled_anything:
        event = InstructionEvent.SETTLED if reason is None else InstructionEvent.PARTIALLY_SETTLED
        changed |= {
            "settled_quantity": row.settled_quantity + abs(allocation.quantity),
            "settled_amount": row.settled_amount + abs(allocation.amount),
            "settled_on": run.settlement_date,
            "status": next_state(TRANSITIONS, InstructionStatus(row.status), event).value,
            "pending_id": pending_id,
        }
        action = event.value
    changed |= {"fail_reason": reason, "version": row.version + 1, "updated_at": now}
    return action, changed


def _audited(row: Claimed, action: str, changed: dict[str, Any]) -> Change:
    """The audit record of a change: the row before, and after with what changed (read as
    ``row_snapshot`` reads the ORM's row)."""
    before = repository.claimed_image(row)
    after = before | {name: jsonable(value) for name, value in changed.items()}
    return Change(INSTRUCTION_ENTITY, row.id, action, before, after)


async def _apply(
    session: AsyncSession,
    tried: Sequence[tuple[Claimed, Allocation]],
    closed: Sequence[Claimed],
    *,
    run: SettlementRun,
    actor: Actor,
    now: datetime,
) -> None:
    """Post what the allocations settle, in one go, and move the instructions (one set-based
    UPDATE for the chunk, ``closed`` ones only marked as tried) and their trades on. Audited
    for each instruction that settles or whose fail reason changes."""
    settling = [(row, allocation) for row, allocation in tried if allocation.settled_anything]
    remainders = await post_many(
        session,
        [Settlement(row, allocation.quantity, allocation.amount) for row, allocation in settling],
        settled_on=run.settlement_date,
        actor=actor,
        now=now,
    )
    pending_ids = {row.id: rest for (row, _), rest in zip(settling, remainders, strict=True)}
    written, audit = [], []
    for row, allocation in tried:
        action, changed = _moved(
            row, allocation, pending_id=pending_ids.get(row.id), run=run, now=now
        )
        written.append({"id": row.id, **changed})
        if action is not None:
            audit.append(_audited(row, action, changed))
    for row in closed:  # the market is closed today: only tried
        unchanged = {name: getattr(row, name) for name in repository.TRIED_COLUMNS}
        written.append({**unchanged, "id": row.id, "last_run_id": run.id})
    await repository.write_tried(session, written)
    await record_changes(session, audit, actor=actor, now=now)
    await trades.mark_settled_many(
        session,
        in_full={row.obligation_id: allocation.fail_reason is None for row, allocation in settling},
        actor=actor,
        now=now,
    )


async def _claim(session: AsyncSession, run: SettlementRun, progress: Progress) -> list[Claimed]:
    """The next chunk in settlement order after the last one claimed; at the end of the order,
    what is left from its start (matched meanwhile, or locked by another writer when passed):
    nothing only when the run has tried everything due."""
    for after in (progress.after, None) if progress.after is not None else (None,):
        rows = await repository.claim_due_rows(
            session,
            settlement_date=run.settlement_date,
            run_id=run.id,
            limit=CHUNK,
            csd_isins=progress.isins,
            after=after,
        )
        if rows:
            progress.after = repository.run_order_key(rows[-1])
            return list(rows)
    return []


async def _settle_chunk(
    session: AsyncSession,
    run: SettlementRun,
    tally: Tally,
    *,
    progress: Progress,
    actor: Actor,
    now: datetime,
) -> bool:
    """Settle the next chunk (the depository's ISINs left to it); False when nothing was
    left."""
    rows = await _claim(session, run, progress)
    if not rows:
        return False
    reference = await _reference(session, rows)
    open_, closed = _open_today(rows, reference, run.settlement_date)
    tally.closed += len(closed)
    candidates = _candidates(open_, reference, now)
    available = await positions.lock_for_settlement(
        session, legs=[_leg(row) for row in open_], now=now
    )
    allocations, _ = allocate(candidates, available)
    tried = list(zip(open_, allocations, strict=True))
    await _apply(session, tried, closed, run=run, actor=actor, now=now)
    for candidate, allocation in zip(candidates, allocations, strict=True):
        tally.add(allocation, candidate)
    run.processed += len(rows)
    run.total = max(run.total, run.processed)  # instructions matched while the run goes count
    run.settled, run.partially_settled, run.failed = (
        tally.settled,
        tally.partially_settled,
        tally.failed,
    )
    run.report = tally.report(run.report["held_ids"], run.report["held"])
    return True


async def _at_csd_chunk(
    session: AsyncSession,
    run: SettlementRun,
    tally: Tally,
    *,
    isins: frozenset[str],
    actor: Actor,
    now: datetime,
) -> bool:
    """Count and age the next chunk of instructions the depository settles (of ``isins``),
    re-sending those it holds no live message for; False when none is left."""
    if not isins:
        return False
    rows = await repository.claim_at_csd(
        session,
        settlement_date=run.settlement_date,
        csd_isins=isins,
        run_id=run.id,
        limit=_others_chunk(),
    )
    if not rows:
        return False
    for row in rows:
        row.last_run_id = run.id
    await _tally_at_csd(
        session, rows, tally, write=True, today=run.settlement_date, actor=actor, now=now
    )
    run.report = tally.report(run.report["held_ids"], run.report["held"])
    return True


async def _tally_at_csd(
    session: AsyncSession,
    rows: Sequence[SettlementInstruction],
    tally: Tally,
    *,
    write: bool,
    today: date,
    actor: Actor,
    now: datetime,
) -> None:
    ages = await instructions.days_failing(session, rows, today=today)
    for row in rows:
        tally.at_csd.add(ages[row.id])
    resent = await instructions.resend_at_csd(
        session, instructions=rows, write=write, actor=actor, now=now
    )
    tally.at_csd.resent += resent.sent
    tally.at_csd.not_sendable.extend(resent.unsendable)


async def _settle_netted_out(
    session: AsyncSession, run: SettlementRun, tally: Tally, *, actor: Actor, now: datetime
) -> bool:
    """Settle up to a chunk of the trades of obligations due that netted out to nothing (no
    instruction, nothing moves); False when nothing is left. An obligation is done for this
    run once none of its trades is left instructed, and settled once clearing has handed
    over all its trades."""
    limit = _others_chunk()
    obligation_ids = await repository.claim_netted_out(
        session, settlement_date=run.settlement_date, run_id=run.id, limit=limit
    )
    settled = await set_based.settle_netted_out(
        session, obligation_ids=obligation_ids, limit=limit, actor=actor, now=now
    )
    done = [o for o in obligation_ids if o not in settled.unsettled]
    await repository.mark_netted_out(
        session,
        tried=done,
        settled=[o for o in done if o not in settled.waiting],
        run_id=run.id,
        now=now,
    )
    tally.netted_out += settled.trades
    run.report = tally.report(run.report["held_ids"], run.report["held"])
    return len(obligation_ids) == limit or bool(settled.unsettled)


async def dry_run(session: AsyncSession, *, settlement_date: date, now: datetime) -> dict[str, Any]:
    """What a run would do now, writing nothing: the same allocation over the same order (and
    the partial settlement windows of ``now``), with what earlier chunks would have moved
    carried in memory."""
    tally, left = Tally(), dict[tuple[str, str], Decimal]()
    after: tuple[Any, ...] | None = None
    total = 0
    isins = frozenset(await csd_isins(session))
    while True:
        rows = await repository.due_after(
            session, settlement_date=settlement_date, after=after, limit=CHUNK, csd_isins=isins
        )
        if not rows:
            break
        total += len(rows)
        after = repository.run_order_key(rows[-1])
        reference = await _reference(session, rows)
        open_, closed = _open_today(rows, reference, settlement_date)
        tally.closed += len(closed)
        candidates = _candidates(open_, reference, now)
        left |= await positions.holdings(
            session,
            securities={c.securities for c in candidates} - left.keys(),
            cash={c.cash for c in candidates} - left.keys(),
        )
        allocations, left = allocate(candidates, left)
        for candidate, allocation in zip(candidates, allocations, strict=True):
            tally.add(allocation, candidate)
    await _dry_run_at_csd(session, tally, settlement_date=settlement_date, isins=isins, now=now)
    tally.netted_out = await trades.count_netted_out(
        session,
        obligation_ids=await repository.netted_out_due(session, settlement_date=settlement_date),
    )
    return {
        "total": total,
        **tally.report(await repository.held(session, settlement_date=settlement_date)),
    }


async def _dry_run_at_csd(
    session: AsyncSession,
    tally: Tally,
    *,
    settlement_date: date,
    isins: frozenset[str],
    now: datetime,
) -> None:
    """What the run would count and re-send at the depository, writing nothing."""
    after: str | None = None
    while isins:
        rows = await repository.at_csd_after(
            session,
            settlement_date=settlement_date,
            csd_isins=isins,
            after=after,
            limit=_others_chunk(),
        )
        if not rows:
            return
        after = rows[-1].id
        await _tally_at_csd(
            session, rows, tally, write=False, today=settlement_date, actor=SYSTEM_ACTOR, now=now
        )


async def prepare(session: AsyncSession, run: SettlementRun) -> Progress:
    """What the chunks carry: the ISINs the depository settles, read once a run (or once a
    resumption) rather than once a chunk, and where in settlement order the run is. The tally
    is on the run row."""
    return Progress(frozenset(await csd_isins(session)))


async def settle_chunk(
    session: AsyncSession,
    run: SettlementRun,
    progress: Progress,
    *,
    actor: Actor,
    now: datetime,
) -> bool:
    """The run's next chunk: instructions, or once none is left, netted-out trades."""
    tally = Tally.resumed(
        settled=run.settled,
        partially_settled=run.partially_settled,
        failed=run.failed,
        report=run.report,
    )
    if await _settle_chunk(session, run, tally, progress=progress, actor=actor, now=now):
        return True
    isins = progress.isins
    if await _at_csd_chunk(session, run, tally, isins=isins, actor=actor, now=now):
        return True
    return await _settle_netted_out(session, run, tally, actor=actor, now=now)
