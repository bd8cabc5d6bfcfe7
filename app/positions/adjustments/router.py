"""Adjustments over HTTP: propose, read, approve, reject."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.positions.adjustments import service
from app.positions.adjustments.auth import AdjustmentsRead, AdjustmentsWrite
from app.positions.adjustments.models import Adjustment
from app.positions.adjustments.schemas import (
    AdjustmentIn,
    AdjustmentKind,
    AdjustmentLineOut,
    AdjustmentOut,
    RejectIn,
)
from app.positions.adjustments.states import AdjustmentStatus
from app.positions.journal.schemas import PostingOut

router = APIRouter(tags=["Adjustments"], dependencies=[ISO_QUERY_DATES])


def _adjustment_out(adjustment: Adjustment) -> AdjustmentOut:
    return AdjustmentOut(
        id=adjustment.id,
        kind=AdjustmentKind(adjustment.kind),
        status=AdjustmentStatus(adjustment.status),
        reason=adjustment.reason,
        value_date=adjustment.value_date,
        lines=[AdjustmentLineOut(**line) for line in adjustment.lines],
        postings=[PostingOut(**posting) for posting in adjustment.postings],
        proposed_by=adjustment.proposed_by,
        proposed_at=adjustment.proposed_at,
        decided_by=adjustment.decided_by,
        decided_at=adjustment.decided_at,
        rejection_reason=adjustment.rejection_reason,
        entry_id=adjustment.entry_id,
        version=adjustment.version,
    )


@router.post(
    "/adjustments",
    status_code=201,
    response_model=AdjustmentOut,
    responses=problem_responses(),
    summary="Propose an adjustment (four-eyes: another operations key approves)",
)
async def propose_adjustment(
    body: AdjustmentIn,
    request: Request,
    uow: Uow,
    actor: AdjustmentsWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Nothing is posted yet: the answer shows the postings approval will make, the offsets
    of an `opening` adjustment against `opening-equity` included."""

    async def work(session: AsyncSession) -> AdjustmentOut:
        return _adjustment_out(await service.propose(session, data=body, actor=actor, now=clock()))

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1/adjustments/{out['id']}",
    )


@router.get(
    "/adjustments",
    response_model=Page[AdjustmentOut],
    responses=problem_responses(),
    summary="Adjustments, newest last",
)
async def list_adjustments(
    uow: Uow, _actor: AdjustmentsRead, page: Paging, status: AdjustmentStatus | None = None
) -> Page[AdjustmentOut]:
    rows, cursor = await service.list_adjustments(uow.session, page=page, status=status)
    return Page(items=[_adjustment_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/adjustments/{adjustment_id}",
    response_model=AdjustmentOut,
    responses=problem_responses(404),
    summary="One adjustment",
)
async def get_adjustment(
    adjustment_id: str, uow: Uow, _actor: AdjustmentsRead, as_of: AsOf = None
) -> AdjustmentOut:
    return _adjustment_out(await service.get(uow.session, adjustment_id=adjustment_id, as_of=as_of))


@router.post(
    "/adjustments/{adjustment_id}/approve",
    response_model=AdjustmentOut,
    responses=problem_responses(403, 404, 409),
    summary="Approve and post an adjustment (not by its proposer)",
)
async def approve_adjustment(
    adjustment_id: str, uow: Uow, actor: AdjustmentsWrite, clock: Now
) -> AdjustmentOut:
    async with uow:
        adjustment = await service.approve(
            uow.session, adjustment_id=adjustment_id, actor=actor, now=clock()
        )
        return _adjustment_out(adjustment)


@router.post(
    "/adjustments/{adjustment_id}/reject",
    response_model=AdjustmentOut,
    responses=problem_responses(403, 404, 409),
    summary="Reject an adjustment (not by its proposer)",
)
async def reject_adjustment(
    adjustment_id: str, body: RejectIn, uow: Uow, actor: AdjustmentsWrite, clock: Now
) -> AdjustmentOut:
    async with uow:
        adjustment = await service.reject(
            uow.session, adjustment_id=adjustment_id, reason=body.reason, actor=actor, now=clock()
        )
        return _adjustment_out(adjustment)
