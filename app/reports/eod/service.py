"""End-of-day runs on the run framework: one per business date, a step per two chunks.

The framework owns the run row, its lifecycle (running, completed, failed, resumed) and its
audit records; a chunk here does the next step of the table (``plan.next_step``), and the
chunk after it records how that step ended (so ``finished_at`` is the clock when it ended). A
step's batch runs work in their own transactions (on SQLite a transaction holds the database's
one write lock), so the chunk commits the step's start before the step works."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.db import AUDIT_TRAIL, create_sessionmaker
from app.core.errors import FieldProblem, ValidationFailed
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.core.snapshots import row_snapshot
from app.reference.calendars import service as calendars
from app.reports.eod import plan
from app.reports.eod.models import EodRun
from app.reports.eod.states import StepEvent
from app.reports.eod.steps import REPORT_STEP, STEPS, Step, StepContext, StepOutcome


@dataclass
class Carried:
    """What the chunks of an end-of-day run work with: the step table, where the steps' own
    runs open their transactions (the engine of the run's session), and how the step just
    done ended, recorded by the next chunk (so its ``finished_at`` is when it ended)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    steps: tuple[Step, ...]
    ended: dict[int, StepOutcome | Exception] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]


async def _prepare(session: AsyncSession, run: EodRun) -> Carried:
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("An end-of-day run's session is bound to an engine.")
    audit_trail = bool(session.info.get(AUDIT_TRAIL, True))
    return Carried(create_sessionmaker(engine, audit_trail=audit_trail), STEPS)


async def _save(
    session: AsyncSession,
    run: EodRun,
    steps: list[dict[str, Any]],
    *,
    action: str,
    actor: Actor,
    now: datetime,
    report: dict[str, Any] | None = None,
) -> None:
    """The run with these steps (and its progress, and the day's report when given), audited
    as ``action``."""
    before = row_snapshot(run)
    run.steps = steps
    if report is not None:
        run.report = report
    run.processed = plan.progress(steps)
    await record_change(
        session,
        actor=actor,
        entity_type=EOD_RUN.entity,
        entity_id=run.id,
        action=action,
        before=before,
        after=row_snapshot(run),
        now=now,
    )


def _remember(run_id: str, index: int, *, actor: Actor, now: datetime) -> Any:
    """Record a step's child run on the end-of-day run, in the transaction that starts it."""

    async def remember(session: AsyncSession, key: str, child_id: str) -> None:
        run = await framework.locked(session, EOD_RUN, run_id)
        steps = [dict(step) for step in run.steps]
        steps[index] = {**steps[index], "child_runs": {**steps[index]["child_runs"], key: child_id}}
        await _save(session, run, steps, action="child_run_started", actor=actor, now=now)

    return remember


async def _step_chunk(
    session: AsyncSession, run: EodRun, carried: Carried, *, actor: Actor, now: datetime
) -> bool:
    """Record how the last step ended, or do the next step of the day; False when every step
    is done. After a crash between the two, the step is found ``running`` and done again
    from its recorded child runs (which finish, they do not start again)."""
    steps = plan.aligned(carried.names, run.steps)
    index = plan.next_step(steps)
    if index is None:
        return False
    if index in carried.ended:
        ended = carried.ended.pop(index)
        await _finish(session, run, steps, index, ended, actor=actor, now=now)
        if isinstance(ended, Exception):
            await session.commit()
            raise ended
        return True
    step = {**plan.moved(steps[index], StepEvent.STARTED), "error": None}
    steps[index] = {**step, "started_at": now.isoformat(), "finished_at": None}
    await _save(session, run, steps, action="step_started", actor=actor, now=now)
    await session.commit()  # the step's own runs take their transactions from here
    context = StepContext(
        sessionmaker=carried.sessionmaker,
        day=run.business_date,
        actor=actor,
        clock=lambda: now,
        child_runs=dict(step["child_runs"]),
        remember=_remember(run.id, index, actor=actor, now=now),
    )
    entry = {known.name: known for known in carried.steps}.get(step["name"])
    try:
        if entry is None:
            ended = StepOutcome({"note": "No longer part of the cycle."}, skipped=True)
        else:
            ended = await entry.run(context)
    except Exception as error:
        ended = error
    carried.ended[index] = ended
    return True


async def _finish(
    session: AsyncSession,
    run: EodRun,
    steps: list[dict[str, Any]],
    index: int,
    ended: StepOutcome | Exception,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Record how the step ended on the run (locked again, with the child runs remembered in
    the meantime)."""
    step = steps[index]
    if isinstance(ended, StepOutcome):
        event = StepEvent.SKIPPED if ended.skipped else StepEvent.COMPLETED
        step = {
            **plan.moved(step, event),
            "summary": ended.summary,
            "child_runs": {**step["child_runs"], **ended.adopted},
        }
        report = ended.summary if step["name"] == REPORT_STEP else None
    else:
        event, report = StepEvent.FAILED, None
        step = {**plan.moved(step, event), "error": str(ended)[:500]}
    steps[index] = {**step, "finished_at": now.isoformat()}
    await _save(
        session, run, steps, action=f"step_{event.value}", actor=actor, now=now, report=report
    )


EOD_RUN: RunType[EodRun, Carried] = RunType(
    entity="eod_run",
    title="end-of-day run",
    model=EodRun,
    id_prefix="eod",
    path="/api/v1/eod-runs",
    prepare=_prepare,
    chunk=_step_chunk,
    record=record_change,
    past=row_as_of,
)


async def check_day(session: AsyncSession, *, day: date, now: datetime) -> None:
    """A day that has come and is a business day of at least one market's settlement
    calendar (422 otherwise, naming why): on a day every market is closed nothing is due."""
    problem = None
    if day > now.date():
        problem = f"{day} has not come yet (today is {now.date()})"
    else:
        found = await calendars.settlement_calendars(session)
        if found and not any(calendar.is_business_day(day) for calendar in found.values()):
            problem = f"{day} ({day:%A}) is not a business day on any market's settlement calendar"
    if problem is not None:
        raise ValidationFailed(f"date: {problem}.", errors=[FieldProblem("date", problem)])


async def existing_run(session: AsyncSession, *, day: date) -> EodRun | None:
    """The end-of-day run of the day, if one was started (there is at most one)."""
    return await framework.latest(session, EOD_RUN, business_date=day)


async def start_run(session: AsyncSession, *, day: date, actor: Actor, now: datetime) -> EodRun:
    """The day's run, every step pending (``process_run`` does the work)."""
    await check_day(session, day=day, now=now)
    return await framework.start(
        session,
        EOD_RUN,
        total=len(STEPS),
        report={},
        actor=actor,
        now=now,
        business_date=day,
        steps=plan.initial([step.name for step in STEPS]),
    )


async def process_run(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    run_id: str,
    actor: Actor,
    clock: Clock,
    kind: RunType[EodRun, Carried] = EOD_RUN,
) -> None:
    """Run the steps left, in order; after a crash or a resume it goes on from the step that
    did not finish, with that step's child runs."""
    await framework.process(sessionmaker, kind, run_id=run_id, actor=actor, clock=clock)


async def resume_run(session: AsyncSession, *, run_id: str, actor: Actor, now: datetime) -> EodRun:
    return await framework.resume(session, EOD_RUN, run_id=run_id, actor=actor, now=now)


async def get_run(session: AsyncSession, *, run_id: str) -> EodRun:
    return await framework.get(session, EOD_RUN, run_id)
