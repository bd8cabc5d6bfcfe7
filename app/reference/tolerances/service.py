"""Matching tolerances: create, amend, read (audited); a currency's tolerance for the
confirmation matching as a ``MatchingToleranceRef`` value."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.tolerances import repository
from app.reference.tolerances.models import MatchingTolerance
from app.reference.tolerances.schemas import MatchingToleranceIn, MatchingTolerancePatch
from app.reference.values import MatchingToleranceRef

ENTITY = "matching_tolerance"


async def create_matching_tolerance(
    session: AsyncSession, *, data: MatchingToleranceIn, actor: Actor, now: datetime
) -> MatchingTolerance:
    tolerance = MatchingTolerance(**records.storage(data))
    return await records.create(session, tolerance, entity_type=ENTITY, actor=actor, now=now)


async def update_matching_tolerance(
    session: AsyncSession,
    *,
    currency: str,
    patch: MatchingTolerancePatch,
    version: int,
    actor: Actor,
    now: datetime,
) -> MatchingTolerance:
    tolerance = records.found(await repository.get(session, currency, lock=True), ENTITY, currency)
    return await records.update(
        session,
        tolerance,
        records.changes(MatchingTolerance, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
    )


async def get_matching_tolerance(
    session: AsyncSession, *, currency: str, as_of: datetime | None = None
) -> MatchingTolerance:
    """The matching tolerance now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, MatchingTolerance, ENTITY, currency, as_of)
    return records.found(await repository.get(session, currency), ENTITY, currency)


async def list_matching_tolerances(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[MatchingTolerance], str | None]:
    return await repository.page(session, page)


# For other domains -------------------------------------------------------------------------


async def find_matching_tolerance(
    session: AsyncSession, *, currency: str
) -> MatchingToleranceRef | None:
    """The tolerance for a currency, or None: then matching is exact."""
    return await repository.ref(session, currency)
