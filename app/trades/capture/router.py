"""Trade routes: parse, authorise, call the service, shape the answer."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import get_uow
from app.core.deps import AsOf, Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Isin, Lei
from app.core.lean_route import LeanRoute
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.versioning import etag, parse_if_match
from app.trades.capture import grouped, service
from app.trades.capture.auth import TradesRead, TradesWrite
from app.trades.capture.schemas import (
    BookCode,
    CancelIn,
    TradeBatchIn,
    TradeBatchOut,
    TradeHistoryEntry,
    TradeIn,
    TradeOut,
    TradePatch,
)
from app.trades.capture.states import TradeStatus

router = APIRouter(prefix="/trades", tags=["Trades"])


async def create_trade(
    body: TradeIn,
    request: Request,
    actor: TradesWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Validates the trade against reference data, computes the settlement date (when absent),
    gross, accrued interest (bonds) and net amounts, and books it as `captured`.

    The same `external_id` in the same book is 409, naming the trade already booked."""
    # The unit of work the key's check made (get_uow: one per request), not a dependency of
    # its own: FastAPI would solve it again at every request, the busiest route's.
    uow = await get_uow(request)
    return await grouped.create_trade(request, uow, data=body, actor=actor, now=clock(), key=key)


router.add_api_route(
    "",
    create_trade,
    methods=["POST"],
    status_code=201,
    response_model=TradeOut,
    responses=problem_responses(409),
    summary="Book a trade",
    route_class_override=LeanRoute,
)


@router.post(
    "/batch",
    status_code=200,
    response_model=TradeBatchOut,
    responses=problem_responses(),
    summary="Book up to 10,000 trades",
)
async def create_trade_batch(
    body: TradeBatchIn,
    request: Request,
    uow: Uow,
    actor: TradesWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """One result per item, in order: `created`, `duplicate` (the `external_id` is booked
    already; `id` names that trade) or `rejected` (with its problem). Good items are booked even
    when others are rejected."""

    async def work(session: AsyncSession) -> TradeBatchOut:
        results = await service.capture_batch(session, items=body.items, actor=actor, now=clock())
        return TradeBatchOut.of(results)

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


@router.get(
    "",
    response_model=Page[TradeOut],
    responses=problem_responses(),
    summary="List trades",
    dependencies=[ISO_QUERY_DATES],
)
async def list_trades(
    uow: Uow,
    _actor: TradesRead,
    page: Paging,
    status: Annotated[TradeStatus | None, Query()] = None,
    book: Annotated[BookCode | None, Query()] = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    isin: Annotated[Isin | None, Query()] = None,
    trade_date: Annotated[date | None, Query()] = None,
    settlement_date: Annotated[date | None, Query()] = None,
) -> Page[TradeOut]:
    rows, cursor = await service.list_trades(
        uow.session,
        page=page,
        status=status,
        book=book,
        counterparty_lei=counterparty_lei,
        isin=isin,
        trade_date=trade_date,
        settlement_date=settlement_date,
    )
    return Page(items=[TradeOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/{trade_id}",
    response_model=TradeOut,
    responses=problem_responses(404),
    summary="Get a trade",
    dependencies=[ISO_QUERY_DATES],
)
async def get_trade(
    trade_id: str,
    response: Response,
    uow: Uow,
    _actor: TradesRead,
    as_of: AsOf = None,
) -> TradeOut:
    if as_of is not None:
        snapshot = await service.trade_as_of(uow.session, trade_id=trade_id, as_of=as_of)
        out = TradeOut.model_validate(snapshot)
    else:
        out = TradeOut.model_validate(await service.get_trade(uow.session, trade_id=trade_id))
    response.headers["ETag"] = etag(out.version)
    return out


@router.patch(
    "/{trade_id}",
    response_model=TradeOut,
    responses=problem_responses(404, 409, 412, 428),
    summary="Amend a trade (before clearing)",
)
async def amend_trade(
    trade_id: str,
    body: TradePatch,
    response: Response,
    uow: Uow,
    actor: TradesWrite,
    clock: Now,
    version: Annotated[int, Depends(parse_if_match)],
) -> TradeOut:
    """Send `If-Match` with the version you read (412 when stale). The trade goes back to
    `captured` to be confirmed again; after clearing, amendment is 409."""
    async with uow:
        trade = await service.amend_trade(
            uow.session, trade_id=trade_id, patch=body, version=version, actor=actor, now=clock()
        )
        out = TradeOut.model_validate(trade)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    "/{trade_id}/cancel",
    response_model=TradeOut,
    responses=problem_responses(404, 409),
    summary="Cancel a trade (before clearing)",
)
async def cancel_trade(
    trade_id: str, body: CancelIn, uow: Uow, actor: TradesWrite, clock: Now
) -> TradeOut:
    async with uow:
        trade = await service.cancel_trade(
            uow.session, trade_id=trade_id, reason=body.reason, actor=actor, now=clock()
        )
        return TradeOut.model_validate(trade)


@router.get(
    "/{trade_id}/history",
    response_model=list[TradeHistoryEntry],
    responses=problem_responses(404),
    summary="Every change to a trade",
)
async def trade_history(trade_id: str, uow: Uow, _actor: TradesRead) -> list[TradeHistoryEntry]:
    records = await service.trade_history(uow.session, trade_id=trade_id)
    return [TradeHistoryEntry.model_validate(r, from_attributes=True) for r in records]
