"""Obligation routes: what clearing made, each with the trades it nets."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.clearing.auth import ClearingRead
from app.clearing.obligations import service
from app.clearing.obligations.schemas import ObligationOut
from app.core.deps import AsOf, Paging, Uow
from app.core.errors import problem_responses
from app.core.identifiers import Isin, Lei
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES

router = APIRouter(tags=["Clearing"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/obligations",
    response_model=Page[ObligationOut],
    responses=problem_responses(),
    summary="Settlement obligations, each with the trades it nets (lineage)",
)
async def list_obligations(
    uow: Uow,
    _actor: ClearingRead,
    page: Paging,
    run_id: Annotated[str | None, Query(max_length=40)] = None,
    settlement_date: date | None = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    isin: Annotated[Isin | None, Query()] = None,
) -> Page[ObligationOut]:
    rows, cursor = await service.list_obligations(
        uow.session,
        page=page,
        run_id=run_id,
        settlement_date=settlement_date,
        counterparty_lei=counterparty_lei,
        isin=isin,
    )
    return Page(items=[ObligationOut.of(row) for row in rows], next_cursor=cursor)


@router.get(
    "/obligations/{obligation_id}",
    response_model=ObligationOut,
    responses=problem_responses(404),
    summary="One obligation",
)
async def get_obligation(
    obligation_id: str, uow: Uow, _actor: ClearingRead, as_of: AsOf = None
) -> ObligationOut:
    """With `as_of`: its totals then, and `trade_ids` the trades cleared into it by then."""
    found = await service.get_obligation(uow.session, obligation_id=obligation_id, as_of=as_of)
    return ObligationOut.of(found)
