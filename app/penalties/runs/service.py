"""Penalty runs on the run framework: started for a business day (the EOD cycle starts them
as it starts clearing and settlement runs), worked through by ``work.penalise_chunk``, dry run,
queries. Idempotent per date: a second run for a day books only what the first could not (a
price loaded since) and reverses what the facts no longer support."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.penalties.runs import work
from app.penalties.runs.models import PenaltyRun

PENALTY_RUN: RunType[PenaltyRun, None] = RunType(
    entity="penalty_run",
    title="penalty run",
    model=PenaltyRun,
    id_prefix="pnl",
    path="/api/v1/penalty-runs",
    prepare=work.prepare,
    chunk=work.penalise_chunk,
    record=record_change,
    past=row_as_of,
)


async def dry_run(session: AsyncSession, *, day: date) -> dict[str, Any]:
    """The report a run would give now, writing nothing."""
    return await work.dry_run(session, day=day)


async def start_run(session: AsyncSession, *, day: date, actor: Actor, now: datetime) -> PenaltyRun:
    """A run for the business day (``process_run`` does the work)."""
    return await framework.start(
        session,
        PENALTY_RUN,
        total=0,
        report={},
        actor=actor,
        now=now,
        settlement_date=day,
        booked=0,
        reversed=0,
        exceptions=0,
    )


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: str, actor: Actor, clock: Clock
) -> None:
    """Work the run through; after a crash, calling it again goes on from what was committed."""
    await framework.process(sessionmaker, PENALTY_RUN, run_id=run_id, actor=actor, clock=clock)


async def get_run(session: AsyncSession, *, run_id: str) -> PenaltyRun:
    return await framework.get(session, PENALTY_RUN, run_id)
