"""Affirmation deadline runs on the run framework: unconfirmed trades are looked at a chunk per
transaction, in id order, and those past their cutoff flagged (``trade.affirmation_overdue``)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.trades.confirmations import service as confirmations
from app.trades.deadline_runs.models import AffirmationDeadlineRun

CHUNK = 1000


@dataclass
class Cursor:
    """Where the run stands in the unconfirmed trades (trades not yet due stay unflagged)."""

    after_id: str | None = None


async def _prepare(session: AsyncSession, run: AffirmationDeadlineRun) -> Cursor:
    return Cursor()


async def _flag_chunk(
    session: AsyncSession,
    run: AffirmationDeadlineRun,
    cursor: Cursor,
    *,
    actor: Actor,
    now: datetime,
) -> bool:
    """Flag the overdue ones of the next chunk of unconfirmed trades; False when none is left."""
    looked_at = await confirmations.flag_overdue_affirmations(
        session, now=now, actor=actor, after_id=cursor.after_id, limit=CHUNK
    )
    if looked_at.last_id is None:
        return False
    cursor.after_id = looked_at.last_id
    run.processed += looked_at.count
    run.flagged += len(looked_at.flagged)
    run.report = {"trade_ids": [*run.report["trade_ids"], *looked_at.flagged]}
    return looked_at.count == CHUNK


DEADLINE_RUN: RunType[AffirmationDeadlineRun, Cursor] = RunType(
    entity="affirmation_deadline_run",
    title="affirmation deadline run",
    model=AffirmationDeadlineRun,
    id_prefix="adr",
    path="/api/v1/affirmation-deadline-runs",
    prepare=_prepare,
    chunk=_flag_chunk,
    record=record_change,
    past=row_as_of,
)


async def start_run(
    session: AsyncSession, *, actor: Actor, now: datetime
) -> AffirmationDeadlineRun:
    """A run over every unconfirmed trade not flagged yet (``process_run`` does the work)."""
    return await framework.start(
        session,
        DEADLINE_RUN,
        total=await confirmations.count_unflagged_unconfirmed(session),
        report={"trade_ids": []},
        actor=actor,
        now=now,
        flagged=0,
    )


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: str, actor: Actor, clock: Clock
) -> None:
    await framework.process(sessionmaker, DEADLINE_RUN, run_id=run_id, actor=actor, clock=clock)


async def get_run(session: AsyncSession, *, run_id: str) -> AffirmationDeadlineRun:
    return await framework.get(session, DEADLINE_RUN, run_id)
