"""Buy-in extension period routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.buy_in_periods import service
from app.reference.buy_in_periods.schemas import ExtensionPeriodIn, ExtensionPeriodOut

router = APIRouter(prefix="/buy-in-extension-periods", tags=["Buy-in extension periods"])


@router.post(
    "", status_code=201, response_model=ExtensionPeriodOut, responses=problem_responses(409)
)
async def create_extension_period(
    body: ExtensionPeriodIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a period effective from an intended settlement date; earlier ones stay in force for
    instructions due earlier. One per class and date (409 otherwise)."""

    async def work(session: Any) -> ExtensionPeriodOut:
        return ExtensionPeriodOut.model_validate(
            await service.create_period(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@router.get("", response_model=Page[ExtensionPeriodOut], responses=problem_responses())
async def list_extension_periods(
    uow: Uow, _actor: ReferenceRead, page: Paging, csdr_class: Annotated[str | None, Query()] = None
) -> Page[ExtensionPeriodOut]:
    rows, cursor = await service.list_periods(uow.session, page=page, csdr_class=csdr_class)
    return Page(items=[ExtensionPeriodOut.model_validate(r) for r in rows], next_cursor=cursor)
