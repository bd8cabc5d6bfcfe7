"""Buy-in extension periods: add (audited, one per class and effective date) and read."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import Conflict
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.buy_in_periods import repository
from app.reference.buy_in_periods.models import BuyInExtensionPeriod
from app.reference.buy_in_periods.periods import ExtensionPeriods, Period
from app.reference.buy_in_periods.schemas import ExtensionPeriodIn

ENTITY = "buy_in_extension_period"


async def create_period(
    session: AsyncSession, *, data: ExtensionPeriodIn, actor: Actor, now: datetime
) -> BuyInExtensionPeriod:
    existing = await repository.effective_from(
        session, csdr_class=data.csdr_class, effective_from=data.effective_from
    )
    if existing is not None:
        raise Conflict(
            f"A {data.csdr_class} extension period effective from {data.effective_from} "
            f"exists already ({existing.id}).",
        )
    period = BuyInExtensionPeriod(id=new_id("bix"), **records.storage(data))
    return await records.create(session, period, entity_type=ENTITY, actor=actor, now=now)


async def list_periods(
    session: AsyncSession, *, page: PageRequest, csdr_class: str | None
) -> tuple[Sequence[BuyInExtensionPeriod], str | None]:
    return await repository.page(session, page, csdr_class=csdr_class)


async def extension_periods(session: AsyncSession) -> ExtensionPeriods:
    """Every period on file, to ask which is in force for a class on a day."""
    return ExtensionPeriods(
        Period(row.csdr_class, row.business_days, row.effective_from)
        for row in await repository.every(session)
    )
