"""Closing price routes."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Isin
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.prices import service
from app.reference.prices.schemas import PriceIn, PriceOut

router = APIRouter(prefix="/prices", tags=["Prices"], dependencies=[ISO_QUERY_DATES])


@router.post("", status_code=201, response_model=PriceOut, responses=problem_responses(409))
async def create_price(
    body: PriceIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a closing price (used for penalties and exposure); one per ISIN and date."""

    async def work(session: Any) -> PriceOut:
        return PriceOut.model_validate(
            await service.create_price(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@router.get("", response_model=Page[PriceOut], responses=problem_responses())
async def list_prices(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    isin: Annotated[Isin | None, Query()] = None,
    date_: Annotated[date | None, Query(alias="date")] = None,
) -> Page[PriceOut]:
    """Prices of one ISIN by date, or of one date by ISIN."""
    rows, cursor = await service.list_prices(uow.session, page=page, isin=isin, on=date_)
    return Page(items=[PriceOut.model_validate(r) for r in rows], next_cursor=cursor)
