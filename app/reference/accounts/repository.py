"""Every query and lock of our accounts."""

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.accounts.models import Account
from app.reference.values import AccountRef

# Other domains get values read straight from the columns: no ORM row to build, track or expire.
_REF_COLUMNS = [getattr(Account, field.name) for field in fields(AccountRef)]


def _ref(row: Row[Any]) -> AccountRef:
    values = dict(row._mapping)
    values["markets"] = tuple(values["markets"])
    return AccountRef(**values)


async def get(session: AsyncSession, code: str, *, lock: bool = False) -> Account | None:
    return await session.get(Account, code, with_for_update=lock or None)


async def page(
    session: AsyncSession, page: PageRequest, *, kind: str | None, currency: str | None
) -> tuple[Sequence[Account], str | None]:
    statement = select(Account)
    if kind:
        statement = statement.where(Account.kind == kind)
    if currency:
        statement = statement.where(Account.currency == currency)
    return await fetch_page(session, statement, Account.code, page)


async def refs_by_code(session: AsyncSession, codes: list[str]) -> list[AccountRef]:
    statement = select(*_REF_COLUMNS).where(Account.code.in_(codes))
    return [_ref(row) for row in (await session.execute(statement)).all()]


async def every_ref(session: AsyncSession) -> list[AccountRef]:
    return [_ref(row) for row in (await session.execute(select(*_REF_COLUMNS))).all()]
