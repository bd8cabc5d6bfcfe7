"""Counterparties: create, amend, read (audited); counterparties for other domains as
``CounterpartyRef`` values."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.counterparties import repository
from app.reference.counterparties.models import Counterparty
from app.reference.counterparties.schemas import CounterpartyIn, CounterpartyPatch
from app.reference.values import CounterpartyRef

ENTITY = "counterparty"


async def create_counterparty(
    session: AsyncSession, *, data: CounterpartyIn, actor: Actor, now: datetime
) -> Counterparty:
    counterparty = Counterparty(**records.storage(data))
    return await records.create(session, counterparty, entity_type=ENTITY, actor=actor, now=now)


async def update_counterparty(
    session: AsyncSession,
    *,
    lei: str,
    patch: CounterpartyPatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> Counterparty:
    counterparty = records.found(await repository.get(session, lei, lock=True), ENTITY, lei)
    return await records.update(
        session,
        counterparty,
        records.changes(Counterparty, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
    )


async def get_counterparty(
    session: AsyncSession, *, lei: str, as_of: datetime | None = None
) -> Counterparty:
    """The counterparty now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, Counterparty, ENTITY, lei, as_of)
    return records.found(await repository.get(session, lei), ENTITY, lei)


async def list_counterparties(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[Counterparty], str | None]:
    return await repository.page(session, page)


async def counterparty_exists(session: AsyncSession, *, lei: str) -> bool:
    return await repository.get(session, lei) is not None


# For other domains -------------------------------------------------------------------------


async def get_counterparty_ref(session: AsyncSession, *, lei: str) -> CounterpartyRef:
    return records.found(await repository.ref(session, lei), ENTITY, lei)


async def known_leis(session: AsyncSession, *, leis: Iterable[str]) -> set[str]:
    """Those of ``leis`` that are counterparties."""
    return await repository.existing_leis(session, list(set(leis)))


async def counterparties_by_lei(
    session: AsyncSession, *, leis: Iterable[str]
) -> dict[str, CounterpartyRef]:
    return {c.lei: c for c in await repository.refs_by_lei(session, list(set(leis)))}


async def every_counterparty(session: AsyncSession) -> dict[str, CounterpartyRef]:
    return {c.lei: c for c in await repository.every_ref(session)}
