"""Counterparty routes."""

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
from app.reference.counterparties import service
from app.reference.counterparties.schemas import (
    CounterpartyIn,
    CounterpartyOut,
    CounterpartyPatch,
)
from app.reference.http import API_PREFIX, Version

router = APIRouter(
    prefix="/counterparties", tags=["Counterparties"], dependencies=[ISO_QUERY_DATES]
)


@router.post("", status_code=201, response_model=CounterpartyOut, responses=problem_responses(409))
async def create_counterparty(
    body: CounterpartyIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: Any) -> CounterpartyOut:
        counterparty = await service.create_counterparty(
            session, data=body, actor=actor, now=clock()
        )
        return CounterpartyOut.model_validate(counterparty)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/counterparties/{out['lei']}",
    )


@router.get("", response_model=Page[CounterpartyOut], responses=problem_responses())
async def list_counterparties(
    uow: Uow, _actor: ReferenceRead, page: Paging
) -> Page[CounterpartyOut]:
    rows, cursor = await service.list_counterparties(uow.session, page=page)
    return Page(items=[CounterpartyOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{lei}", response_model=CounterpartyOut, responses=problem_responses(404))
async def get_counterparty(
    lei: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> CounterpartyOut:
    counterparty = await service.get_counterparty(uow.session, lei=lei.upper(), as_of=as_of)
    response.headers["ETag"] = etag(counterparty.version)
    return CounterpartyOut.model_validate(counterparty)


@router.patch("/{lei}", response_model=CounterpartyOut, responses=problem_responses(404, 412, 428))
async def update_counterparty(
    lei: str,
    body: CounterpartyPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> CounterpartyOut:
    async with uow:
        counterparty = await service.update_counterparty(
            uow.session, lei=lei.upper(), patch=body, version=version, actor=actor, now=clock()
        )
        out = CounterpartyOut.model_validate(counterparty)
    response.headers["ETag"] = etag(out.version)
    return out
