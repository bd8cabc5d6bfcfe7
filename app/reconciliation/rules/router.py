"""Reconciliation rule routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag, parse_if_match
from app.reconciliation.rules import service
from app.reconciliation.rules.auth import RulesRead, RulesWrite
from app.reconciliation.rules.schemas import RuleIn, RuleOut, RuleReplacement

PATH = "/reconciliation-rules"
router = APIRouter(prefix=PATH, tags=["Reconciliation rules"], dependencies=[ISO_QUERY_DATES])

Version = Annotated[int, Depends(parse_if_match)]
RuleNamePath = Annotated[str, Path(max_length=64, examples=["exact-reference"])]


@router.post("", status_code=201, response_model=RuleOut, responses=problem_responses(409))
async def create_reconciliation_rule(
    body: RuleIn,
    request: Request,
    uow: Uow,
    actor: RulesWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """A new matching rule, applied from the next reconciliation run on."""

    async def work(session: Any) -> RuleOut:
        rule = await service.create_rule(session, data=body, actor=actor, now=clock())
        return RuleOut.model_validate(rule)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1{PATH}/{out['name']}",
    )


@router.get("", response_model=Page[RuleOut], responses=problem_responses())
async def list_reconciliation_rules(uow: Uow, _actor: RulesRead, page: Paging) -> Page[RuleOut]:
    """Every rule, by name (the runs take the enabled ones by priority)."""
    rows, cursor = await service.list_rules(uow.session, page=page)
    return Page(items=[RuleOut.model_validate(row) for row in rows], next_cursor=cursor)


@router.get("/{name}", response_model=RuleOut, responses=problem_responses(404))
async def get_reconciliation_rule(
    name: RuleNamePath, response: Response, uow: Uow, _actor: RulesRead, as_of: AsOf = None
) -> RuleOut:
    rule = await service.get_rule(uow.session, name=name, as_of=as_of)
    response.headers["ETag"] = etag(rule.version)
    return RuleOut.model_validate(rule)


@router.put("/{name}", response_model=RuleOut, responses=problem_responses(404, 412, 428))
async def replace_reconciliation_rule(
    name: RuleNamePath,
    body: RuleReplacement,
    response: Response,
    uow: Uow,
    actor: RulesWrite,
    clock: Now,
    version: Version,
) -> RuleOut:
    """The whole rule but its name, with `If-Match` naming the version read."""
    async with uow:
        rule = await service.replace_rule(
            uow.session, name=name, data=body, version=version, actor=actor, now=clock()
        )
        out = RuleOut.model_validate(rule)
    response.headers["ETag"] = etag(out.version)
    return out
