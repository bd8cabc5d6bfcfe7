"""How the API answers a run: started once per ``Idempotency-Key``, then worked through before
the answer (``?wait=true``: 200 with the finished run) or after it (202 + ``Location``); and
the routes every run type has (resume, list, one run), added by ``add_run_routes``."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.clock import Clock
from app.core.db import UnitOfWork
from app.core.deps import Now, Paging, Uow, Wait, as_of_query
from app.core.errors import problem_responses
from app.core.idempotency import REPLAYED_HEADER, IdempotencyKey, idempotent_create
from app.core.moments import UtcDateTime
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.runs import framework
from app.core.runs.framework import R, RunType

log = structlog.get_logger()

Filters = Callable[..., Awaitable[dict[str, Any]]]

RUN_AS_OF = (
    "A run's audit records are its start, each resumption and its end, not each chunk: as of "
    "a moment while it was running, it is answered as it stood when it started or was last "
    "resumed (`processed`, the counts and the report as they were at that point)."
)


def answer_now(out: BaseModel) -> JSONResponse:
    """A run that needs no work (a dry run, nothing to do): 200 with what it would report."""
    return JSONResponse(out.model_dump(mode="json"), status_code=200)


async def by_settlement_date(settlement_date: date | None = None) -> dict[str, Any]:
    """The list filter of runs made for a settlement date."""
    return {"settlement_date": settlement_date}


@dataclass(frozen=True)
class RunRoutes:
    """A run type as the API shows it: its API model (with an ``of(run)`` classmethod), who
    reads and who runs it (``Annotated`` role dependencies), and the filters of its list."""

    kind: RunType[Any, Any]
    out: Any
    read: Any
    write: Any
    filters: Filters = by_settlement_date

    def shape(self, run: Any) -> BaseModel:
        out: BaseModel = self.out.of(run)
        return out


async def run_through(
    request: Request,
    uow: UnitOfWork,
    kind: RunType[R, Any],
    *,
    start: Callable[[AsyncSession], Awaitable[R]],
    actor: Actor,
    clock: Clock,
) -> R:
    """Start a run in the request's unit of work (committed, so its chunks can take the rows
    the request read) and work through it before answering: the finished run. A failure is
    raised once the run has recorded it."""
    async with uow:
        run = await start(uow.session)
    sessionmaker = request.app.state.sessionmaker
    await framework.process(sessionmaker, kind, run_id=run.id, actor=actor, clock=clock)
    async with sessionmaker() as session:
        return await framework.get(session, kind, run.id)


@dataclass(frozen=True)
class RunCall:
    """What a run route needs of its request besides the body and the actor."""

    request: Request
    background: BackgroundTasks
    uow: UnitOfWork
    clock: Clock
    wait: bool
    key: str | None

    async def start(
        self,
        runs: RunRoutes,
        body: BaseModel,
        actor: Actor,
        start: Callable[..., Awaitable[Any]],
        **params: Any,
    ) -> JSONResponse:
        """Start a run with ``start(session, actor=, now=, **params)``, once per
        ``Idempotency-Key`` (a replay answers the first answer and starts nothing), and work
        through it."""
        started: list[str] = []
        kind, shape = runs.kind, runs.shape

        async def work(session: AsyncSession) -> BaseModel:
            run = await start(session, actor=actor, now=self.clock(), **params)
            started.append(run.id)
            return shape(run)

        accepted = await idempotent_create(
            self.request,
            self.uow,
            principal=actor.key_id,
            key=self.key,
            body=body,
            now=self.clock(),
            work=work,
            location=lambda out: kind.location(out["id"]),
            status_code=202,
        )
        if accepted.headers.get(REPLAYED_HEADER) or not started:
            return accepted
        return await self._work_through(kind, started[0], shape, actor, accepted)

    async def resume(self, runs: RunRoutes, run_id: str, actor: Actor) -> JSONResponse:
        """Resume a failed run (409 otherwise) and work through the rest of it."""
        kind, shape = runs.kind, runs.shape
        async with self.uow:
            run = await framework.resume(
                self.uow.session, kind, run_id=run_id, actor=actor, now=self.clock()
            )
            out = shape(run)
        accepted = JSONResponse(
            out.model_dump(mode="json"),
            status_code=202,
            headers={"Location": kind.location(run_id)},
        )
        return await self._work_through(kind, run_id, shape, actor, accepted)

    async def _work_through(
        self,
        kind: RunType[Any, Any],
        run_id: str,
        shape: Callable[[Any], BaseModel],
        actor: Actor,
        accepted: JSONResponse,
    ) -> JSONResponse:
        sessionmaker = self.request.app.state.sessionmaker
        clock = self.clock

        async def work() -> None:
            try:
                await framework.process(sessionmaker, kind, run_id=run_id, actor=actor, clock=clock)
            except Exception:
                # The run recorded its failure and can be resumed; the client follows the run.
                log.exception(f"{kind.entity}_failed", run_id=run_id)

        if not self.wait:
            self.background.add_task(work)
            return accepted
        await work()
        async with sessionmaker() as session:
            run = await framework.get(session, kind, run_id)
        return JSONResponse(
            shape(run).model_dump(mode="json"), headers={"Location": kind.location(run_id)}
        )


async def _run_call(
    request: Request, background: BackgroundTasks, uow: Uow, clock: Now, wait: Wait = False
) -> RunCall:
    return RunCall(request, background, uow, clock, wait, key=None)


async def _starting_call(
    call: Annotated[RunCall, Depends(_run_call)], key: IdempotencyKey = None
) -> RunCall:
    return replace(call, key=key)


# A route that starts a run takes an ``Idempotency-Key``; one that resumes a run does not.
Call = Annotated[RunCall, Depends(_starting_call)]
ResumeCall = Annotated[RunCall, Depends(_run_call)]


def add_run_routes(router: APIRouter, runs: RunRoutes, *, summaries: tuple[str, str, str]) -> None:
    """``POST {path}/{run_id}/resume``, ``GET {path}`` and ``GET {path}/{run_id}``, named
    ``resume_<entity>``, ``list_<entity>s`` and ``get_<entity>``, with these summaries."""
    kind, shape, out = runs.kind, runs.shape, runs.out
    path = kind.path.removeprefix("/api/v1")

    async def resume_run(run_id: str, actor: runs.write, call: ResumeCall) -> JSONResponse:  # type: ignore[name-defined]
        return await call.resume(runs, run_id, actor)

    async def list_runs(
        uow: Uow,
        _actor: runs.read,  # type: ignore[name-defined]
        # Before the paging: the filters' query parameters are listed first.
        filters: Annotated[dict[str, Any], Depends(runs.filters)],
        page: Paging,
    ) -> Page[Any]:
        rows, cursor = await framework.list_runs(uow.session, kind, page=page, **filters)
        return Page(items=[shape(row) for row in rows], next_cursor=cursor)

    async def get_run(
        run_id: str,
        uow: Uow,
        _actor: runs.read,  # type: ignore[name-defined]
        as_of: Annotated[UtcDateTime | None, as_of_query(RUN_AS_OF)] = None,
    ) -> BaseModel:
        return shape(await framework.get(uow.session, kind, run_id, as_of=as_of))

    resume, listing, one = summaries
    item = f"{path}/{{run_id}}"
    router.add_api_route(
        f"{item}/resume",
        resume_run,
        methods=["POST"],
        name=f"resume_{kind.entity}",
        status_code=202,
        response_model=out,
        responses={200: {"model": out}, **problem_responses(404, 409)},
        summary=resume,
    )
    router.add_api_route(
        path,
        list_runs,
        methods=["GET"],
        name=f"list_{kind.entity}s",
        response_model=Page[out],  # type: ignore[valid-type]
        responses=problem_responses(),
        summary=listing,
        dependencies=[ISO_QUERY_DATES],
    )
    router.add_api_route(
        item,
        get_run,
        methods=["GET"],
        name=f"get_{kind.entity}",
        response_model=out,
        responses=problem_responses(404),
        summary=one,
        dependencies=[ISO_QUERY_DATES],
    )
