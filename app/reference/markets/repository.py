"""Every query and lock of markets and their closed days."""

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.markets.models import Market, MarketClosedDay
from app.reference.values import MarketRef

# Other domains get values read straight from the columns: no ORM row to build, track or expire.
_REF_COLUMNS = [getattr(Market, field.name) for field in fields(MarketRef)]


def _ref(row: Row[Any]) -> MarketRef:
    values = dict(row._mapping)
    values["settlement_calendars"] = tuple(values["settlement_calendars"])
    values["settlement_cycle_days"] = tuple(values["settlement_cycle_days"])
    values["partial_cash_thresholds"] = {
        currency: Decimal(threshold)
        for currency, threshold in values["partial_cash_thresholds"].items()
    }
    values["partial_settlement_windows"] = tuple(values["partial_settlement_windows"])
    return MarketRef(**values)


async def get(session: AsyncSession, mic: str, *, lock: bool = False) -> Market | None:
    return await session.get(Market, mic, with_for_update=lock or None)


async def page(session: AsyncSession, page: PageRequest) -> tuple[Sequence[Market], str | None]:
    return await fetch_page(session, select(Market), Market.mic, page)


async def ref(session: AsyncSession, mic: str) -> MarketRef | None:
    row = (await session.execute(select(*_REF_COLUMNS).where(Market.mic == mic))).first()
    return None if row is None else _ref(row)


async def refs_by_mic(session: AsyncSession, mics: Iterable[str]) -> list[MarketRef]:
    statement = select(*_REF_COLUMNS).where(Market.mic.in_(list(set(mics))))
    return [_ref(row) for row in (await session.execute(statement)).all()]


async def closed_days_of_market(session: AsyncSession, mic: str) -> Sequence[MarketClosedDay]:
    statement = (
        select(MarketClosedDay).where(MarketClosedDay.mic == mic).order_by(MarketClosedDay.day)
    )
    return (await session.scalars(statement)).all()


async def closed_days_by_mic(session: AsyncSession, mics: Iterable[str]) -> dict[str, list[date]]:
    statement = select(MarketClosedDay.mic, MarketClosedDay.day).where(
        MarketClosedDay.mic.in_(list(mics))
    )
    closed: dict[str, list[date]] = {}
    for mic, day in (await session.execute(statement)).all():
        closed.setdefault(mic, []).append(day)
    return closed


async def mics_settling(session: AsyncSession, mode: str) -> list[str]:
    """The markets whose ``settlement_mode`` is ``mode``."""
    statement = select(Market.mic).where(Market.settlement_mode == mode).order_by(Market.mic)
    return list((await session.scalars(statement)).all())
