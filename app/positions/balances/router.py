"""Positions and cash balances over HTTP, as of any day."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.identifiers import Currency, Isin
from app.core.pagination import Page
from app.positions.balances import service
from app.positions.balances.auth import PositionsRead
from app.positions.balances.schemas import Basis, CashBalanceOut, PositionOut

AsOf = Annotated[
    date | None,
    Query(
        description="End of this accounting day (default: today). Later activity never "
        "changes an answer for a day that has passed."
    ),
]
Code = Annotated[str | None, Query(min_length=1, max_length=64)]

router = APIRouter(tags=["Positions and cash"])


@router.get(
    "/positions",
    response_model=Page[PositionOut],
    responses=problem_responses(),
    summary="Positions as of any day, on the trade-date or the settlement-date basis",
)
async def list_positions(
    uow: Uow,
    _actor: PositionsRead,
    page: Paging,
    clock: Now,
    basis: Basis = Basis.TRADE_DATE,
    as_of: AsOf = None,
    book: Code = None,
    account: Code = None,
    isin: Annotated[Isin | None, Query()] = None,
) -> Page[PositionOut]:
    """Trade-date basis: per book and ISIN, with weighted average cost and realised P&L (in the
    instrument's currency; commission, fees and accrued interest are booked apart). Settlement-
    date basis: per safekeeping account and ISIN, what has settled."""
    views, cursor = await service.positions(
        uow.session,
        basis=basis.value,
        as_of=as_of or clock().date(),
        page=page,
        book=book,
        account=account,
        isin=isin,
    )
    return Page(
        items=[PositionOut.model_validate(view, from_attributes=True) for view in views],
        next_cursor=cursor,
    )


@router.get(
    "/cash-balances",
    response_model=Page[CashBalanceOut],
    responses=problem_responses(),
    summary="Settled and projected cash per account and currency, as of any day",
)
async def list_cash_balances(
    uow: Uow,
    _actor: PositionsRead,
    page: Paging,
    clock: Now,
    as_of: AsOf = None,
    account: Code = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[CashBalanceOut]:
    views, cursor = await service.cash_balances(
        uow.session, as_of=as_of or clock().date(), page=page, account=account, currency=currency
    )
    return Page(
        items=[CashBalanceOut.model_validate(view, from_attributes=True) for view in views],
        next_cursor=cursor,
    )
