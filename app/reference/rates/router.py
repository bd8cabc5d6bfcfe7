"""CSDR penalty rate routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.rates import service
from app.reference.rates.schemas import PenaltyRateIn, PenaltyRateOut

router = APIRouter(prefix="/penalty-rates", tags=["Penalty rates"])


@router.post("", status_code=201, response_model=PenaltyRateOut, responses=problem_responses(409))
async def create_penalty_rate(
    body: PenaltyRateIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a rate effective from a date; earlier rates stay in force for earlier days."""

    async def work(session: Any) -> PenaltyRateOut:
        return PenaltyRateOut.model_validate(
            await service.create_penalty_rate(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@router.get("", response_model=Page[PenaltyRateOut], responses=problem_responses())
async def list_penalty_rates(
    uow: Uow, _actor: ReferenceRead, page: Paging, csdr_class: Annotated[str | None, Query()] = None
) -> Page[PenaltyRateOut]:
    rows, cursor = await service.list_penalty_rates(uow.session, page=page, csdr_class=csdr_class)
    return Page(items=[PenaltyRateOut.model_validate(r) for r in rows], next_cursor=cursor)
