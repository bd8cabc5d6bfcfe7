from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.apikeys import service
from app.apikeys.auth import Admin
from app.apikeys.schemas import ApiKeyIn, ApiKeyOut, IssuedApiKeyOut
from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES

router = APIRouter(prefix="/api-keys", tags=["API keys"], dependencies=[ISO_QUERY_DATES])


@router.post(
    "",
    status_code=201,
    response_model=IssuedApiKeyOut,
    responses=problem_responses(),
    summary="Create an API key (shown once)",
    description=(
        "Creates a key with one role. The answer carries the key itself, once: it is stored "
        "only as a hash. This route takes no Idempotency-Key, because a replay would have to "
        "keep the key in clear; if the answer is lost, revoke the key and create another."
    ),
)
async def create_api_key(body: ApiKeyIn, uow: Uow, actor: Admin, clock: Now) -> IssuedApiKeyOut:
    async with uow:
        issued = await service.create_key(
            uow.session, name=body.name, role=body.role, actor=actor, now=clock()
        )
    out = ApiKeyOut.from_model(issued.api_key)
    return IssuedApiKeyOut(**out.model_dump(), key=issued.secret)


@router.get("", response_model=Page[ApiKeyOut], responses=problem_responses(), summary="List keys")
async def list_api_keys(
    uow: Uow,
    _actor: Admin,
    page: Paging,
    include_revoked: Annotated[bool, Query()] = False,
) -> Page[ApiKeyOut]:
    keys, cursor = await service.list_keys(uow.session, page=page, include_revoked=include_revoked)
    return Page(items=[ApiKeyOut.from_model(k) for k in keys], next_cursor=cursor)


@router.get(
    "/{key_id}",
    response_model=ApiKeyOut,
    responses=problem_responses(404),
    summary="One key (never the key itself)",
)
async def get_api_key(key_id: str, uow: Uow, _actor: Admin, as_of: AsOf = None) -> ApiKeyOut:
    return ApiKeyOut.from_model(await service.get_key(uow.session, key_id=key_id, as_of=as_of))


@router.delete(
    "/{key_id}",
    status_code=204,
    responses=problem_responses(404),
    summary="Revoke a key",
    description="The key stops working at once. Revoking a revoked key changes nothing.",
)
async def revoke_api_key(key_id: str, uow: Uow, actor: Admin, clock: Now) -> Response:
    async with uow:
        await service.revoke_key(uow.session, key_id=key_id, actor=actor, now=clock())
    return Response(status_code=204)
