"""Reconciliation run routes: dry or real, waited for or in the background, resumed, read."""

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.core.errors import problem_responses
from app.core.runs import routes
from app.core.runs.routes import Call, RunRoutes, add_run_routes
from app.reconciliation.runs import service
from app.reconciliation.runs.auth import RunsRead, RunsWrite
from app.reconciliation.runs.schemas import ReconciliationRunIn, ReconciliationRunOut


async def by_account_and_date(
    account: str | None = None, date: date | None = None
) -> dict[str, Any]:
    """The list filter: runs of an account, of a value date."""
    return {"account": account, "value_date": date}


RUNS = RunRoutes(
    service.RECONCILIATION_RUN,
    ReconciliationRunOut,
    read=RunsRead,
    write=RunsWrite,
    filters=by_account_and_date,
)

router = APIRouter(tags=["Reconciliation"])


@router.post(
    "/reconciliation-runs",
    status_code=202,
    response_model=ReconciliationRunOut,
    responses={
        200: {"model": ReconciliationRunOut, "description": "Dry run, or waited for."},
        **problem_responses(404),
    },
    summary="Reconcile one account for one value date: match, find and close breaks",
)
async def create_reconciliation_run(
    body: ReconciliationRunIn, actor: RunsWrite, call: Call
) -> JSONResponse:
    """A cash account: the day's booked statement lines and the book's cash movements (plus the
    items of the account's open breaks from earlier days, less every item already matched) are
    matched by the enabled rules in priority order; each match is stored, each item left is a
    break (the same difference found again is the same break), and open breaks the run
    explains close with a reference to the match. Then the statements' integrity breaks and
    the closing booked balance against the book's settled cash. A safekeeping account: the
    custodian's holdings against settlement-date positions. Running it again matches nothing
    twice and opens no second break. Answers 202 with the run (`Location` to follow it), or
    200 when `wait=true` and for a dry run (the report, nothing written)."""
    if body.dry_run:
        report = await service.dry_run(
            call.uow.session, account=body.account, day=body.date, actor=actor, now=call.clock()
        )
        return routes.answer_now(ReconciliationRunOut.dry(body.account, body.date, report))
    return await call.start(
        RUNS, body, actor, service.start_run, account=body.account, day=body.date
    )


add_run_routes(
    router,
    RUNS,
    summaries=(
        "Resume a failed reconciliation run: it does the day again, nothing twice",
        "Reconciliation runs",
        "A reconciliation run: matches per rule, breaks opened, kept, reopened and closed",
    ),
)
