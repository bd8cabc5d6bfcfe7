"""Calendar routes: business days of a market."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import Uow
from app.core.errors import problem_responses
from app.core.query_dates import ISO_QUERY_DATES
from app.reference.auth import ReferenceRead
from app.reference.calendars import service
from app.reference.calendars.schemas import BusinessDaysOut

router = APIRouter(prefix="/calendars", tags=["Markets"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/{mic}/business-days", response_model=BusinessDaysOut, responses=problem_responses(404)
)
async def business_days(
    mic: str,
    uow: Uow,
    _actor: ReferenceRead,
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    kind: Annotated[str, Query(pattern="^(trading|settlement)$")] = "trading",
) -> BusinessDaysOut:
    """Business days in [from, to] of the market's trading or settlement calendar."""
    days = await service.business_days(uow.session, mic=mic.upper(), kind=kind, from_=from_, to=to)
    return BusinessDaysOut(mic=days.mic, calendars=days.calendars, business_days=days.business_days)
