"""Break routes: list and read with their age; assign, comment, resolve."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import Now, Paging, Uow, as_of_query
from app.core.errors import FieldProblem, ValidationFailed, problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.moments import UtcDateTime
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag, parse_optional_if_match
from app.reconciliation.breaks import service
from app.reconciliation.breaks.auth import BreaksRead, BreaksWrite
from app.reconciliation.breaks.kinds import BreakKind
from app.reconciliation.breaks.repository import BreakFilter
from app.reconciliation.breaks.schemas import (
    AssignIn,
    BreakOut,
    CommentIn,
    CommentOut,
    ResolveIn,
)
from app.reconciliation.breaks.states import BreakStatus
from app.reconciliation.matching.ageing import AgeingBucket

PATH = "/breaks"
router = APIRouter(prefix=PATH, tags=["Reconciliation breaks"], dependencies=[ISO_QUERY_DATES])

Version = Annotated[int | None, Depends(parse_optional_if_match)]
BREAK_AS_OF = (
    "`age_days` and `ageing_bucket` then count to that day, `comments` are those made by "
    "then, and `adjustment_status` is the write-off adjustment's status then."
)


_out = service.break_out


@router.get("", response_model=Page[BreakOut], responses=problem_responses())
async def list_breaks(
    uow: Uow,
    _actor: BreaksRead,
    page: Paging,
    clock: Now,
    account: Annotated[str | None, Query(max_length=40)] = None,
    kind: BreakKind | None = None,
    status: BreakStatus | None = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    ageing_bucket: AgeingBucket | None = None,
    from_date: Annotated[date | None, Query(description="Value date, inclusive.")] = None,
    to_date: Annotated[date | None, Query(description="Value date, inclusive.")] = None,
) -> Page[BreakOut]:
    """Breaks by id, each with its age today in business days on its account's calendar."""
    if from_date is not None and to_date is not None and to_date < from_date:
        raise ValidationFailed(
            "'to_date' is before 'from_date'.",
            errors=[FieldProblem("to_date", "must be on or after from_date")],
        )
    where = BreakFilter(
        account=account,
        kind=None if kind is None else kind.value,
        status=None if status is None else status.value,
        owner=owner,
        from_date=from_date,
        to_date=to_date,
    )
    views, cursor = await service.list_breaks(
        uow.session, page=page, where=where, ageing_bucket=ageing_bucket, today=clock().date()
    )
    return Page(items=[_out(view) for view in views], next_cursor=cursor)


@router.get("/{break_id}", response_model=BreakOut, responses=problem_responses(404))
async def get_break(
    break_id: str,
    response: Response,
    uow: Uow,
    _actor: BreaksRead,
    clock: Now,
    as_of: Annotated[UtcDateTime | None, as_of_query(BREAK_AS_OF)] = None,
) -> BreakOut:
    """One break with its comments, and its write-off adjustment's status when it has one."""
    view = await service.get_break(
        uow.session, break_id=break_id, today=clock().date(), as_of=as_of
    )
    response.headers["ETag"] = etag(view.row.version)
    return _out(view)


@router.post(
    "/{break_id}/assign",
    response_model=BreakOut,
    responses=problem_responses(404, 409, 412),
    summary="Give a break an owner (If-Match optional)",
)
async def assign_break(
    break_id: str,
    body: AssignIn,
    request: Request,
    uow: Uow,
    actor: BreaksWrite,
    clock: Now,
    version: Version,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: AsyncSession) -> BreakOut:
        view = await service.assign(
            session,
            break_id=break_id,
            owner=body.owner,
            version=version,
            actor=actor,
            now=clock(),
        )
        return _out(view)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        status_code=200,
    )


@router.post(
    "/{break_id}/comment",
    status_code=201,
    response_model=CommentOut,
    responses=problem_responses(404, 412),
    summary="Comment on a break (If-Match optional)",
)
async def comment_on_break(
    break_id: str,
    body: CommentIn,
    request: Request,
    uow: Uow,
    actor: BreaksWrite,
    clock: Now,
    version: Version,
    key: IdempotencyKey = None,
) -> JSONResponse:
    async def work(session: AsyncSession) -> CommentOut:
        comment = await service.comment(
            session, break_id=break_id, text=body.text, version=version, actor=actor, now=clock()
        )
        return CommentOut.model_validate(comment)

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=body, now=clock(), work=work
    )


@router.post(
    "/{break_id}/resolve",
    response_model=BreakOut,
    responses=problem_responses(404, 409, 412),
    summary="Resolve a break: explained, or a write-off under four-eyes (If-Match optional)",
)
async def resolve_break(
    break_id: str,
    body: ResolveIn,
    request: Request,
    uow: Uow,
    actor: BreaksWrite,
    clock: Now,
    version: Version,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """`explained` ends an open break (409 otherwise). `write_off` proposes a `write_off`
    adjustment: the difference on the break's account against `write-offs`, dated the break's
    value date; the break is `write_off_proposed` until another operations key approves the
    adjustment (`POST /adjustments/{id}/approve`; then `written_off`, closed by the journal
    entry) or rejects it (then `open` again). Value-date and integrity breaks cannot be
    written off (422)."""

    async def work(session: AsyncSession) -> BreakOut:
        view = await service.resolve(
            session,
            break_id=break_id,
            resolution=body.resolution.value,
            note=body.note,
            version=version,
            actor=actor,
            now=clock(),
        )
        return _out(view)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        status_code=200,
    )
