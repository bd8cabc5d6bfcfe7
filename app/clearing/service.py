"""Clearing runs: novate CCP trades, net every confirmed trade due on a date into obligations,
and instruct them. A run works in chunks, one transaction each, and can be resumed."""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record_change
from app.clearing.models import ClearingRun, Obligation, ObligationTrade
from app.clearing.netting import (
    ZERO,
    ClearingTrade,
    Net,
    Netting,
    NettingKey,
    NettingSet,
    netting_key,
)
from app.clearing.report import LeftOut, build_report
from app.clearing.states import TRANSITIONS, RunEvent, RunStatus
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest, fetch_page
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.positions.bookings import service as positions
from app.positions.bookings.service import Novation
from app.reference.models import Instrument, Market
from app.reference.service import Parties, instruments_by_isin, markets_by_mic, parties_and_accounts
from app.settlement import service as settlement
from app.settlement.models import SettlementInstruction
from app.settlement.service import ObligationToInstruct
from app.settlement.states import InstructionStatus
from app.trades import service as trades
from app.trades.models import Trade

ENTITY = "clearing_run"
_OBLIGATIONS = cast(Table, Obligation.__table__)
CHUNK = 1000


@dataclass
class _Reference:
    """What resolving a trade needs, loaded once per run and grown per chunk."""

    parties: Parties
    markets: dict[str, Market] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)

    async def load(self, session: AsyncSession, chunk: Sequence[Trade]) -> None:
        isins = {t.isin for t in chunk} - self.instruments.keys()
        self.instruments.update(await instruments_by_isin(session, isins=isins))
        mics = {t.venue for t in chunk} | {i.mic for i in self.instruments.values()}
        self.markets.update(await markets_by_mic(session, mics=mics - self.markets.keys()))

    def _one(self, matching: list[str], what: str) -> str:
        if len(matching) != 1:
            found = ", ".join(sorted(matching)) or "none"
            raise LookupError(f"{what}: exactly one is needed, found {found}")
        return matching[0]

    def resolve(self, trade: Trade) -> ClearingTrade:
        """The trade as netting sees it, or ``LookupError`` saying what reference data is
        missing (the trade then waits for a later run)."""
        instrument = self.instruments[trade.isin]
        market = self.markets[trade.venue]
        accounts = self.parties.accounts.values()
        securities_account = self._one(
            [a.code for a in accounts if a.kind == "securities" and instrument.mic in a.markets],
            f"our securities account for market {instrument.mic}",
        )
        cash_account = self._one(
            [a.code for a in accounts if a.kind == "cash" and a.currency == trade.currency],
            f"our cash account in {trade.currency}",
        )
        if market.ccp is not None:
            ccp = self.parties.by_bic.get(market.ccp)
            if ccp is None:
                raise LookupError(
                    f"the CCP of {market.mic} ({market.ccp}) is not set up as a counterparty"
                )
            netting_set, counterparty = NettingSet.CCP, ccp.lei
        else:
            bilateral = self.parties.counterparties[trade.counterparty_lei].netting == "bilateral"
            netting_set = NettingSet.BILATERAL if bilateral else NettingSet.GROSS
            counterparty = trade.counterparty_lei
        return ClearingTrade(
            trade_id=trade.id,
            netting_set=netting_set,
            counterparty=counterparty,
            securities_account=securities_account,
            cash_account=cash_account,
            isin=trade.isin,
            currency=trade.currency,
            settlement_date=trade.settlement_date,
            side=trade.side,
            quantity=trade.quantity,
            net_amount=trade.net_amount,
        )


def _key_text(key: NettingKey) -> str:
    return "|".join(
        [
            key.netting_set.value,
            key.counterparty,
            key.securities_account,
            key.cash_account,
            key.isin,
            key.currency,
            key.settlement_date.isoformat(),
            key.trade_id or "",
        ]
    )


@dataclass
class _Chunk:
    trades: list[Trade]
    resolved: list[ClearingTrade]
    left_out: list[LeftOut]


async def _next_chunk(
    session: AsyncSession,
    reference: _Reference,
    *,
    settlement_date: date,
    after_id: str | None,
    lock: bool,
) -> _Chunk | None:
    chunk = list(
        await trades.clearable_trades(
            session, settlement_date=settlement_date, after_id=after_id, limit=CHUNK, lock=lock
        )
    )
    if not chunk:
        return None
    await reference.load(session, chunk)
    resolved, left_out, taken = [], [], []
    for trade in chunk:
        try:
            resolved.append(reference.resolve(trade))
            taken.append(trade)
        except LookupError as missing:
            left_out.append(LeftOut(trade.id, str(missing)))
    return _Chunk(taken, resolved, left_out)


# Dry run -------------------------------------------------------------------------------------


async def dry_run(session: AsyncSession, *, settlement_date: date) -> dict[str, Any]:
    """The report a run would give now, writing nothing."""
    reference = _Reference(await parties_and_accounts(session))
    netting, left_out = Netting(), []
    after: str | None = None
    while (
        chunk := await _next_chunk(
            session, reference, settlement_date=settlement_date, after_id=after, lock=False
        )
    ) is not None:
        netting.add(chunk.resolved)
        left_out += chunk.left_out
        after = max([t.id for t in chunk.trades] + [lo.trade_id for lo in chunk.left_out])
    return build_report(netting.nets, left_out)


# Runs ------------------------------------------------------------------------------------------


async def count_clearable(session: AsyncSession, *, settlement_date: date) -> int:
    return await trades.count_clearable(session, settlement_date=settlement_date)


@dataclass(frozen=True)
class NothingToClear:
    note: str
    last_run: ClearingRun | None


async def nothing_to_clear(
    session: AsyncSession, *, settlement_date: date
) -> NothingToClear | None:
    """Why a run for the date would do nothing (no confirmed trade is due), or None."""
    if await count_clearable(session, settlement_date=settlement_date):
        return None
    last = await latest_run(session, settlement_date=settlement_date)
    note = f"Nothing to clear: no confirmed trade is due on {settlement_date}"
    if last is None:
        return NothingToClear(note + ".", None)
    return NothingToClear(f"{note}; the last run for the date is {last.id}.", last)


async def latest_run(session: AsyncSession, *, settlement_date: date) -> ClearingRun | None:
    statement = (
        select(ClearingRun)
        .where(ClearingRun.settlement_date == settlement_date)
        .order_by(ClearingRun.created_at.desc(), ClearingRun.id.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()


async def start_run(
    session: AsyncSession, *, settlement_date: date, total: int, actor: Actor, now: datetime
) -> ClearingRun:
    run = ClearingRun(
        id=new_id("clr"),
        settlement_date=settlement_date,
        status=RunStatus.RUNNING.value,
        total=total,
        processed=0,
        obligations=0,
        instructions=0,
        report={},
        created_at=now,
        created_by=actor.key_id,
    )
    session.add(run)
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=run.id,
        action="started",
        before=None,
        after=row_snapshot(run),
        now=now,
    )
    return run


@dataclass
class _RunState:
    netting: Netting = field(default_factory=Netting)
    obligation_ids: dict[NettingKey, str] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)


def _obligation_values(net: Net) -> dict[str, Any]:
    return {
        "net_quantity": net.net_quantity,
        "net_amount": net.net_amount,
        "gross_quantity": net.gross_quantity,
        "gross_amount": net.gross_amount,
        "trade_count": net.trade_count,
        "direction": net.direction.value,
    }


async def _resume_state(session: AsyncSession, run_id: str) -> _RunState:
    """What earlier chunks of the run wrote: its obligations and their totals."""
    state = _RunState()
    for obligation in (
        await session.scalars(select(Obligation).where(Obligation.run_id == run_id))
    ).all():
        key = NettingKey(
            netting_set=NettingSet(obligation.netting_set),
            counterparty=obligation.counterparty_lei,
            securities_account=obligation.securities_account,
            cash_account=obligation.cash_account,
            isin=obligation.isin,
            currency=obligation.currency,
            settlement_date=obligation.settlement_date,
            trade_id=obligation.netting_key.rsplit("|", 1)[1] or None,
        )
        state.obligation_ids[key] = obligation.id
        state.netting.nets[key] = Net(
            obligation.net_quantity,
            obligation.net_amount,
            obligation.gross_quantity,
            obligation.gross_amount,
            obligation.trade_count,
        )
    return state


async def _clear_chunk(
    session: AsyncSession,
    run: ClearingRun,
    chunk: _Chunk,
    state: _RunState,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    lineage = state.netting.add(chunk.resolved)
    new_rows, changed = [], []
    for key in lineage:
        values = _obligation_values(state.netting.nets[key])
        if key in state.obligation_ids:
            changed.append({"o_id": state.obligation_ids[key], **values})
            continue
        obligation_id = new_id("obl")
        state.obligation_ids[key] = obligation_id
        new_rows.append(
            {
                "id": obligation_id,
                "run_id": run.id,
                "netting_key": _key_text(key),
                "netting_set": key.netting_set.value,
                "counterparty_lei": key.counterparty,
                "securities_account": key.securities_account,
                "cash_account": key.cash_account,
                "isin": key.isin,
                "currency": key.currency,
                "settlement_date": key.settlement_date,
                "created_at": now,
                **values,
            }
        )
    if new_rows:
        await session.execute(insert(Obligation), new_rows)
    if changed:
        await session.execute(
            update(_OBLIGATIONS)
            .where(_OBLIGATIONS.c.id == bindparam("o_id"))
            .values({name: bindparam(name) for name in _obligation_values(Net())}),
            changed,
        )
    state.left_out += chunk.left_out
    run.processed += len(chunk.trades) + len(chunk.left_out)
    run.obligations = len(state.obligation_ids)
    if not chunk.trades:  # every trade of the chunk waits for its reference data
        return
    by_trade = {t.trade_id: t for t in chunk.resolved}
    await session.execute(
        insert(ObligationTrade),
        [
            {
                "trade_id": trade.id,
                "obligation_id": state.obligation_ids[netting_key(by_trade[trade.id])],
                "original_counterparty_lei": trade.counterparty_lei,
                "novated": by_trade[trade.id].netting_set == NettingSet.CCP,
            }
            for trade in chunk.trades
        ],
    )
    await trades.mark_cleared(
        session,
        trades=chunk.trades,
        cleared={
            trade.id: (
                state.obligation_ids[netting_key(by_trade[trade.id])],
                by_trade[trade.id].counterparty
                if by_trade[trade.id].netting_set == NettingSet.CCP
                else None,
            )
            for trade in chunk.trades
        },
        actor=actor,
        now=now,
    )
    await positions.novate(
        session,
        novations=_novations(chunk),
        reference=run.id,
        value_date=run.settlement_date,
        actor=actor,
        now=now,
    )


def _novations(chunk: _Chunk) -> list[Novation]:
    """What the chunk's CCP trades leave unsettled moves from each original counterparty to
    the CCP: the securities per ISIN, the cash per currency (not once per ISIN as well)."""
    originals = {t.id: t.counterparty_lei for t in chunk.trades}
    securities: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    cash: dict[tuple[str, str, str], tuple[str, Decimal]] = {}
    for trade in chunk.resolved:
        if trade.netting_set != NettingSet.CCP:
            continue
        origin = originals[trade.trade_id]
        securities[origin, trade.counterparty, trade.isin, trade.currency] += trade.signed_quantity
        isin, amount = cash.get((origin, trade.counterparty, trade.currency), (trade.isin, ZERO))
        cash[origin, trade.counterparty, trade.currency] = (isin, amount + trade.signed_amount)
    return [
        Novation(origin, ccp, isin, quantity, currency, ZERO)
        for (origin, ccp, isin, currency), quantity in securities.items()
    ] + [
        # A cash-only move: its securities lines are zero and left out.
        Novation(origin, ccp, isin, ZERO, currency, amount)
        for (origin, ccp, currency), (isin, amount) in cash.items()
    ]


async def _instruct(
    session: AsyncSession, run: ClearingRun, state: _RunState, *, actor: Actor, now: datetime
) -> int:
    """One instruction per obligation that moves something (``repair`` where no single SSI
    fits). Returns how many the run has."""
    instruments = await instruments_by_isin(
        session, isins={key.isin for key in state.obligation_ids}
    )
    instructions = await settlement.create_instructions(
        session,
        obligations=[
            ObligationToInstruct(
                obligation_id=obligation_id,
                counterparty_lei=key.counterparty,
                ccp=key.netting_set == NettingSet.CCP,
                isin=key.isin,
                mic=instruments[key.isin].mic,
                currency=key.currency,
                securities_account=key.securities_account,
                cash_account=key.cash_account,
                net_quantity=state.netting.nets[key].net_quantity,
                net_amount=state.netting.nets[key].net_amount,
                settlement_date=key.settlement_date,
            )
            for key, obligation_id in state.obligation_ids.items()
        ],
        actor=actor,
        now=now,
    )
    return len(instructions)


async def _sent(session: AsyncSession, run_id: str) -> list[tuple[str, int]]:
    """The run's obligations handed to settlement, with their trade counts: their trades are
    ``instructed``. Those whose instruction is in repair wait for it; those that net out to
    nothing have no instruction and settle on their date without one
    (``trades.settle_netted_out``)."""
    statement = (
        select(Obligation.id, Obligation.trade_count)
        .outerjoin(SettlementInstruction, SettlementInstruction.obligation_id == Obligation.id)
        .where(
            Obligation.run_id == run_id,
            or_(
                SettlementInstruction.id.is_(None),
                SettlementInstruction.status != InstructionStatus.REPAIR.value,
            ),
        )
        .order_by(Obligation.id)
    )
    return [(obligation_id, count) for obligation_id, count in await session.execute(statement)]


def _batches(obligations: Sequence[tuple[str, int]], trades_per_batch: int) -> Iterator[list[str]]:
    """Obligation ids in batches of about ``trades_per_batch`` trades (an obligation with more
    is a batch of its own: ``instruct_cleared`` goes through it a chunk at a time)."""
    batch: list[str] = []
    in_batch = 0
    for obligation_id, trade_count in obligations:
        if batch and in_batch + trade_count > trades_per_batch:
            yield batch
            batch, in_batch = [], 0
        batch.append(obligation_id)
        in_batch += trade_count
    if batch:
        yield batch


async def _finish(
    session: AsyncSession,
    run: ClearingRun,
    event: RunEvent,
    *,
    actor: Actor,
    now: datetime,
    error: str | None = None,
) -> None:
    before = row_snapshot(run)
    run.status = next_state(TRANSITIONS, RunStatus(run.status), event).value
    run.error = error
    run.finished_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=run.id,
        action=event.value,
        before=before,
        after=row_snapshot(run),
        now=now,
    )


async def _locked_run(session: AsyncSession, run_id: str) -> ClearingRun:
    run = await session.get(ClearingRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise NotFound(f"No clearing run '{run_id}'.")
    return run


async def _clear_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    run_id: str,
    state: _RunState,
    reference: _Reference,
    settlement_date: date,
    actor: Actor,
    clock: Clock,
) -> None:
    """Clear every clearable trade due on the date, a chunk per transaction."""
    after: str | None = None
    while True:
        async with sessionmaker() as session:
            run = await _locked_run(session, run_id)
            chunk = await _next_chunk(
                session, reference, settlement_date=settlement_date, after_id=after, lock=True
            )
            if chunk is None:
                return
            await _clear_chunk(session, run, chunk, state, actor=actor, now=clock())
            after = max([t.id for t in chunk.trades] + [lo.trade_id for lo in chunk.left_out])
            await session.commit()


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: str, actor: Actor, clock: Clock
) -> None:
    """Clear chunk by chunk, one transaction each, then instruct. After a crash, calling it
    again for the same run goes on from what was committed: nothing is cleared twice."""
    try:
        async with sessionmaker() as session:
            run = await _locked_run(session, run_id)
            parties = await parties_and_accounts(session)
            state = await _resume_state(session, run_id)
            settlement_date = run.settlement_date
            # Once instructions exist the obligations are final: a resumed run clears no more.
            instructed = run.instructions > 0
        if not instructed:
            await _clear_all(
                sessionmaker, run_id, state, _Reference(parties), settlement_date, actor, clock
            )
            async with sessionmaker() as session:
                run = await _locked_run(session, run_id)
                run.instructions = await _instruct(session, run, state, actor=actor, now=clock())
                run.report = build_report(state.netting.nets, state.left_out)
                await session.commit()
        async with sessionmaker() as session:
            sent = await _sent(session, run_id)
        for batch in _batches(sent, CHUNK):
            after: str | None = None
            while True:
                async with sessionmaker() as session:
                    await _locked_run(session, run_id)
                    after = await trades.instruct_cleared(
                        session,
                        obligation_ids=batch,
                        after_id=after,
                        limit=CHUNK,
                        actor=actor,
                        now=clock(),
                    )
                    await session.commit()
                if after is None:
                    break
        async with sessionmaker() as session:
            run = await _locked_run(session, run_id)
            await _finish(session, run, RunEvent.COMPLETED, actor=actor, now=clock())
            await session.commit()
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
) -> ClearingRun:
    run = await _locked_run(session, run_id)
    before = row_snapshot(run)
    run.status = next_state(TRANSITIONS, RunStatus(run.status), RunEvent.RESUMED).value
    run.error = None
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=run.id,
        action=RunEvent.RESUMED.value,
        before=before,
        after=row_snapshot(run),
        now=now,
    )
    return run


# Queries ---------------------------------------------------------------------------------------


async def get_run(session: AsyncSession, *, run_id: str) -> ClearingRun:
    run = await session.get(ClearingRun, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"No clearing run '{run_id}'.")
    return run


async def list_runs(
    session: AsyncSession, *, page: PageRequest, settlement_date: date | None = None
) -> tuple[Sequence[ClearingRun], str | None]:
    statement = select(ClearingRun)
    if settlement_date is not None:
        statement = statement.where(ClearingRun.settlement_date == settlement_date)
    return await fetch_page(session, statement, ClearingRun.id, page)


async def trade_ids_of(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> dict[str, list[str]]:
    lineage: dict[str, list[str]] = {obligation_id: [] for obligation_id in obligation_ids}
    if obligation_ids:
        rows = await session.execute(
            select(ObligationTrade.obligation_id, ObligationTrade.trade_id)
            .where(ObligationTrade.obligation_id.in_(list(obligation_ids)))
            .order_by(ObligationTrade.trade_id)
        )
        for obligation_id, trade_id in rows.all():
            lineage[obligation_id].append(trade_id)
    return lineage


async def get_obligation(session: AsyncSession, *, obligation_id: str) -> Obligation:
    obligation = await session.get(Obligation, obligation_id)
    if obligation is None:
        raise NotFound(f"No obligation '{obligation_id}'.")
    return obligation


async def list_obligations(
    session: AsyncSession,
    *,
    page: PageRequest,
    run_id: str | None = None,
    settlement_date: date | None = None,
    counterparty_lei: str | None = None,
    isin: str | None = None,
) -> tuple[Sequence[Obligation], str | None]:
    statement = select(Obligation)
    filters = {
        Obligation.run_id: run_id,
        Obligation.settlement_date: settlement_date,
        Obligation.counterparty_lei: counterparty_lei,
        Obligation.isin: isin,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    return await fetch_page(session, statement, Obligation.id, page)
