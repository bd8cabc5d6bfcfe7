"""Closing prices: record (audited) and read."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import FieldProblem, ValidationFailed
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.instruments import service as instruments
from app.reference.prices import repository
from app.reference.prices.models import Price
from app.reference.prices.schemas import PriceIn

ENTITY = "price"


async def create_price(
    session: AsyncSession, *, data: PriceIn, actor: Actor, now: datetime
) -> Price:
    records.known(await instruments.instrument_exists(session, isin=data.isin), "isin", data.isin)
    price = Price(**records.storage(data))
    return await records.create(session, price, entity_type=ENTITY, actor=actor, now=now)


async def list_prices(
    session: AsyncSession, *, page: PageRequest, isin: str | None, on: date | None
) -> tuple[Sequence[Price], str | None]:
    # Keyset on a composite key is not needed here: filter to one date and page by ISIN, or to
    # one ISIN and page by date (both filters: at most one row).
    if on is not None:
        return await repository.page_on(session, page, on=on, isin=isin)
    if isin is None:
        raise ValidationFailed(
            "Filter prices by isin or by date.",
            errors=[FieldProblem("isin", "isin or date is required")],
        )
    return await repository.page_of(session, page, isin=isin)


async def latest_prices(
    session: AsyncSession, *, isins: Iterable[str], on: date
) -> dict[str, tuple[date, Decimal]]:
    """For other domains: each ISIN's last closing price on or before ``on``, as ``{isin:
    (price date, price)}``; an ISIN with no such price is absent (never a zero price)."""
    wanted = sorted(set(isins))
    return await repository.latest_on_or_before(session, wanted, on) if wanted else {}


async def prices_of(session: AsyncSession, *, isins: Sequence[str], on: date) -> dict[str, Decimal]:
    """Per ISIN, its closing (reference) price on ``on``; an ISIN without one is absent."""
    return {row.isin: row.price for row in await repository.prices_on(session, isins=isins, on=on)}
