"""Account routes: our securities and cash accounts."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Currency
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag
from app.reference.accounts import service
from app.reference.accounts.schemas import AccountIn, AccountKind, AccountOut, AccountPatch
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.http import API_PREFIX, Version

router = APIRouter(prefix="/accounts", tags=["Accounts"], dependencies=[ISO_QUERY_DATES])


@router.post("", status_code=201, response_model=AccountOut, responses=problem_responses(409))
async def create_account(
    body: AccountIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add one of our accounts: securities safekeeping, or cash in one currency."""

    async def work(session: Any) -> AccountOut:
        return AccountOut.model_validate(
            await service.create_account(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/accounts/{out['code']}",
    )


@router.get("", response_model=Page[AccountOut], responses=problem_responses())
async def list_accounts(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    kind: Annotated[AccountKind | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[AccountOut]:
    rows, cursor = await service.list_accounts(uow.session, page=page, kind=kind, currency=currency)
    return Page(items=[AccountOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{code}", response_model=AccountOut, responses=problem_responses(404))
async def get_account(
    code: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> AccountOut:
    account = await service.get_account(uow.session, code=code, as_of=as_of)
    response.headers["ETag"] = etag(account.version)
    return AccountOut.model_validate(account)


@router.patch("/{code}", response_model=AccountOut, responses=problem_responses(404, 412, 428))
async def update_account(
    code: str,
    body: AccountPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> AccountOut:
    async with uow:
        account = await service.update_account(
            uow.session, code=code, patch=body, version=version, actor=actor, now=clock()
        )
        out = AccountOut.model_validate(account)
    response.headers["ETag"] = etag(out.version)
    return out
