"""Clearing runs on the run framework: started for a settlement date, worked through by
``work.clear_chunk``, dry run, nothing-to-clear answer, queries."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record_change, row_as_of
from app.clearing.runs import work
from app.clearing.runs.models import ClearingRun
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.trades.capture import post_trade as trades

CLEARING_RUN: RunType[ClearingRun, work.Progress] = RunType(
    entity="clearing_run",
    title="clearing run",
    model=ClearingRun,
    id_prefix="clr",
    path="/api/v1/clearing-runs",
    prepare=work.prepare,
    chunk=work.clear_chunk,
    record=record_change,
    past=row_as_of,
)


async def dry_run(session: AsyncSession, *, settlement_date: date) -> dict[str, Any]:
    """The report a run would give now, writing nothing."""
    return await work.dry_run(session, settlement_date=settlement_date)


@dataclass(frozen=True)
class NothingToClear:
    note: str
    last_run: ClearingRun | None


async def nothing_to_clear(
    session: AsyncSession, *, settlement_date: date
) -> NothingToClear | None:
    """Why a run for the date would do nothing (no confirmed trade is due), or None."""
    if await trades.count_clearable(session, settlement_date=settlement_date):
        return None
    last = await framework.latest(session, CLEARING_RUN, settlement_date=settlement_date)
    note = f"Nothing to clear: no confirmed trade is due on {settlement_date}"
    if last is None:
        return NothingToClear(note + ".", None)
    return NothingToClear(f"{note}; the last run for the date is {last.id}.", last)


async def start_run(
    session: AsyncSession, *, settlement_date: date, actor: Actor, now: datetime
) -> ClearingRun:
    """A run for every confirmed trade due on the date (``process_run`` does the work)."""
    return await framework.start(
        session,
        CLEARING_RUN,
        total=await trades.count_clearable(session, settlement_date=settlement_date),
        report={},
        actor=actor,
        now=now,
        settlement_date=settlement_date,
        obligations=0,
        instructions=0,
    )


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: str, actor: Actor, clock: Clock
) -> None:
    """Clear chunk by chunk, one transaction each, then instruct and hand the trades over.
    After a crash, calling it again for the same run goes on from what was committed."""
    await framework.process(sessionmaker, CLEARING_RUN, run_id=run_id, actor=actor, clock=clock)


async def get_run(session: AsyncSession, *, run_id: str) -> ClearingRun:
    return await framework.get(session, CLEARING_RUN, run_id)
