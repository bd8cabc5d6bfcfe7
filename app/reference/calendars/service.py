"""Market calendars: the business days of a market's trading or settlement calendar, with the
days it is closed beyond them."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calendars import MAX_SPAN_DAYS, BusinessCalendar
from app.core.errors import FieldProblem, ValidationFailed
from app.core.pagination import PageRequest
from app.reference.markets import service as markets


@dataclass(frozen=True, slots=True)
class BusinessDays:
    mic: str
    calendars: list[str]
    business_days: list[date]


async def market_calendar(session: AsyncSession, *, mic: str, kind: str) -> BusinessCalendar:
    """The market's ``trading`` or ``settlement`` calendar."""
    market = await markets.get_market_ref(session, mic=mic)
    closed = (await markets.closed_days_by_mic(session, mics=[mic])).get(mic, [])
    if kind == "settlement":
        return market.settlement_calendar(closed)
    return market.trading_calendar(closed)


async def business_days(
    session: AsyncSession, *, mic: str, kind: str, from_: date, to: date
) -> BusinessDays:
    """Business days in [from, to] of the market's trading or settlement calendar."""
    if to < from_ or (to - from_).days > MAX_SPAN_DAYS:
        raise ValidationFailed(
            "'to' must be on or after 'from', at most ten years later.",
            errors=[FieldProblem("to", "must be on or after 'from', within ten years")],
        )
    calendar = await market_calendar(session, mic=mic, kind=kind)
    return BusinessDays(
        mic=mic,
        calendars=list(calendar.codes),
        business_days=list(calendar.business_days(from_, to)),
    )


async def settlement_calendars(session: AsyncSession) -> dict[str, BusinessCalendar]:
    """Every market's settlement calendar (with its closed days), by MIC."""
    rows, _ = await markets.list_markets(session, page=PageRequest(limit=1000))
    return {row.mic: await market_calendar(session, mic=row.mic, kind="settlement") for row in rows}


async def next_settlement_day(session: AsyncSession, *, after: date) -> date | None:
    """The earliest day after ``after`` that is a business day on any market's settlement
    calendar: the next day something can settle (None when no market is set up)."""
    found = (await settlement_calendars(session)).values()
    return min((calendar.add_business_days(after, 1) for calendar in found), default=None)
