"""Settlement run routes: dry or real, waited for or in the background, resumed."""

from datetime import date

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import Now, Paging, Uow, Wait
from app.core.errors import FieldProblem, ValidationFailed, problem_responses
from app.core.idempotency import REPLAYED_HEADER, IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.runs import run_now_or_later
from app.settlement import runs
from app.settlement.auth import SettlementRead, SettlementWrite
from app.settlement.models import SettlementRun
from app.settlement.run_schemas import SettlementReportOut, SettlementRunIn, SettlementRunOut

router = APIRouter(tags=["Settlement"])


def _run_out(run: SettlementRun) -> SettlementRunOut:
    return SettlementRunOut(
        id=run.id,
        settlement_date=run.settlement_date,
        status=run.status,
        dry_run=False,
        total=run.total,
        processed=run.processed,
        settled=run.settled,
        partially_settled=run.partially_settled,
        failed=run.failed,
        report=SettlementReportOut.model_validate(run.report),
        error=run.error,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


async def _answer(
    request: Request,
    background: BackgroundTasks,
    run_id: str,
    *,
    wait: bool,
    actor: SettlementWrite,
    clock: Clock,
    accepted: JSONResponse,
) -> JSONResponse:
    sessionmaker = request.app.state.sessionmaker

    async def work() -> None:
        await runs.process_run(sessionmaker, run_id=run_id, actor=actor, clock=clock)

    await run_now_or_later(background, work, wait=wait, name="settlement_run", run_id=run_id)
    if not wait:
        return accepted
    async with sessionmaker() as session:
        run = await runs.get_run(session, run_id=run_id)
    return JSONResponse(
        _run_out(run).model_dump(mode="json"),
        headers={"Location": f"/api/v1/settlement-runs/{run_id}"},
    )


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
    today = clock().date()
    if body.settlement_date > today:
        problem = f"{body.settlement_date} has not come yet (today is {today})"
        raise ValidationFailed(
            f"settlement_date: {problem}.", errors=[FieldProblem("settlement_date", problem)]
        )
    if body.dry_run:
        report = await runs.dry_run(uow.session, settlement_date=body.settlement_date)
        out = SettlementRunOut(
            id=None,
            settlement_date=body.settlement_date,
            status="dry_run",
            dry_run=True,
            total=report["total"],
            processed=report["total"],
            settled=report["settled"],
            partially_settled=report["partially_settled"],
            failed=report["failed"],
            report=SettlementReportOut.model_validate(report),
            created_at=None,
            finished_at=None,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=200)

    async def work(session: AsyncSession) -> SettlementRunOut:
        run = await runs.start_run(
            session, settlement_date=body.settlement_date, actor=actor, now=clock()
        )
        return _run_out(run)

    accepted = await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1/settlement-runs/{out['id']}",
        status_code=202,
    )
    if accepted.headers.get(REPLAYED_HEADER) or accepted.status_code != 202:
        return accepted
    run_id = accepted.headers["Location"].rsplit("/", 1)[1]
    return await _answer(
        request, background, run_id, wait=wait, actor=actor, clock=clock, accepted=accepted
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
    async with uow:
        run = await runs.resume_run(uow.session, run_id=run_id, actor=actor, now=clock())
        out = _run_out(run)
    accepted = JSONResponse(
        out.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/settlement-runs/{run_id}"},
    )
    return await _answer(
        request, background, run_id, wait=wait, actor=actor, clock=clock, accepted=accepted
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
    rows, cursor = await runs.list_runs(uow.session, page=page, settlement_date=settlement_date)
    return Page(items=[_run_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/settlement-runs/{run_id}",
    response_model=SettlementRunOut,
    responses=problem_responses(404),
    summary="A settlement run: progress, then what settled, failed and was held",
)
async def get_settlement_run(run_id: str, uow: Uow, _actor: SettlementRead) -> SettlementRunOut:
    return _run_out(await runs.get_run(uow.session, run_id=run_id))
