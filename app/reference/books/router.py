"""Book routes."""

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
from app.reference.books import service
from app.reference.books.schemas import BookIn, BookOut, BookPatch
from app.reference.http import API_PREFIX, Version

router = APIRouter(prefix="/books", tags=["Books"], dependencies=[ISO_QUERY_DATES])


@router.post("", status_code=201, response_model=BookOut, responses=problem_responses(409))
async def create_book(
    body: BookIn,
    request: Request,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: Any) -> BookOut:
        return BookOut.model_validate(
            await service.create_book(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"{API_PREFIX}/books/{out['code']}",
    )


@router.get("", response_model=Page[BookOut], responses=problem_responses())
async def list_books(uow: Uow, _actor: ReferenceRead, page: Paging) -> Page[BookOut]:
    rows, cursor = await service.list_books(uow.session, page=page)
    return Page(items=[BookOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{code}", response_model=BookOut, responses=problem_responses(404))
async def get_book(
    code: str, response: Response, uow: Uow, _actor: ReferenceRead, as_of: AsOf = None
) -> BookOut:
    book = await service.get_book(uow.session, code=code, as_of=as_of)
    response.headers["ETag"] = etag(book.version)
    return BookOut.model_validate(book)


@router.patch("/{code}", response_model=BookOut, responses=problem_responses(404, 412, 428))
async def update_book(
    code: str,
    body: BookPatch,
    response: Response,
    uow: Uow,
    actor: ReferenceWrite,
    clock: Now,
    version: Version,
) -> BookOut:
    async with uow:
        book = await service.update_book(
            uow.session, code=code, patch=body, version=version, actor=actor, now=clock()
        )
        out = BookOut.model_validate(book)
    response.headers["ETag"] = etag(out.version)
    return out
