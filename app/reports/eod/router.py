"""End-of-day run routes: start the day's run (once per date), resume it, read it."""

from datetime import date as Date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.core.errors import problem_responses
from app.core.runs import routes
from app.core.runs.routes import Call, RunRoutes, add_run_routes
from app.reports.eod import service
from app.reports.eod.auth import EodRead, EodWrite
from app.reports.eod.schemas import EodRunIn, EodRunOut


async def by_date(date: Date | None = None) -> dict[str, Any]:
    """The list filter: the run of a business date."""
    return {"business_date": date}


RUNS = RunRoutes(service.EOD_RUN, EodRunOut, read=EodRead, write=EodWrite, filters=by_date)

router = APIRouter(tags=["End of day"])


def already(run: Any) -> str:
    """What a second request for the day is told."""
    if run.status == "completed":
        return f"The end of day for {run.business_date} is already complete ({run.id})."
    if run.status == "failed":
        return (
            f"The end of day for {run.business_date} failed at a step ({run.id}): resume it "
            f"with POST /api/v1/eod-runs/{run.id}/resume."
        )
    return f"The end of day for {run.business_date} is running ({run.id})."


@router.post(
    "/eod-runs",
    status_code=202,
    response_model=EodRunOut,
    responses={
        200: {"model": EodRunOut, "description": "Waited for, or the day's run already exists."},
        **problem_responses(),
    },
    summary="Close a business day: every batch run of the day, in order, resumably",
)
async def create_eod_run(body: EodRunIn, actor: EodWrite, call: Call) -> JSONResponse:
    """Runs, in order: affirmation deadlines, clearing (novation, netting, instructions and
    their outbound messages), a check of the day's instructions and outbound queue, the
    settlement run (internal markets; fail ageing of the instructions at the depository),
    reconciliation of every account whose statement for the date arrived, and the day's report
    summary (fails, buy-in candidates, unaffirmed trades). Each step records its status, its
    child runs and a summary. One run per date: asking again answers 200 with the existing run
    and a `note` ("already complete"), starting nothing; a failed run is resumed with
    `POST /eod-runs/{id}/resume` and goes on from the step that failed. A date still to come,
    or one that is a business day on no market's settlement calendar (a weekend, a holiday
    everywhere), is refused with 422. Answers 202 (`Location` to follow it), or 200 with
    `wait=true`."""
    existing = await service.existing_run(call.uow.session, day=body.date)
    if existing is not None:
        return routes.answer_now(EodRunOut.of(existing, note=already(existing)))
    return await call.start(RUNS, body, actor, service.start_run, day=body.date)


add_run_routes(
    router,
    RUNS,
    summaries=(
        "Resume a failed end-of-day run from the step that failed",
        "End-of-day runs",
        "An end-of-day run: each step's status, child runs and summary",
    ),
)
