"""Clearing run routes: dry or real, waited for or in the background, resumed, read."""

from datetime import date

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from app.clearing.auth import ClearingRead, ClearingWrite
from app.clearing.runs import service
from app.clearing.runs.schemas import ClearingRunIn, ClearingRunOut
from app.core.deps import Now, Paging, Uow, Wait
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey
from app.core.pagination import Page
from app.core.runs import routes

router = APIRouter(tags=["Clearing"])


@router.post(
    "/clearing-runs",
    status_code=202,
    response_model=ClearingRunOut,
    responses={
        200: {"model": ClearingRunOut, "description": "Dry run, nothing to do, or waited for."},
        **problem_responses(),
    },
    summary="Clear every confirmed trade due on a date: novate, net, instruct",
)
async def create_clearing_run(
    body: ClearingRunIn,
    request: Request,
    background: BackgroundTasks,
    uow: Uow,
    actor: ClearingWrite,
    clock: Now,
    wait: Wait = False,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Trades on a venue with a CCP are novated to it; trades are netted per counterparty of
    record, safekeeping and cash account, ISIN, currency and date (gross where neither a CCP
    nor a bilateral netting agreement applies); each obligation that moves something gets a
    settlement instruction. Answers 202 with the run (`Location` to follow it), or 200 when
    `wait=true`, for a dry run (the report, nothing written), and when there is nothing to
    clear (a re-run of a finished date)."""
    day = body.settlement_date
    if body.dry_run:
        report = await service.dry_run(uow.session, settlement_date=day)
        return routes.answer_now(ClearingRunOut.dry(day, report))
    idle = await service.nothing_to_clear(uow.session, settlement_date=day)
    if idle is not None:
        last = idle.last_run
        if last is None:
            return routes.answer_now(ClearingRunOut.idle(day, idle.note))
        return routes.answer_now(ClearingRunOut.of(last, note=idle.note))
    return await routes.start_run(
        request,
        background,
        uow,
        kind=service.CLEARING_RUN,
        start=lambda session: service.start_run(
            session, settlement_date=day, actor=actor, now=clock()
        ),
        shape=ClearingRunOut.of,
        body=body,
        key=key,
        actor=actor,
        clock=clock,
        wait=wait,
    )


@router.post(
    "/clearing-runs/{run_id}/resume",
    status_code=202,
    response_model=ClearingRunOut,
    responses={200: {"model": ClearingRunOut}, **problem_responses(404, 409)},
    summary="Resume a failed run: what it cleared stays cleared, the rest is picked up",
)
async def resume_clearing_run(
    run_id: str,
    request: Request,
    background: BackgroundTasks,
    uow: Uow,
    actor: ClearingWrite,
    clock: Now,
    wait: Wait = False,
) -> JSONResponse:
    return await routes.resume_run(
        request,
        background,
        uow,
        kind=service.CLEARING_RUN,
        shape=ClearingRunOut.of,
        run_id=run_id,
        actor=actor,
        clock=clock,
        wait=wait,
    )


@router.get(
    "/clearing-runs",
    response_model=Page[ClearingRunOut],
    responses=problem_responses(),
    summary="Clearing runs",
)
async def list_clearing_runs(
    uow: Uow, _actor: ClearingRead, page: Paging, settlement_date: date | None = None
) -> Page[ClearingRunOut]:
    rows, cursor = await service.list_runs(uow.session, page=page, settlement_date=settlement_date)
    return Page(items=[ClearingRunOut.of(row) for row in rows], next_cursor=cursor)


@router.get(
    "/clearing-runs/{run_id}",
    response_model=ClearingRunOut,
    responses=problem_responses(404),
    summary="A clearing run: progress, then gross vs net and the netting efficiency",
)
async def get_clearing_run(run_id: str, uow: Uow, _actor: ClearingRead) -> ClearingRunOut:
    return ClearingRunOut.of(await service.get_run(uow.session, run_id=run_id))
