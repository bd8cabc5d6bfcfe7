"""Settlement run routes: dry or real, waited for or in the background, resumed, read."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.core.errors import problem_responses
from app.core.runs import routes
from app.core.runs.routes import Call, RunRoutes, add_run_routes
from app.settlement.auth import SettlementRead, SettlementWrite
from app.settlement.runs import service
from app.settlement.runs.schemas import SettlementRunIn, SettlementRunOut

RUNS = RunRoutes(
    service.SETTLEMENT_RUN, SettlementRunOut, read=SettlementRead, write=SettlementWrite
)

router = APIRouter(tags=["Settlement runs"])


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
    body: SettlementRunIn, actor: SettlementWrite, call: Call
) -> JSONResponse:
    """Every matched instruction not on hold and due on or before `settlement_date` settles all
    or nothing against our securities and cash accounts, counting what the instructions before
    it delivered. Partial settlement follows T2S: only for lack of securities (never for lack
    of cash), for a `partial_indicator` other than `NPAR`, inside a partial settlement window
    of the market (the run's moment in its time zone), in whole settlement units with the cash
    pro rata, and not below the `PARQ` quantity or `PARC` cash threshold. What cannot settle
    fails with `LACK` or `MONY` and recycles to the next run; instructions whose market is
    closed that day wait for its next business day. Answers 202 with the run (`Location` to
    follow it), or 200 with `wait=true` or for a dry run."""
    day = body.settlement_date
    if body.dry_run:
        report = await service.dry_run(call.uow.session, settlement_date=day, now=call.clock())
        return routes.answer_now(SettlementRunOut.dry(day, report))
    return await call.start(RUNS, body, actor, service.start_run, settlement_date=day)


add_run_routes(
    router,
    RUNS,
    summaries=(
        "Resume a failed run: what it settled stays settled, the rest is tried",
        "Settlement runs",
        "A settlement run: progress, then what settled, failed and was held",
    ),
)
