"""The affirmation deadline route: a run, worked through before the answer."""

from fastapi import APIRouter, Request

from app.core.deps import Now, Uow
from app.core.errors import problem_responses
from app.core.runs.routes import run_through
from app.trades.deadline_runs import service
from app.trades.deadline_runs.auth import DeadlinesWrite
from app.trades.deadline_runs.schemas import DeadlineRunOut

router = APIRouter(tags=["Confirmation"])


@router.post(
    "/affirmation-deadline-runs",
    response_model=DeadlineRunOut,
    responses=problem_responses(),
    summary="Flag trades that passed their affirmation cutoff unconfirmed (once each)",
)
async def affirmation_deadline_run(
    request: Request, uow: Uow, actor: DeadlinesWrite, clock: Now
) -> DeadlineRunOut:
    """Each trade is flagged once, with a `trade.affirmation_overdue` event; run it on a
    schedule (`settlement affirmation-deadlines`) or from here."""
    run = await run_through(
        request,
        uow,
        service.DEADLINE_RUN,
        start=lambda session: service.start_run(session, actor=actor, now=clock()),
        actor=actor,
        clock=clock,
    )
    return DeadlineRunOut.of(run)
