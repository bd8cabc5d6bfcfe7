"""Instrument routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Currency, Mic
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag
from app.reference.auth import ReferenceRead, ReferenceWrite
from app.reference.http import API_PREFIX, Version
from app.reference.instruments import service
from app.reference.instruments.schemas import (
    InstrumentIn,
    InstrumentOut,
    InstrumentPatch,
    InstrumentType,
)

router = APIRouter(prefix="/instruments", tags=["Instruments"], dependencies=[ISO_QUERY_DATES])


@router.post("", status_code=201, response_model=InstrumentOut, responses=problem_responses(409))
async def create_instrument(
    body: InstrumentIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add an instrument. Bonds need price basis `percent`, coupon terms and dates."""

    async def work(session: Any) -> InstrumentOut:
        instrument = await service.create_instrument(session, data=body, actor=actor, now=clock())
        return InstrumentOut.model_validate(instrument)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/instruments/{out['isin']}",
    )


@router.get("", response_model=Page[InstrumentOut], responses=problem_responses())
async def list_instruments(
    uow: Uow,
    _actor: ReferenceRead,
    page: Paging,
    mic: Annotated[Mic | None, Query()] = None,
    type: Annotated[InstrumentType | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[InstrumentOut]:
    rows, cursor = await service.list_instruments(
        uow.session, page=page, mic=mic, type_=type, currency=currency
    )
    return Page(items=[InstrumentOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{isin}", response_model=InstrumentOut, responses=problem_responses(404))
async def get_instrument(
    isin: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> InstrumentOut:
    instrument = await service.get_instrument(uow.session, isin=isin.upper(), as_of=as_of)
    response.headers["ETag"] = etag(instrument.version)
    return InstrumentOut.model_validate(instrument)


@router.patch("/{isin}", response_model=InstrumentOut, responses=problem_responses(404, 412, 428))
async def update_instrument(
    isin: str,
    body: InstrumentPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> InstrumentOut:
    async with uow:
        instrument = await service.update_instrument(
            uow.session, isin=isin.upper(), patch=body, version=version, actor=actor, now=clock()
        )
        out = InstrumentOut.model_validate(instrument)
    response.headers["ETag"] = etag(out.version)
    return out
