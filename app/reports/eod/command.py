"""``settlement eod``: the end-of-day run from the command line, a progress bar per step and a
summary table at the end (rich; in a pipe or a log, without the live bars)."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.auth import Actor
from app.core.clock import Clock
from app.core.db import UnitOfWork
from app.core.runs import framework
from app.core.runs.states import RunStatus
from app.reports.eod import plan, service
from app.reports.eod.models import EodRun
from app.reports.eod.service import Carried


async def run_day(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    day: date,
    actor: Actor,
    clock: Clock,
    console: Console,
) -> EodRun:
    """Start the day's run, or go on with the day's run that failed or was interrupted (a
    running run whose worker died: its lease ran out, it is taken over; one whose worker lives
    is left to it); a completed one is only shown ("already complete"). The run as it ended."""
    async with sessionmaker() as session, UnitOfWork(session):
        run = await service.existing_run(session, day=day)
        if run is None:
            run = await service.start_run(session, day=day, actor=actor, now=clock())
        elif run.status == RunStatus.FAILED:
            run = await service.resume_run(session, run_id=run.id, actor=actor, now=clock())
    if run.status == RunStatus.COMPLETED:
        console.print(f"end of day {day}: already complete ({run.id}); nothing done")
        return run
    console.print(f"end of day {day}: run {run.id}")
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks = {
            step["name"]: progress.add_task(
                _label(step), total=1, completed=1 if _done(step) else 0
            )
            for step in run.steps
        }
        kind = replace(service.EOD_RUN, chunk=_watched(progress, tasks))
        try:
            await service.process_run(
                sessionmaker, run_id=run.id, actor=actor, clock=clock, kind=kind
            )
        except framework.RunBusy as busy:  # its worker lives: it is not ours to take up
            console.print(f"[yellow]still running elsewhere:[/yellow] {busy.detail}")
        except Exception as error:  # the run recorded the failure at its step
            console.print(f"[red]failed:[/red] {error}")
    async with sessionmaker() as session:
        return await service.get_run(session, run_id=run.id)


def _done(step: Mapping[str, Any]) -> bool:
    return plan.progress([step]) == 1


def _label(step: Mapping[str, Any]) -> str:
    return f"{step['name']} ({step['status']})"


def _watched(progress: Progress, tasks: dict[str, Any]) -> Any:
    """The end-of-day chunk, showing each step as it starts and ends."""

    async def chunk(
        session: AsyncSession, run: EodRun, carried: Carried, *, actor: Actor, now: datetime
    ) -> bool:
        index = plan.next_step(plan.aligned(carried.names, run.steps))
        if index is None:
            return await service.EOD_RUN.chunk(session, run, carried, actor=actor, now=now)
        name = plan.aligned(carried.names, run.steps)[index]["name"]
        task = tasks[name] if name in tasks else progress.add_task(name, total=1)
        progress.update(task, description=f"{name} (running)")
        try:
            return await service.EOD_RUN.chunk(session, run, carried, actor=actor, now=now)
        finally:
            step = plan.aligned(carried.names, run.steps)[index]
            progress.update(task, description=_label(step), completed=1 if _done(step) else 0)

    return chunk


def summary_table(run: EodRun) -> Table:
    """Each step: status, its counts, how long it took."""
    table = Table(title=f"End of day {run.business_date}: {run.status}")
    for column in ("step", "status", "counts", "duration"):
        table.add_column(column)
    for step in run.steps:
        table.add_row(step["name"], step["status"], _counts(step), _duration(step))
    return table


def _counts(step: Mapping[str, Any]) -> str:
    if step.get("error"):
        return str(step["error"])
    summary = step.get("summary") or {}
    counts = [f"{key} {value}" for key, value in summary.items() if isinstance(value, int)]
    return ", ".join(counts) or str(summary.get("note", ""))


def _duration(step: Mapping[str, Any]) -> str:
    if not step.get("started_at") or not step.get("finished_at"):
        return ""
    started = datetime.fromisoformat(step["started_at"])
    seconds = (datetime.fromisoformat(step["finished_at"]) - started).total_seconds()
    return f"{seconds:.1f}s"
