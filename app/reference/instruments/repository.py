"""Every query and lock of instruments."""

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.instruments.models import Instrument
from app.reference.values import InstrumentRef

# Other domains get values read straight from the columns: no ORM row to build, track or expire.
_REF_COLUMNS = [getattr(Instrument, field.name) for field in fields(InstrumentRef)]


def _ref(row: Row[Any]) -> InstrumentRef:
    values = dict(row._mapping)
    if values["settlement_cycle_days"] is not None:
        values["settlement_cycle_days"] = tuple(values["settlement_cycle_days"])
    return InstrumentRef(**values)


async def get(session: AsyncSession, isin: str, *, lock: bool = False) -> Instrument | None:
    return await session.get(Instrument, isin, with_for_update=lock or None)


async def page(
    session: AsyncSession,
    page: PageRequest,
    *,
    mic: str | None,
    type_: str | None,
    currency: str | None,
) -> tuple[Sequence[Instrument], str | None]:
    statement = select(Instrument)
    if mic:
        statement = statement.where(Instrument.mic == mic)
    if type_:
        statement = statement.where(Instrument.type == type_)
    if currency:
        statement = statement.where(Instrument.currency == currency)
    return await fetch_page(session, statement, Instrument.isin, page)


async def ref(session: AsyncSession, isin: str) -> InstrumentRef | None:
    row = (await session.execute(select(*_REF_COLUMNS).where(Instrument.isin == isin))).first()
    return None if row is None else _ref(row)


async def refs_by_isin(session: AsyncSession, isins: list[str]) -> list[InstrumentRef]:
    statement = select(*_REF_COLUMNS).where(Instrument.isin.in_(isins))
    return [_ref(row) for row in (await session.execute(statement)).all()]


async def isins_of_markets(session: AsyncSession, mics: list[str]) -> set[str]:
    statement = select(Instrument.isin).where(Instrument.mic.in_(mics))
    return set((await session.scalars(statement)).all())
