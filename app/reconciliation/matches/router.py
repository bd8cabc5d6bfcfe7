"""Match routes: match by hand, undo a match, read."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag, parse_if_match
from app.reconciliation.matches import manual, service
from app.reconciliation.matches.auth import MatchesRead, MatchesWrite
from app.reconciliation.matches.schemas import ManualMatchIn, MatchOut, UnmatchIn
from app.reconciliation.matches.states import MatchStatus

PATH = "/matches"
router = APIRouter(prefix=PATH, tags=["Reconciliation"], dependencies=[ISO_QUERY_DATES])


def optional_version(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description='The version you read, e.g. `"1"`.')
    ] = None,
) -> int | None:
    return None if if_match is None else parse_if_match(if_match)


@router.post("", status_code=201, response_model=MatchOut, responses=problem_responses(409))
async def create_match(
    body: ManualMatchIn,
    request: Request,
    uow: Uow,
    actor: MatchesWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Match statement entries with journal entries by hand: all of one account and currency,
    none matched already (409 naming the match). The amount difference is recorded; the open
    breaks of these items close, with this match as what closed them."""

    async def work(session: Any) -> MatchOut:
        match = await manual.match_by_hand(
            session,
            statement_entry_ids=body.statement_entry_ids,
            movement_ids=body.movement_ids,
            comment=body.comment,
            actor=actor,
            now=clock(),
        )
        return MatchOut.model_validate(match)

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1{PATH}/{out['id']}",
    )


@router.post(
    "/{match_id}/unmatch", response_model=MatchOut, responses=problem_responses(404, 409, 412)
)
async def unmatch(
    match_id: str,
    body: UnmatchIn,
    response: Response,
    uow: Uow,
    actor: MatchesWrite,
    clock: Now,
    version: Annotated[int | None, Depends(optional_version)],
) -> MatchOut:
    """Undo a match: its items are free again; the next run matches them again or finds
    breaks. `If-Match` (optional) guards against undoing a match changed since read."""
    async with uow:
        match = await service.unmatch(
            uow.session,
            match_id=match_id,
            reason=body.reason,
            version=version,
            actor=actor,
            now=clock(),
        )
        out = MatchOut.model_validate(match)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get("", response_model=Page[MatchOut], responses=problem_responses())
async def list_matches(
    uow: Uow,
    _actor: MatchesRead,
    page: Paging,
    account: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    date: date | None = None,
    status: MatchStatus | None = None,
) -> Page[MatchOut]:
    """Matches, by id: of an account, of a value date, `active` or `unmatched`."""
    rows, cursor = await service.list_matches(
        uow.session,
        page=page,
        account=account,
        value_date=date,
        status=None if status is None else status.value,
    )
    return Page(items=[MatchOut.model_validate(row) for row in rows], next_cursor=cursor)


@router.get("/{match_id}", response_model=MatchOut, responses=problem_responses(404))
async def get_match(
    match_id: str, response: Response, uow: Uow, _actor: MatchesRead, as_of: AsOf = None
) -> MatchOut:
    match = await service.get_match(uow.session, match_id=match_id, as_of=as_of)
    out = MatchOut.model_validate(match)
    response.headers["ETag"] = etag(out.version)
    return out
