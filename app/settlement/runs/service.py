"""Settlement runs on the run framework: started for a date that has come, worked through by
``work.settle_chunk``, dry run, queries."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.errors import FieldProblem, ValidationFailed
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.settlement.instructions import repository
from app.settlement.instructions.at_csd import csd_isins
from app.settlement.runs import work
from app.settlement.runs.models import SettlementRun
from app.settlement.runs.tally import Tally

SETTLEMENT_RUN: RunType[SettlementRun, work.Progress] = RunType(
    entity="settlement_run",
    title="settlement run",
    model=SettlementRun,
    id_prefix="str",
    path="/api/v1/settlement-runs",
    prepare=work.prepare,
    chunk=work.settle_chunk,
    record=record_change,
    past=row_as_of,
)


def check_date(settlement_date: date, *, now: datetime) -> None:
    """A run settles what is due by a day that has come: never ahead of time."""
    today = now.date()
    if settlement_date > today:
        problem = f"{settlement_date} has not come yet (today is {today})"
        raise ValidationFailed(
            f"settlement_date: {problem}.", errors=[FieldProblem("settlement_date", problem)]
        )


async def dry_run(session: AsyncSession, *, settlement_date: date, now: datetime) -> dict[str, Any]:
    """What a run would do now, writing nothing."""
    check_date(settlement_date, now=now)
    return await work.dry_run(session, settlement_date=settlement_date, now=now)


async def start_run(
    session: AsyncSession, *, settlement_date: date, actor: Actor, now: datetime
) -> SettlementRun:
    """A run for every matched instruction due by the date (``process_run`` does the work)."""
    check_date(settlement_date, now=now)
    held = await repository.held(session, settlement_date=settlement_date)
    return await framework.start(
        session,
        SETTLEMENT_RUN,
        total=await repository.count_due(
            session,
            settlement_date=settlement_date,
            csd_isins=frozenset(await csd_isins(session)),
        ),
        report=Tally().report(held),
        actor=actor,
        now=now,
        settlement_date=settlement_date,
        settled=0,
        partially_settled=0,
        failed=0,
    )


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: str, actor: Actor, clock: Clock
) -> None:
    """Settle chunk by chunk, one transaction each. After a crash, calling it again for the
    same run goes on from what was committed: each instruction is tried once per run."""
    await framework.process(sessionmaker, SETTLEMENT_RUN, run_id=run_id, actor=actor, clock=clock)


async def get_run(session: AsyncSession, *, run_id: str) -> SettlementRun:
    return await framework.get(session, SETTLEMENT_RUN, run_id)
