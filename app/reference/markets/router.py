"""Market routes: markets and their closed days."""

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.http import API_PREFIX, Version
from app.reference.markets import service
from app.reference.markets.schemas import (
    ClosedDayIn,
    ClosedDayOut,
    MarketIn,
    MarketOut,
    MarketPatch,
)

router = APIRouter(prefix="/markets", tags=["Markets"], dependencies=[ISO_QUERY_DATES])


@router.post("", status_code=201, response_model=MarketOut, responses=problem_responses(409))
async def create_market(
    body: MarketIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a market: its calendars, effective-dated settlement cycle, CCP and affirmation cutoff."""

    async def work(session: Any) -> MarketOut:
        market = await service.create_market(session, data=body, actor=actor, now=clock())
        return MarketOut.model_validate(market)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/markets/{out['mic']}",
    )


@router.get("", response_model=Page[MarketOut], responses=problem_responses())
async def list_markets(uow: Uow, _actor: ReferenceRead, page: Paging) -> Page[MarketOut]:
    rows, cursor = await service.list_markets(uow.session, page=page)
    return Page(items=[MarketOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{mic}", response_model=MarketOut, responses=problem_responses(404))
async def get_market(
    mic: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> MarketOut:
    market = await service.get_market(uow.session, mic=mic.upper(), as_of=as_of)
    response.headers["ETag"] = etag(market.version)
    return MarketOut.model_validate(market)


@router.patch("/{mic}", response_model=MarketOut, responses=problem_responses(404, 412, 428))
async def update_market(
    mic: str,
    body: MarketPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> MarketOut:
    """Change a market. Send `If-Match` with the version you read; a stale one is 412."""
    async with uow:
        market = await service.update_market(
            uow.session, mic=mic.upper(), patch=body, version=version, actor=actor, now=clock()
        )
        out = MarketOut.model_validate(market)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    "/{mic}/closed-days",
    status_code=201,
    response_model=ClosedDayOut,
    responses=problem_responses(404, 409),
)
async def add_closed_day(
    mic: str,
    body: ClosedDayIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Close the market on a day its holiday calendar does not know (e.g. a day of mourning)."""

    async def work(session: Any) -> ClosedDayOut:
        day = await service.add_closed_day(
            session, mic=mic.upper(), data=body, actor=actor, now=clock()
        )
        return ClosedDayOut.model_validate(day)

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@router.get(
    "/{mic}/closed-days", response_model=list[ClosedDayOut], responses=problem_responses(404)
)
async def list_closed_days(mic: str, uow: Uow, _actor: ReferenceRead) -> list[ClosedDayOut]:
    rows = await service.list_closed_days(uow.session, mic=mic.upper())
    return [ClosedDayOut.model_validate(r) for r in rows]
