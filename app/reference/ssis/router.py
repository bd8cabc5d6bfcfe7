"""Standing settlement instruction routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Currency, Lei, Mic
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.http import API_PREFIX, Version
from app.reference.ssis import service
from app.reference.ssis.schemas import SsiIn, SsiOut, SsiPatch

router = APIRouter(
    prefix="/ssis", tags=["Standing settlement instructions"], dependencies=[ISO_QUERY_DATES]
)


@router.post("", status_code=201, response_model=SsiOut, responses=problem_responses(409))
async def create_ssi(
    body: SsiIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a counterparty's SSI for a market (`mic`), a currency, or a market in one
    currency (both). Enrichment takes the most specific that fits an instruction: market and
    currency, else market, else currency; two equally specific ones send it to repair."""

    async def work(session: Any) -> SsiOut:
        return SsiOut.model_validate(
            await service.create_ssi(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/ssis/{out['id']}",
    )


@router.get("", response_model=Page[SsiOut], responses=problem_responses())
async def list_ssis(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    mic: Annotated[Mic | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[SsiOut]:
    rows, cursor = await service.list_ssis(
        uow.session, page=page, counterparty_lei=counterparty_lei, mic=mic, currency=currency
    )
    return Page(items=[SsiOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{ssi_id}", response_model=SsiOut, responses=problem_responses(404))
async def get_ssi(
    ssi_id: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> SsiOut:
    ssi = await service.get_ssi(uow.session, ssi_id=ssi_id, as_of=as_of)
    response.headers["ETag"] = etag(ssi.version)
    return SsiOut.model_validate(ssi)


@router.patch("/{ssi_id}", response_model=SsiOut, responses=problem_responses(404, 412, 428))
async def update_ssi(
    ssi_id: str,
    body: SsiPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> SsiOut:
    async with uow:
        ssi = await service.update_ssi(
            uow.session, ssi_id=ssi_id, patch=body, version=version, actor=actor, now=clock()
        )
        out = SsiOut.model_validate(ssi)
    response.headers["ETag"] = etag(out.version)
    return out


@router.delete(
    "/{ssi_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 412, 428),
)
async def delete_ssi(
    ssi_id: str, uow: Uow, actor: ReferenceWrite, clock: Now, version: Version
) -> Response:
    """Remove an SSI, e.g. the one too many behind an `SSI_AMBIGUOUS` repair reason. Send
    `If-Match` with the version you read (missing: 428, stale: 412). Instructions already made
    keep the SSI they copied; enrich those in repair again afterwards. Audited as `deleted`."""
    async with uow:
        await service.delete_ssi(
            uow.session, ssi_id=ssi_id, version=version, actor=actor, now=clock()
        )
    return Response(status_code=204)
