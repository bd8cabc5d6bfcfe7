"""Matching tolerance routes."""

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
from app.reference.tolerances import service
from app.reference.tolerances.schemas import (
    MatchingToleranceIn,
    MatchingToleranceOut,
    MatchingTolerancePatch,
)

router = APIRouter(
    prefix="/matching-tolerances", tags=["Matching tolerances"], dependencies=[ISO_QUERY_DATES]
)


@router.post(
    "", status_code=201, response_model=MatchingToleranceOut, responses=problem_responses(409)
)
async def create_matching_tolerance(
    body: MatchingToleranceIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """How far confirmations in a currency may differ from our trades (none: exact)."""

    async def work(session: Any) -> MatchingToleranceOut:
        tolerance = await service.create_matching_tolerance(
            session, data=body, actor=actor, now=clock()
        )
        return MatchingToleranceOut.model_validate(tolerance)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/matching-tolerances/{out['currency']}",
    )


@router.get("", response_model=Page[MatchingToleranceOut], responses=problem_responses())
async def list_matching_tolerances(
    uow: Uow, _actor: ReferenceRead, page: Paging
) -> Page[MatchingToleranceOut]:
    rows, cursor = await service.list_matching_tolerances(uow.session, page=page)
    return Page(items=[MatchingToleranceOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{currency}", response_model=MatchingToleranceOut, responses=problem_responses(404))
async def get_matching_tolerance(
    currency: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> MatchingToleranceOut:
    tolerance = await service.get_matching_tolerance(
        uow.session, currency=currency.upper(), as_of=as_of
    )
    response.headers["ETag"] = etag(tolerance.version)
    return MatchingToleranceOut.model_validate(tolerance)


@router.patch(
    "/{currency}",
    response_model=MatchingToleranceOut,
    responses=problem_responses(404, 412, 428),
)
async def update_matching_tolerance(
    currency: str,
    body: MatchingTolerancePatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> MatchingToleranceOut:
    async with uow:
        tolerance = await service.update_matching_tolerance(
            uow.session,
            currency=currency.upper(),
            patch=body,
            version=version,
            actor=actor,
            now=clock(),
        )
        out = MatchingToleranceOut.model_validate(tolerance)
    response.headers["ETag"] = etag(out.version)
    return out
