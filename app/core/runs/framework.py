"""Driving a batch run: start it, work through it a chunk per transaction, finish or fail it,
resume it after a failure, take it over once its worker died (its lease ran out). A run type
brings its table, a ``prepare`` that loads what its chunks carry from one to the next, and a
chunk function; the rest is here, once."""

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.auth import Actor
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest, fetch_page
from app.core.runs.models import RunColumns
from app.core.runs.states import RUN_TRANSITIONS, RunEvent, RunStatus
from app.core.snapshots import row_snapshot
from app.core.states import next_state

R = TypeVar("R", bound=RunColumns)
S = TypeVar("S")
M = TypeVar("M")
Q = TypeVar("Q", bound=Select[Any])
R_contra = TypeVar("R_contra", bound=RunColumns, contravariant=True)
S_contra = TypeVar("S_contra", contravariant=True)


class RunBusy(Conflict):
    """The run is running and its worker is alive (its lease holds): nobody else may work on
    it, or an item could be done twice."""

    slug = "run-running"
    title = "The run is running"


class LeaseLost(Conflict):
    """The worker's run was taken over (its lease had run out): it stops, touching nothing."""

    slug = "run-taken-over"
    title = "The run was taken over by another worker"


def lease() -> timedelta:
    """How long a worker's heartbeat holds (``SETTLEMENT_RUN_LEASE_SECONDS``)."""
    return timedelta(seconds=get_settings().run_lease_seconds)


def stalled_after(run: RunColumns) -> datetime | None:
    """When a running run counts as stalled: its worker's last heartbeat plus the lease (None
    when it is not running, or its worker has not reported yet)."""
    if run.status != RunStatus.RUNNING or run.heartbeat_at is None:
        return None
    return run.heartbeat_at + lease()


def stalled(run: RunColumns, now: datetime) -> bool:
    """Running, and its worker has not reported within the lease: it died (or hangs)."""
    if run.status != RunStatus.RUNNING:
        return False
    after = stalled_after(run)
    return after is None or now > after


def new_worker() -> str:
    """Who works through a run, as the run row shows it: host, process, and a unique tail."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{new_id('w')[-8:]}"


def _busy(kind: "RunType[Any, Any]", run: RunColumns, *, in_chunk: bool = False) -> RunBusy:
    if in_chunk or run.heartbeat_at is None:
        return RunBusy(
            f"The {kind.title} '{run.id}' is running since {run.created_at.isoformat()}: its "
            "worker is in a chunk right now.",
            current_status=run.status,
        )
    since = run.heartbeat_at.isoformat()
    until = (run.heartbeat_at + lease()).isoformat()
    return RunBusy(
        f"The {kind.title} '{run.id}' is running: its worker ({run.worker or 'starting'}) "
        f"last reported at {since}; only if it reports no more by {until} (the lease of "
        f"{lease().total_seconds():g} s) is the run stalled and can be resumed.",
        current_status=run.status,
        worker=run.worker,
        heartbeat_at=since,
        stalled_after=until,
    )


class Recorder(Protocol):
    """How a run's changes reach the audit trail (``app.audit.service.record_change``): core
    imports no domain, so each run type hands it in."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        entity_type: str,
        entity_id: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        now: datetime,
    ) -> None: ...


class PastReader(Protocol):
    """How a run is rebuilt as it stood at a past moment from its audit records
    (``app.audit.service.row_as_of``), handed in like the ``Recorder``."""

    async def __call__(
        self,
        session: AsyncSession,
        model: type[M],
        *,
        entity_type: str,
        entity_id: str,
        as_of: datetime,
        title: str | None = None,
    ) -> M: ...


class Chunk(Protocol[R_contra, S_contra]):
    """Do the next chunk of the run's work in ``session`` (committed by the framework) and
    record its progress on ``run``; False when nothing was left to do."""

    async def __call__(
        self,
        session: AsyncSession,
        run: R_contra,
        carried: S_contra,
        /,
        *,
        actor: Actor,
        now: datetime,
    ) -> bool: ...


@dataclass(frozen=True)
class RunType(Generic[R, S]):
    """One kind of batch run."""

    entity: str  # audit entity type and log name, e.g. "clearing_run"
    title: str  # in messages: "clearing run"
    model: type[R]
    id_prefix: str
    path: str  # where the API answers a run: f"{path}/{id}"
    prepare: Callable[[AsyncSession, R], Awaitable[S]]
    chunk: Chunk[R, S]
    record: Recorder
    past: PastReader

    def location(self, run_id: str) -> str:
        return f"{self.path}/{run_id}"


def claim(statement: Q, *, limit: int, lock: bool = True) -> Q:
    """The next ``limit`` rows of a run's work, locked so that several runs (or processes)
    share the work without waiting for each other: ``FOR UPDATE SKIP LOCKED``. Unlocked for a
    dry run."""
    statement = statement.limit(limit)
    return statement.with_for_update(skip_locked=True) if lock else statement


async def start(
    session: AsyncSession,
    kind: RunType[R, Any],
    *,
    total: int,
    report: dict[str, Any],
    actor: Actor,
    now: datetime,
    **values: Any,
) -> R:
    """A new run row, ``running``, audited as started; the work begins with ``process``."""
    model: Any = kind.model  # a mapped class: its constructor takes the column values
    run: R = model(
        id=new_id(kind.id_prefix),
        status=RunStatus.RUNNING.value,
        total=total,
        processed=0,
        report=report,
        created_at=now,
        created_by=actor.key_id,
        heartbeat_at=now,
        **values,
    )
    session.add(run)
    await kind.record(
        session,
        actor=actor,
        entity_type=kind.entity,
        entity_id=run.id,
        action="started",
        before=None,
        after=row_snapshot(run),
        now=now,
    )
    return run


async def locked(session: AsyncSession, kind: RunType[R, Any], run_id: str) -> R:
    run = await session.get(kind.model, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise NotFound(f"No {kind.title} '{run_id}'.")
    return run


async def _move(
    session: AsyncSession,
    kind: RunType[R, Any],
    run: R,
    event: RunEvent,
    *,
    actor: Actor,
    now: datetime,
    error: str | None = None,
) -> None:
    before = row_snapshot(run)
    run.status = next_state(RUN_TRANSITIONS, RunStatus(run.status), event).value
    run.error = error
    if event in (RunEvent.RESUMED, RunEvent.TAKEN_OVER):
        # Free for the next worker's claim; the lease starts again now.
        run.worker, run.heartbeat_at = None, now
    else:
        run.finished_at = now
    await kind.record(
        session,
        actor=actor,
        entity_type=kind.entity,
        entity_id=run.id,
        action=event.value,
        before=before,
        after=row_snapshot(run),
        now=now,
    )


async def _claim(
    session: AsyncSession,
    kind: RunType[R, Any],
    run: R,
    worker: str,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Make ``worker`` the run's worker: free (just started or resumed), or stalled (taken
    over, audited with the dead worker's last heartbeat); RunBusy while another one lives."""
    if run.status != RunStatus.RUNNING:
        return
    if run.worker not in (None, worker):
        if not stalled(run, now):
            raise _busy(kind, run)
        await _move(session, kind, run, RunEvent.TAKEN_OVER, actor=actor, now=now)
    run.worker, run.heartbeat_at = worker, now


def _renew(run: RunColumns, worker: str, now: datetime) -> None:
    if run.worker != worker:
        raise LeaseLost(f"The run '{run.id}' was taken over by {run.worker or 'another worker'}.")
    run.heartbeat_at = now


async def _heartbeat(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: RunType[Any, Any],
    run_id: str,
    worker: str,
    clock: Clock,
) -> None:
    """Renew the lease a third of it at a time while the worker lives, also through a chunk
    that takes long (an end-of-day step). A beat that fails is tried again at the next."""
    model: Any = kind.model
    while True:
        await asyncio.sleep(lease().total_seconds() / 3)
        with contextlib.suppress(Exception):
            async with sessionmaker() as session:
                await session.execute(
                    update(model)
                    .where(model.id == run_id, model.worker == worker)
                    .where(model.status == RunStatus.RUNNING.value)
                    .values(heartbeat_at=clock())
                )
                await session.commit()


async def process(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: RunType[R, S],
    *,
    run_id: str,
    actor: Actor,
    clock: Clock,
) -> None:
    """Claim the run (RunBusy while another worker's lease holds) and work through it a chunk
    per transaction, holding the run row's lock for each and renewing the lease, then complete
    it. Any error marks the run failed (and is raised again); called again after a crash or a
    resume, it goes on from what was committed and does nothing twice."""
    worker = new_worker()
    async with sessionmaker() as session:
        run = await locked(session, kind, run_id)
        await _claim(session, kind, run, worker, actor=actor, now=clock())
        await session.commit()
    beating = asyncio.create_task(_heartbeat(sessionmaker, kind, run_id, worker, clock))
    try:
        await _work(sessionmaker, kind, run_id=run_id, worker=worker, actor=actor, clock=clock)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def _work(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: RunType[R, S],
    *,
    run_id: str,
    worker: str,
    actor: Actor,
    clock: Clock,
) -> None:
    try:
        async with sessionmaker() as session:
            carried = await kind.prepare(session, await locked(session, kind, run_id))
        more = True
        while more:
            async with sessionmaker() as session:
                run = await locked(session, kind, run_id)
                _renew(run, worker, clock())
                more = await kind.chunk(session, run, carried, actor=actor, now=clock())
                if not more:
                    await _move(session, kind, run, RunEvent.COMPLETED, actor=actor, now=clock())
                await session.commit()
    except LeaseLost:
        raise  # the run is another worker's now
    except Exception as error:
        async with sessionmaker() as session:
            run = await locked(session, kind, run_id)
            if run.status == RunStatus.RUNNING and run.worker == worker:
                failure = str(error)[:500]
                await _move(
                    session, kind, run, RunEvent.FAILED, actor=actor, now=clock(), error=failure
                )
                await session.commit()
        raise


async def resume(
    session: AsyncSession, kind: RunType[R, Any], *, run_id: str, actor: Actor, now: datetime
) -> R:
    """A failed run back to ``running``, or a stalled one (its worker died: no heartbeat
    within the lease) taken over; RunBusy (409) while its worker lives, InvalidTransition (409)
    once it ended. ``process`` then goes on with it."""
    model: Any = kind.model
    # A worker in a chunk holds the row (PostgreSQL): it is alive, whatever its heartbeat says.
    run: R | None = await session.get(
        model, run_id, with_for_update={"skip_locked": True}, populate_existing=True
    )
    if run is None:
        current: R = await get(session, kind, run_id)
        if current.status == RunStatus.RUNNING:
            raise _busy(kind, current, in_chunk=True)
        run = await locked(session, kind, run_id)
    event = RunEvent.RESUMED
    if run.status == RunStatus.RUNNING:
        if not stalled(run, now):
            raise _busy(kind, run)
        event = RunEvent.TAKEN_OVER
    await _move(session, kind, run, event, actor=actor, now=now)
    return run


async def get(
    session: AsyncSession, kind: RunType[R, Any], run_id: str, *, as_of: datetime | None = None
) -> R:
    """The run now, or with ``as_of`` as it stood then, from its audit records: a run records
    its start, resumption and end, not each chunk, so a run that was running then is answered
    as it stood when it started (or was last resumed)."""
    if as_of is not None:
        return await kind.past(
            session,
            kind.model,
            entity_type=kind.entity,
            entity_id=run_id,
            as_of=as_of,
            title=kind.title,
        )
    run = await session.get(kind.model, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"No {kind.title} '{run_id}'.")
    return run


async def list_runs(
    session: AsyncSession, kind: RunType[R, Any], *, page: PageRequest, **filters: Any
) -> tuple[Sequence[R], str | None]:
    """A page of runs, filtered on the run table's columns where a filter is given."""
    model: Any = kind.model
    statement = select(model)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(model, name) == value)
    return await fetch_page(session, statement, model.id, page)


async def latest(session: AsyncSession, kind: RunType[R, Any], **filters: Any) -> R | None:
    """The last run started with these column values, if any."""
    model: Any = kind.model
    statement = select(model).order_by(model.created_at.desc(), model.id.desc()).limit(1)
    for name, value in filters.items():
        statement = statement.where(getattr(model, name) == value)
    run: R | None = (await session.scalars(statement)).one_or_none()
    return run
