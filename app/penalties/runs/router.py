"""Penalty run routes: dry or real, waited for or in the background, resumed, read."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.core.errors import problem_responses
from app.core.runs import routes
from app.core.runs.routes import Call, RunRoutes, add_run_routes
from app.penalties.runs import service
from app.penalties.runs.auth import PenaltiesRead, PenaltiesWrite
from app.penalties.runs.schemas import PenaltyRunIn, PenaltyRunOut

RUNS = RunRoutes(service.PENALTY_RUN, PenaltyRunOut, read=PenaltiesRead, write=PenaltiesWrite)

router = APIRouter(tags=["Penalties"])


@router.post(
    "/penalty-runs",
    status_code=202,
    response_model=PenaltyRunOut,
    responses={
        200: {"model": PenaltyRunOut, "description": "Dry run, or waited for."},
        **problem_responses(),
    },
    summary="Compute the CSDR cash penalties of a business day and book them",
)
async def create_penalty_run(body: PenaltyRunIn, actor: PenaltiesWrite, call: Call) -> JSONResponse:
    """For every instruction failing at the end of `date` (a business day of its settlement
    calendar: matched, due, not settled in full by then, not cancelled) a settlement-fail
    penalty on the failed quantity at that day's reference price; for every instruction matched
    on `date` after its intended settlement date, a late-matching-fail penalty per business
    day it was late. Rates in force that day from `/penalty-rates`. Each penalty posts one
    journal entry. A missing price is an exception in the report (ISIN and day), never a zero
    penalty: load it and run the day again, which books only what is missing. Active penalties
    of the last 31 days that the facts no longer support (settled on or before the day, by a
    late confirmation) are reversed. Answers 202 with the run, or 200 with `wait=true` or a
    dry run."""
    if body.dry_run:
        report = await service.dry_run(call.uow.session, day=body.day)
        return routes.answer_now(PenaltyRunOut.dry(body.day, report))
    return await call.start(RUNS, body, actor, service.start_run, day=body.day)


add_run_routes(
    router,
    RUNS,
    summaries=(
        "Resume a failed penalty run",
        "Penalty runs",
        "A penalty run: what it booked, reversed, and its exceptions",
    ),
)
