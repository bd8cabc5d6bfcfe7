"""Statement mapping routes: named CSV column mappings, replaced whole under If-Match."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag, parse_if_match
from app.reconciliation.auth import MappingsWrite, ReconciliationRead
from app.reconciliation.mappings import service
from app.reconciliation.mappings.schemas import (
    MappingName,
    StatementMappingIn,
    StatementMappingOut,
    StatementMappingReplace,
)

PREFIX = "/statement-mappings"
router = APIRouter(prefix=PREFIX, tags=["Statement mappings"], dependencies=[ISO_QUERY_DATES])

Name = Annotated[MappingName, Path(description="The mapping's name.")]
Version = Annotated[int, Depends(parse_if_match)]


@router.post(
    "",
    status_code=201,
    response_model=StatementMappingOut,
    responses=problem_responses(409),
    summary="Add a named CSV column mapping",
)
async def create_statement_mapping(
    body: StatementMappingIn,
    request: Request,
    uow: Uow,
    actor: MappingsWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """How one bank's CSV reads: which column holds which field, the delimiter, the decimal and
    thousands separators, the date format, the encoding and how credits are told apart. CSV
    statements name it: `POST /statements?format=csv&mapping=<name>`. An unknown field, a date
    format that does not read a whole date or an unknown encoding is a 422 naming the field."""

    async def work(session: Any) -> StatementMappingOut:
        mapping = await service.create_mapping(session, data=body, actor=actor, now=clock())
        return StatementMappingOut.model_validate(mapping)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1{PREFIX}/{out['name']}",
    )


@router.get(
    "",
    response_model=Page[StatementMappingOut],
    responses=problem_responses(),
    summary="Statement mappings, by name",
)
async def list_statement_mappings(
    uow: Uow, _actor: ReconciliationRead, page: Paging
) -> Page[StatementMappingOut]:
    rows, cursor = await service.list_mappings(uow.session, page=page)
    return Page(items=[StatementMappingOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/{name}",
    response_model=StatementMappingOut,
    responses=problem_responses(404),
    summary="One statement mapping (its version in the ETag)",
)
async def get_statement_mapping(
    name: Name, response: Response, uow: Uow, _actor: ReconciliationRead, as_of: AsOf = None
) -> StatementMappingOut:
    mapping = await service.get_mapping(uow.session, name=name, as_of=as_of)
    response.headers["ETag"] = etag(mapping.version)
    return StatementMappingOut.model_validate(mapping)


@router.put(
    "/{name}",
    response_model=StatementMappingOut,
    responses=problem_responses(404, 412, 428),
    summary="Replace a statement mapping (If-Match: its version)",
)
async def replace_statement_mapping(
    name: Name,
    body: StatementMappingReplace,
    response: Response,
    uow: Uow,
    actor: MappingsWrite,
    clock: Now,
    version: Version,
) -> StatementMappingOut:
    """Every field is replaced (what the body leaves out takes its default). Send `If-Match`
    with the version you read; a stale one is 412. Files already read keep the version they
    were read with (`mapping_version` on the file)."""
    async with uow:
        mapping = await service.replace_mapping(
            uow.session, name=name, data=body, version=version, actor=actor, now=clock()
        )
        out = StatementMappingOut.model_validate(mapping)
    response.headers["ETag"] = etag(out.version)
    return out
