"""CSDR penalty rates: add (audited, one per class and effective date) and read."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import Conflict
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.rates import repository
from app.reference.rates.models import PenaltyRate
from app.reference.rates.schemas import PenaltyRateIn

ENTITY = "penalty_rate"


async def create_penalty_rate(
    session: AsyncSession, *, data: PenaltyRateIn, actor: Actor, now: datetime
) -> PenaltyRate:
    existing = await repository.effective_from(
        session, csdr_class=data.csdr_class, effective_from=data.effective_from
    )
    if existing is not None:
        raise Conflict(
            f"A {data.csdr_class} rate effective from {data.effective_from} exists already "
            f"({existing.id}).",
        )
    rate = PenaltyRate(id=new_id("pnr"), **records.storage(data))
    return await records.create(session, rate, entity_type=ENTITY, actor=actor, now=now)


async def list_penalty_rates(
    session: AsyncSession, *, page: PageRequest, csdr_class: str | None
) -> tuple[Sequence[PenaltyRate], str | None]:
    return await repository.page(session, page, csdr_class=csdr_class)


@dataclass(frozen=True)
class RateRow:
    scope: str  # a CSDR class, or cash:<currency>
    rate: Decimal
    effective_from: date


async def every_penalty_rate(session: AsyncSession) -> list[RateRow]:
    """Every effective-dated rate, for the penalty calculation to pick the one in force."""
    return [
        RateRow(row.csdr_class, row.rate, row.effective_from)
        for row in await repository.every_rate(session)
    ]
