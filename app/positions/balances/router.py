"""Positions and cash balances over HTTP, as of any day."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import Now, Paging, Uow
from app.core.errors import FieldProblem, ValidationFailed, problem_responses
from app.core.identifiers import Currency, Isin
from app.core.moments import UtcDateTime
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.positions.balances import service
from app.positions.balances.auth import PositionsRead
from app.positions.balances.schemas import Basis, CashBalanceOut, PositionOut

AsOf = Annotated[
    date | None,
    Query(
        description="The effective view at the end of this day (default: the day of "
        "`known_at`, else today): trades by trade date, settlements and cash by value date, "
        "whenever they were booked. A late fact changes the answer for the days it covers."
    ),
]
KnownAt = Annotated[
    UtcDateTime | None,
    Query(
        description="What the book said at this moment (ISO 8601 with offset): only entries "
        "booked by then. Such an answer never changes; balances at zero are left out."
    ),
]


def _views_of(
    clock: Now, as_of: date | None, known_at: datetime | None
) -> tuple[date, datetime | None]:
    """The effective day and booking moment an answer is for; a moment to come is refused
    (what the book will say then is not known)."""
    now = clock()
    if known_at is not None and known_at > now:
        raise ValidationFailed(
            f"known_at {known_at.isoformat()} has not come yet.",
            errors=[FieldProblem("known_at", "must not be later than now")],
        )
    default_day = known_at.astimezone(now.tzinfo).date() if known_at is not None else now.date()
    return as_of or default_day, known_at


Code = Annotated[str | None, Query(min_length=1, max_length=64)]

router = APIRouter(tags=["Positions"], dependencies=[ISO_QUERY_DATES])


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
    known_at: KnownAt = None,
    book: Code = None,
    account: Code = None,
    isin: Annotated[Isin | None, Query()] = None,
) -> Page[PositionOut]:
    """Trade-date basis: per book and ISIN, with weighted average cost and realised P&L (in the
    instrument's currency; commission, fees and accrued interest are booked apart). Settlement-
    date basis: per safekeeping account and ISIN, what has settled."""
    day, moment = _views_of(clock, as_of, known_at)
    views, cursor = await service.positions(
        uow.session,
        basis=basis.value,
        as_of=day,
        known_at=moment,
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
    known_at: KnownAt = None,
    account: Code = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[CashBalanceOut]:
    """Settled cash by value date, pending (settlements due and not yet settled or voided), and
    projected: settled plus pending."""
    day, moment = _views_of(clock, as_of, known_at)
    views, cursor = await service.cash_balances(
        uow.session, as_of=day, known_at=moment, page=page, account=account, currency=currency
    )
    return Page(
        items=[CashBalanceOut.model_validate(view, from_attributes=True) for view in views],
        next_cursor=cursor,
    )
