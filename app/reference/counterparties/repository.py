"""Every query and lock of counterparties."""

from collections.abc import Sequence
from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.counterparties.models import Counterparty
from app.reference.values import CounterpartyRef

# Other domains get values read straight from the columns: no ORM row to build, track or expire.
_REF_COLUMNS = [getattr(Counterparty, field.name) for field in fields(CounterpartyRef)]


async def get(session: AsyncSession, lei: str, *, lock: bool = False) -> Counterparty | None:
    return await session.get(Counterparty, lei, with_for_update=lock or None)


async def page(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[Counterparty], str | None]:
    return await fetch_page(session, select(Counterparty), Counterparty.lei, page)


async def existing_leis(session: AsyncSession, leis: list[str]) -> set[str]:
    statement = select(Counterparty.lei).where(Counterparty.lei.in_(leis))
    return set((await session.scalars(statement)).all())


async def ref(session: AsyncSession, lei: str) -> CounterpartyRef | None:
    row = (await session.execute(select(*_REF_COLUMNS).where(Counterparty.lei == lei))).first()
    return None if row is None else CounterpartyRef(**row._mapping)


async def refs_by_lei(session: AsyncSession, leis: list[str]) -> list[CounterpartyRef]:
    statement = select(*_REF_COLUMNS).where(Counterparty.lei.in_(leis))
    return [CounterpartyRef(**row._mapping) for row in (await session.execute(statement)).all()]


async def every_ref(session: AsyncSession) -> list[CounterpartyRef]:
    rows = (await session.execute(select(*_REF_COLUMNS))).all()
    return [CounterpartyRef(**row._mapping) for row in rows]
