"""Clearing routes: runs (dry or real, waited for or in the background) and obligations."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.clearing import service
from app.clearing.auth import ClearingRead, ClearingWrite
from app.clearing.models import ClearingRun, Obligation
from app.clearing.netting import Direction, NettingSet
from app.clearing.schemas import ClearingReportOut, ClearingRunIn, ClearingRunOut, ObligationOut
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.deps import Now, Paging, Uow, Wait
from app.core.errors import problem_responses
from app.core.idempotency import REPLAYED_HEADER, IdempotencyKey, idempotent_create
from app.core.identifiers import Isin, Lei
from app.core.pagination import Page
from app.core.runs import run_now_or_later

router = APIRouter(tags=["Clearing"])


def _run_out(run: ClearingRun, *, note: str | None = None) -> ClearingRunOut:
    return ClearingRunOut(
        id=run.id,
        settlement_date=run.settlement_date,
        status=run.status,
        dry_run=False,
        total=run.total,
        processed=run.processed,
        obligations=run.obligations,
        instructions=run.instructions,
        report=ClearingReportOut.model_validate(run.report) if run.report else None,
        error=run.error,
        note=note,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


async def _run_and_answer(
    request: Request,
    background: BackgroundTasks,
    run_id: str,
    *,
    wait: bool,
    actor: Actor,
    clock: Clock,
    answer: JSONResponse,
) -> JSONResponse:
    sessionmaker = request.app.state.sessionmaker

    async def work() -> None:
        await service.process_run(sessionmaker, run_id=run_id, actor=actor, clock=clock)

    await run_now_or_later(background, work, wait=wait, name="clearing_run", run_id=run_id)
    if not wait:
        return answer
    async with sessionmaker() as session:
        run = await service.get_run(session, run_id=run_id)
    return JSONResponse(
        _run_out(run).model_dump(mode="json"),
        status_code=200,
        headers={"Location": f"/api/v1/clearing-runs/{run_id}"},
    )


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
    if body.dry_run:
        report = await service.dry_run(uow.session, settlement_date=body.settlement_date)
        out = ClearingRunOut(
            id=None,
            settlement_date=body.settlement_date,
            status="dry_run",
            dry_run=True,
            total=report["trades"] + report["exceptions_count"],
            processed=report["trades"] + report["exceptions_count"],
            obligations=report["obligations"],
            instructions=0,
            report=ClearingReportOut.model_validate(report),
            created_at=None,
            finished_at=None,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=200)
    idle = await service.nothing_to_clear(uow.session, settlement_date=body.settlement_date)
    if idle is not None:
        if idle.last_run is not None:
            out = _run_out(idle.last_run, note=idle.note)
        else:
            out = ClearingRunOut(
                id=None,
                settlement_date=body.settlement_date,
                status="completed",
                dry_run=False,
                total=0,
                processed=0,
                obligations=0,
                instructions=0,
                report=None,
                note=idle.note,
                created_at=None,
                finished_at=None,
            )
        return JSONResponse(out.model_dump(mode="json"), status_code=200)

    async def work(session: AsyncSession) -> ClearingRunOut:
        total = await service.count_clearable(session, settlement_date=body.settlement_date)
        run = await service.start_run(
            session, settlement_date=body.settlement_date, total=total, actor=actor, now=clock()
        )
        return _run_out(run)

    answer = await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1/clearing-runs/{out['id']}",
        status_code=202,
    )
    if answer.headers.get(REPLAYED_HEADER) or answer.status_code != 202:
        return answer
    run_id = answer.headers["Location"].rsplit("/", 1)[1]
    return await _run_and_answer(
        request, background, run_id, wait=wait, actor=actor, clock=clock, answer=answer
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
    async with uow:
        run = await service.resume_run(uow.session, run_id=run_id, actor=actor, now=clock())
        out = _run_out(run)
    answer = JSONResponse(
        out.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/clearing-runs/{run_id}"},
    )
    return await _run_and_answer(
        request, background, run_id, wait=wait, actor=actor, clock=clock, answer=answer
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
    return Page(items=[_run_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/clearing-runs/{run_id}",
    response_model=ClearingRunOut,
    responses=problem_responses(404),
    summary="A clearing run: progress, then gross vs net and the netting efficiency",
)
async def get_clearing_run(run_id: str, uow: Uow, _actor: ClearingRead) -> ClearingRunOut:
    return _run_out(await service.get_run(uow.session, run_id=run_id))


def _obligation_out(obligation: Obligation, trade_ids: list[str]) -> ObligationOut:
    values: dict[str, Any] = {
        name: getattr(obligation, name)
        for name in ObligationOut.model_fields
        if name not in ("trade_ids", "netting_set", "direction")
    }
    return ObligationOut(
        **values,
        netting_set=NettingSet(obligation.netting_set),
        direction=Direction(obligation.direction),
        trade_ids=trade_ids,
    )


@router.get(
    "/obligations",
    response_model=Page[ObligationOut],
    responses=problem_responses(),
    summary="Settlement obligations, each with the trades it nets (lineage)",
)
async def list_obligations(
    uow: Uow,
    _actor: ClearingRead,
    page: Paging,
    run_id: Annotated[str | None, Query(max_length=40)] = None,
    settlement_date: date | None = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    isin: Annotated[Isin | None, Query()] = None,
) -> Page[ObligationOut]:
    rows, cursor = await service.list_obligations(
        uow.session,
        page=page,
        run_id=run_id,
        settlement_date=settlement_date,
        counterparty_lei=counterparty_lei,
        isin=isin,
    )
    lineage = await service.trade_ids_of(uow.session, [row.id for row in rows])
    return Page(items=[_obligation_out(row, lineage[row.id]) for row in rows], next_cursor=cursor)


@router.get(
    "/obligations/{obligation_id}",
    response_model=ObligationOut,
    responses=problem_responses(404),
    summary="One obligation",
)
async def get_obligation(obligation_id: str, uow: Uow, _actor: ClearingRead) -> ObligationOut:
    obligation = await service.get_obligation(uow.session, obligation_id=obligation_id)
    lineage = await service.trade_ids_of(uow.session, [obligation.id])
    return _obligation_out(obligation, lineage[obligation.id])
