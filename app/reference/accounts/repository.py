"""Every query and lock of our accounts."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.accounts.models import Account


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


async def by_code(session: AsyncSession, codes: list[str]) -> Sequence[Account]:
    return (await session.scalars(select(Account).where(Account.code.in_(codes)))).all()


async def every_account(session: AsyncSession) -> Sequence[Account]:
    return (await session.scalars(select(Account))).all()
