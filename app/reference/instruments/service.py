"""Instruments: create, amend, read (audited); instruments for other domains as
``InstrumentRef`` values."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.fields import check_cycle, check_terms
from app.reference.instruments import repository
from app.reference.instruments.models import Instrument
from app.reference.instruments.schemas import InstrumentIn, InstrumentPatch, check_instrument_terms
from app.reference.markets import service as markets
from app.reference.values import InstrumentRef

ENTITY = "instrument"


async def create_instrument(
    session: AsyncSession, *, data: InstrumentIn, actor: Actor, now: datetime
) -> Instrument:
    check_terms(records.storage(data), check_cycle)
    check_terms(data.model_dump(), check_instrument_terms)
    records.known(await markets.market_exists(session, mic=data.mic), "mic", data.mic)
    instrument = Instrument(**records.storage(data))
    return await records.create(session, instrument, entity_type=ENTITY, actor=actor, now=now)


async def update_instrument(
    session: AsyncSession,
    *,
    isin: str,
    patch: InstrumentPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Instrument:
    check_terms(records.storage(patch, only_sent=True), check_cycle)
    instrument = records.found(await repository.get(session, isin, lock=True), ENTITY, isin)
    return await records.update(
        session,
        instrument,
        records.changes(Instrument, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
        check=check_instrument_terms,
    )


async def get_instrument(
    session: AsyncSession, *, isin: str, as_of: datetime | None = None
) -> Instrument:
    """The instrument now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, Instrument, ENTITY, isin, as_of)
    return records.found(await repository.get(session, isin), ENTITY, isin)


async def list_instruments(
    session: AsyncSession,
    *,
    page: PageRequest,
    mic: str | None,
    type_: str | None,
    currency: str | None,
) -> tuple[Sequence[Instrument], str | None]:
    return await repository.page(session, page, mic=mic, type_=type_, currency=currency)


async def instrument_exists(session: AsyncSession, *, isin: str) -> bool:
    return await repository.get(session, isin) is not None


# For other domains -------------------------------------------------------------------------


async def get_instrument_ref(session: AsyncSession, *, isin: str) -> InstrumentRef:
    return records.found(await repository.ref(session, isin), ENTITY, isin)


async def instruments_by_isin(
    session: AsyncSession, *, isins: Iterable[str]
) -> dict[str, InstrumentRef]:
    wanted = list(set(isins))
    if not wanted:
        return {}
    return {i.isin: i for i in await repository.refs_by_isin(session, wanted)}


async def isins_of_markets(session: AsyncSession, *, mics: list[str]) -> set[str]:
    return await repository.isins_of_markets(session, mics)
