"""How the API answers a run: started with an ``Idempotency-Key``, then worked through before
the answer (``?wait=true``: 200 with the finished run) or after it (202 + ``Location``)."""

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.clock import Clock
from app.core.db import UnitOfWork
from app.core.idempotency import REPLAYED_HEADER, idempotent_create
from app.core.runs import framework
from app.core.runs.framework import R, RunType

log = structlog.get_logger()

Shape = Callable[[R], BaseModel]


def answer_now(out: BaseModel) -> JSONResponse:
    """A run that needs no work (a dry run, nothing to do): 200 with what it would report."""
    return JSONResponse(out.model_dump(mode="json"), status_code=200)


async def start_run(
    request: Request,
    background: BackgroundTasks,
    uow: UnitOfWork,
    *,
    kind: RunType[R, Any],
    start: Callable[[AsyncSession], Awaitable[R]],
    shape: Shape[R],
    body: BaseModel,
    key: str | None,
    actor: Actor,
    clock: Clock,
    wait: bool,
) -> JSONResponse:
    """Start a run through ``start`` (once per ``Idempotency-Key``: a replay answers the first
    answer and starts nothing) and work through it."""
    started: list[str] = []

    async def work(session: AsyncSession) -> BaseModel:
        run = await start(session)
        started.append(run.id)
        return shape(run)

    accepted = await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: kind.location(out["id"]),
        status_code=202,
    )
    if accepted.headers.get(REPLAYED_HEADER) or not started:
        return accepted
    return await _work_through(
        request, background, kind, started[0], shape, wait, actor, clock, accepted
    )


async def resume_run(
    request: Request,
    background: BackgroundTasks,
    uow: UnitOfWork,
    *,
    kind: RunType[R, Any],
    shape: Shape[R],
    run_id: str,
    actor: Actor,
    clock: Clock,
    wait: bool,
) -> JSONResponse:
    """Resume a failed run (409 otherwise) and work through the rest of it."""
    async with uow:
        run = await framework.resume(uow.session, kind, run_id=run_id, actor=actor, now=clock())
        out = shape(run)
    accepted = JSONResponse(
        out.model_dump(mode="json"), status_code=202, headers={"Location": kind.location(run_id)}
    )
    return await _work_through(
        request, background, kind, run_id, shape, wait, actor, clock, accepted
    )


async def _work_through(
    request: Request,
    background: BackgroundTasks,
    kind: RunType[R, Any],
    run_id: str,
    shape: Shape[R],
    wait: bool,
    actor: Actor,
    clock: Clock,
    accepted: JSONResponse,
) -> JSONResponse:
    sessionmaker = request.app.state.sessionmaker

    async def work() -> None:
        try:
            await framework.process(sessionmaker, kind, run_id=run_id, actor=actor, clock=clock)
        except Exception:
            # The run recorded its failure and can be resumed; the client follows the run.
            log.exception(f"{kind.entity}_failed", run_id=run_id)

    if not wait:
        background.add_task(work)
        return accepted
    await work()
    async with sessionmaker() as session:
        run = await framework.get(session, kind, run_id)
    return JSONResponse(
        shape(run).model_dump(mode="json"), headers={"Location": kind.location(run_id)}
    )
