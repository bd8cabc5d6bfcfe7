"""Confirmation routes: receive, exceptions, force-match, and the affirmation deadline."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Lei, Mic
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_lines, csv_response
from app.trades.confirmations import service
from app.trades.confirmations.auth import ConfirmationsRead, ConfirmationsWrite, Operations
from app.trades.confirmations.models import Confirmation
from app.trades.confirmations.schemas import (
    ConfirmationExceptionOut,
    ConfirmationIn,
    ConfirmationOut,
    ForceMatchIn,
    ForceMatchOut,
    ReasonOut,
    UnaffirmedTradeOut,
)
from app.trades.confirmations.states import ConfirmationStatus

router = APIRouter(tags=["Confirmation"])
# Its report sits with the other reports in the docs, one tag per operation.
reports_router = APIRouter(tags=["Reports"])


def _out(c: Confirmation) -> ConfirmationOut:
    proposal = None
    if c.force_match_proposed_by is not None:
        assert c.force_match_reason is not None  # set together with the proposer
        assert c.force_match_proposed_at is not None
        assert c.force_match_trade_id is not None
        proposal = ForceMatchOut(
            proposed_by=c.force_match_proposed_by,
            trade_id=c.force_match_trade_id,
            reason=c.force_match_reason,
            proposed_at=c.force_match_proposed_at,
            approved_by=c.force_match_approved_by,
        )
    return ConfirmationOut(
        id=c.id,
        confirmation_id=c.confirmation_id,
        counterparty_lei=c.counterparty_lei,
        trade_reference=c.trade_reference,
        isin=c.isin,
        side=c.side,
        quantity=c.quantity,
        price=c.price,
        currency=c.currency,
        trade_date=c.trade_date,
        settlement_date=c.settlement_date,
        net_amount=c.net_amount,
        accrued_interest=c.accrued_interest,
        status=ConfirmationStatus(c.status),
        trade_id=c.trade_id,
        reasons=[ReasonOut(**r) for r in c.reasons],
        candidates=c.candidates,
        force_match=proposal,
        version=c.version,
        received_at=c.received_at,
        updated_at=c.updated_at,
    )


@router.post(
    "/confirmations",
    status_code=201,
    response_model=ConfirmationOut,
    responses=problem_responses(409),
    summary="Receive a counterparty's confirmation",
)
async def receive_confirmation(
    body: ConfirmationIn,
    request: Request,
    uow: Uow,
    actor: ConfirmationsWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Finds our trade (by `trade_reference`, else by economics), compares every field and
    answers `matched`, `unmatched` (with sese.024 reason codes and both values) or `alleged`
    (no trade of ours yet: it matches when the trade is booked). The trade moves to
    `confirmed` or `mismatched`. Several trades fitting equally are listed as `candidates`,
    with the proprietary reason `MULT`.

    Reasons: `DSEC` security, `DELN` direction, `DQUA` quantity, `DDEA` deal price, `NCRR`
    settlement currency (alone: amounts in different currencies are not compared), `DTRD`
    trade date, `DDAT` settlement date, `ACRU` accrued interest (when the confirmation states
    it), `DMON` settlement amount; prices and amounts within `/matching-tolerances`."""

    async def work(session: AsyncSession) -> ConfirmationOut:
        return _out(
            await service.receive_confirmation(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1/confirmations/{out['id']}",
    )


@router.get(
    "/confirmations/exceptions",
    response_model=Page[ConfirmationExceptionOut],
    responses=problem_responses(),
    summary="Unmatched and alleged confirmations, with their age",
)
async def confirmation_exceptions(
    uow: Uow,
    _actor: ConfirmationsRead,
    page: Paging,
    clock: Now,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
) -> Page[ConfirmationExceptionOut]:
    rows, cursor = await service.confirmation_exceptions(
        uow.session, page=page, counterparty_lei=counterparty_lei
    )
    now = clock()
    return Page(
        items=[
            ConfirmationExceptionOut(
                **_out(c).model_dump(), age_seconds=int((now - c.received_at).total_seconds())
            )
            for c in rows
        ],
        next_cursor=cursor,
    )


@router.get(
    "/confirmations",
    response_model=Page[ConfirmationOut],
    responses=problem_responses(),
    summary="List confirmations",
)
async def list_confirmations(
    uow: Uow,
    _actor: ConfirmationsRead,
    page: Paging,
    status: Annotated[ConfirmationStatus | None, Query()] = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    trade_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[ConfirmationOut]:
    rows, cursor = await service.list_confirmations(
        uow.session,
        page=page,
        statuses=(status,) if status else (),
        counterparty_lei=counterparty_lei,
        trade_id=trade_id,
    )
    return Page(items=[_out(c) for c in rows], next_cursor=cursor)


@router.get(
    "/confirmations/{confirmation_id}",
    response_model=ConfirmationOut,
    responses=problem_responses(404),
    summary="Get a confirmation",
    dependencies=[ISO_QUERY_DATES],
)
async def get_confirmation(
    confirmation_id: str, uow: Uow, _actor: ConfirmationsRead, as_of: AsOf = None
) -> ConfirmationOut:
    return _out(
        await service.get_confirmation(uow.session, confirmation_id=confirmation_id, as_of=as_of)
    )


@router.post(
    "/confirmations/{confirmation_id}/force-match",
    response_model=ConfirmationOut,
    responses={
        **problem_responses(404, 409),
        202: {"model": ConfirmationOut, "description": "Proposed; awaiting a second key"},
    },
    summary="Force-match (four-eyes: one operations key proposes, another approves)",
)
async def force_match(
    confirmation_id: str,
    body: ForceMatchIn,
    response: Response,
    uow: Uow,
    actor: Operations,
    clock: Now,
    trade_id: Annotated[str | None, Query(max_length=40)] = None,
) -> ConfirmationOut:
    """The first call proposes (202) with a reason, and `trade_id` when the confirmation is
    linked to no trade (alleged, or several candidates). The same call by another operations
    key approves it (200): the confirmation is `matched` and the trade `confirmed`. The
    proposer approving their own proposal is 403."""
    async with uow:
        confirmation, approved = await service.force_match(
            uow.session,
            confirmation_id=confirmation_id,
            reason=body.reason,
            trade_id=trade_id,
            actor=actor,
            now=clock(),
        )
        out = _out(confirmation)
    response.status_code = 200 if approved else 202
    return out


@reports_router.get(
    "/reports/unaffirmed",
    response_model=list[UnaffirmedTradeOut],
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Unconfirmed trades past or near their market's affirmation cutoff",
)
async def unaffirmed_report(
    uow: Uow,
    _actor: ConfirmationsRead,
    clock: Now,
    within_minutes: Annotated[int, Query(ge=0, le=7 * 24 * 60)] = 120,
    venue: Annotated[Mic | None, Query()] = None,
    book: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    report_format: FormatQuery = ReportFormat.JSON,
) -> list[UnaffirmedTradeOut] | StreamingResponse:
    """Most urgent first: overdue trades, then those whose cutoff is within `within_minutes`.
    CSV: the same fields, one row per trade."""
    now = clock()
    rows = await service.unaffirmed_trades(
        uow.session,
        now=now,
        within=timedelta(minutes=within_minutes),
        venue=venue,
        book=book,
        limit=limit,
    )
    items = [
        UnaffirmedTradeOut(
            trade_id=t.id,
            external_id=t.external_id,
            book=t.book,
            counterparty_lei=t.counterparty_lei,
            venue=t.venue,
            trade_date=t.trade_date,
            status=t.status,
            cutoff=d.cutoff,
            overdue=d.overdue,
            time_left_seconds=int(d.time_left.total_seconds()),
            overdue_by_seconds=int(d.overdue_by.total_seconds()),
        )
        for t, d in rows
    ]
    if report_format is ReportFormat.CSV:
        lines = csv_lines(tuple(UnaffirmedTradeOut.model_fields), (dict(item) for item in items))
        return csv_response(lines, filename=f"unaffirmed-{now.date()}")
    return items
