"""Every query and lock of standing settlement instructions."""

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.ssis.models import Ssi
from app.reference.values import SsiRef

# Other domains get values read straight from the columns: no ORM row to build, track or expire.
_REF_COLUMNS = [getattr(Ssi, field.name) for field in fields(SsiRef)]


async def get(session: AsyncSession, ssi_id: str, *, lock: bool = False) -> Ssi | None:
    return await session.get(Ssi, ssi_id, with_for_update=lock or None)


async def page(
    session: AsyncSession,
    page: PageRequest,
    *,
    counterparty_lei: str | None,
    mic: str | None,
    currency: str | None,
) -> tuple[Sequence[Ssi], str | None]:
    statement: Select[Any] = select(Ssi)
    if counterparty_lei:
        statement = statement.where(Ssi.counterparty_lei == counterparty_lei)
    if mic:
        statement = statement.where(Ssi.mic == mic)
    if currency:
        statement = statement.where(Ssi.currency == currency)
    return await fetch_page(session, statement, Ssi.id, page)


async def refs_of_counterparties(session: AsyncSession, leis: list[str]) -> list[SsiRef]:
    statement = select(*_REF_COLUMNS).where(Ssi.counterparty_lei.in_(leis)).order_by(Ssi.id)
    return [SsiRef(**row._mapping) for row in (await session.execute(statement)).all()]
