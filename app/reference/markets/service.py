"""Markets and their closed days: create, amend, read (audited); markets for other domains as
``MarketRef`` values."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.fields import check_cycle, check_terms
from app.reference.markets import repository
from app.reference.markets.models import Market, MarketClosedDay
from app.reference.markets.schemas import (
    ClosedDayIn,
    MarketIn,
    MarketPatch,
    check_market_terms,
    check_windows,
)
from app.reference.values import MarketRef

ENTITY = "market"
CLOSED_DAY = "market_closed_day"


async def create_market(
    session: AsyncSession, *, data: MarketIn, actor: Actor, now: datetime
) -> Market:
    values = records.storage(data)
    check_terms(values, check_cycle, check_windows)
    check_terms(values, check_market_terms)
    values["settlement_calendars"] = values["settlement_calendars"] or [data.calendar]
    market = Market(**values)
    return await records.create(session, market, entity_type=ENTITY, actor=actor, now=now)


async def update_market(
    session: AsyncSession,
    *,
    mic: str,
    patch: MarketPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Market:
    check_terms(records.storage(patch, only_sent=True), check_cycle, check_windows)
    market = records.found(await repository.get(session, mic, lock=True), ENTITY, mic)
    return await records.update(
        session,
        market,
        records.changes(Market, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
        check=check_market_terms,
    )


async def get_market(session: AsyncSession, *, mic: str, as_of: datetime | None = None) -> Market:
    """The market now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, Market, ENTITY, mic, as_of)
    return records.found(await repository.get(session, mic), ENTITY, mic)


async def list_markets(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[Market], str | None]:
    return await repository.page(session, page)


async def market_exists(session: AsyncSession, *, mic: str) -> bool:
    return await repository.get(session, mic) is not None


async def add_closed_day(
    session: AsyncSession, *, mic: str, data: ClosedDayIn, actor: Actor, now: datetime
) -> MarketClosedDay:
    await get_market(session, mic=mic)
    return await records.create(
        session,
        MarketClosedDay(mic=mic, day=data.day, reason=data.reason),
        entity_type=CLOSED_DAY,
        actor=actor,
        now=now,
    )


async def list_closed_days(session: AsyncSession, *, mic: str) -> Sequence[MarketClosedDay]:
    await get_market(session, mic=mic)
    return await repository.closed_days_of_market(session, mic)


# For other domains and the calendars ---------------------------------------------------------


async def get_market_ref(session: AsyncSession, *, mic: str) -> MarketRef:
    return records.found(await repository.ref(session, mic), ENTITY, mic)


async def markets_by_mic(session: AsyncSession, *, mics: Iterable[str]) -> dict[str, MarketRef]:
    return {market.mic: market for market in await repository.refs_by_mic(session, mics)}


async def closed_days_by_mic(
    session: AsyncSession, *, mics: Iterable[str]
) -> dict[str, list[date]]:
    """The days each market is closed beyond its holidays calendar."""
    return await repository.closed_days_by_mic(session, mics)


async def mics_at_csd(session: AsyncSession) -> list[str]:
    """The markets the depository settles (``settlement_mode`` ``csd``)."""
    return await repository.mics_settling(session, "csd")
