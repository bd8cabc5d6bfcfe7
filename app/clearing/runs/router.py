"""Clearing run routes: dry or real, waited for or in the background, resumed, read."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.clearing.auth import ClearingRead, ClearingWrite
from app.clearing.runs import service
from app.clearing.runs.schemas import ClearingRunIn, ClearingRunOut
from app.core.errors import problem_responses
from app.core.runs import routes
from app.core.runs.routes import Call, RunRoutes, add_run_routes

RUNS = RunRoutes(service.CLEARING_RUN, ClearingRunOut, read=ClearingRead, write=ClearingWrite)

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
    body: ClearingRunIn, actor: ClearingWrite, call: Call
) -> JSONResponse:
    """Trades on a venue with a CCP are novated to it; trades are netted per counterparty of
    record, safekeeping and cash account, ISIN, currency and date (gross where neither a CCP
    nor a bilateral netting agreement applies); each obligation that moves something gets a
    settlement instruction. Answers 202 with the run (`Location` to follow it), or 200 when
    `wait=true`, for a dry run (the report, nothing written), and when there is nothing to
    clear (a re-run of a finished date)."""
    day = body.settlement_date
    if body.dry_run:
        report = await service.dry_run(call.uow.session, settlement_date=day)
        return routes.answer_now(ClearingRunOut.dry(day, report))
    idle = await service.nothing_to_clear(call.uow.session, settlement_date=day)
    if idle is not None:
        last = idle.last_run
        if last is None:
            return routes.answer_now(ClearingRunOut.idle(day, idle.note))
        return routes.answer_now(ClearingRunOut.of(last, note=idle.note))
    return await call.start(RUNS, body, actor, service.start_run, settlement_date=day)


add_run_routes(
    router,
    RUNS,
    summaries=(
        "Resume a failed run: what it cleared stays cleared, the rest is picked up",
        "Clearing runs",
        "A clearing run: progress, then gross vs net and the netting efficiency",
    ),
)
