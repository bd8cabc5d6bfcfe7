"""Settlement run routes: dry or real, waited for or in the background, resumed, read."""

from datetime import date

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from app.core.deps import Now, Paging, Uow, Wait
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey
from app.core.pagination import Page
from app.core.runs import routes
from app.settlement.auth import SettlementRead, SettlementWrite
from app.settlement.runs import service
from app.settlement.runs.schemas import SettlementRunIn, SettlementRunOut

router = APIRouter(tags=["Settlement"])


@router.post(
    "/settlement-runs",
    status_code=202,
    response_model=SettlementRunOut,
    responses={
        200: {"model": SettlementRunOut, "description": "Dry run, or waited for."},
        **problem_responses(),
    },
    summary="Settle what is due by a date, in priority order then age",
)
async def create_settlement_run(
    body: SettlementRunIn,
    request: Request,
    background: BackgroundTasks,
    uow: Uow,
    actor: SettlementWrite,
    clock: Now,
    wait: Wait = False,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Every matched instruction not on hold and due on or before `settlement_date` settles all
    or nothing against our securities and cash accounts, counting what the instructions before
    it delivered; where `partial_allowed`, a shortfall settles the whole settlement units there
    are, cash pro rata. What cannot settle fails with `LACK` or `MONY` and recycles to the next
    run; instructions whose market is closed that day wait for its next business day. Answers
    202 with the run (`Location` to follow it), or 200 with `wait=true` or for a dry run."""
    day = body.settlement_date
    if body.dry_run:
        report = await service.dry_run(uow.session, settlement_date=day, now=clock())
        return routes.answer_now(SettlementRunOut.dry(day, report))
    return await routes.start_run(
        request,
        background,
        uow,
        kind=service.SETTLEMENT_RUN,
        start=lambda session: service.start_run(
            session, settlement_date=day, actor=actor, now=clock()
        ),
        shape=SettlementRunOut.of,
        body=body,
        key=key,
        actor=actor,
        clock=clock,
        wait=wait,
    )


@router.post(
    "/settlement-runs/{run_id}/resume",
    status_code=202,
    response_model=SettlementRunOut,
    responses={200: {"model": SettlementRunOut}, **problem_responses(404, 409)},
    summary="Resume a failed run: what it settled stays settled, the rest is tried",
)
async def resume_settlement_run(
    run_id: str,
    request: Request,
    background: BackgroundTasks,
    uow: Uow,
    actor: SettlementWrite,
    clock: Now,
    wait: Wait = False,
) -> JSONResponse:
    return await routes.resume_run(
        request,
        background,
        uow,
        kind=service.SETTLEMENT_RUN,
        shape=SettlementRunOut.of,
        run_id=run_id,
        actor=actor,
        clock=clock,
        wait=wait,
    )


@router.get(
    "/settlement-runs",
    response_model=Page[SettlementRunOut],
    responses=problem_responses(),
    summary="Settlement runs",
)
async def list_settlement_runs(
    uow: Uow, _actor: SettlementRead, page: Paging, settlement_date: date | None = None
) -> Page[SettlementRunOut]:
    rows, cursor = await service.list_runs(uow.session, page=page, settlement_date=settlement_date)
    return Page(items=[SettlementRunOut.of(row) for row in rows], next_cursor=cursor)


@router.get(
    "/settlement-runs/{run_id}",
    response_model=SettlementRunOut,
    responses=problem_responses(404),
    summary="A settlement run: progress, then what settled, failed and was held",
)
async def get_settlement_run(run_id: str, uow: Uow, _actor: SettlementRead) -> SettlementRunOut:
    return SettlementRunOut.of(await service.get_run(uow.session, run_id=run_id))
