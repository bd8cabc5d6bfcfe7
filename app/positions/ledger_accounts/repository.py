"""Every query of the chart of accounts."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_insert
from app.core.pagination import PageRequest, fetch_page
from app.positions.ledger_accounts.models import LedgerAccount


async def existing_codes(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` are ledger accounts already."""
    return set(
        (
            await session.scalars(select(LedgerAccount.code).where(LedgerAccount.code.in_(codes)))
        ).all()
    )


async def insert_missing(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ledger accounts, leaving alone any that another writer inserted meanwhile."""
    statement = dialect_insert(session, LedgerAccount).on_conflict_do_nothing(
        index_elements=["code"]
    )
    await session.execute(statement, rows)


async def page_of_accounts(
    session: AsyncSession, *, page: PageRequest, kind: str | None
) -> tuple[Sequence[LedgerAccount], str | None]:
    statement = select(LedgerAccount)
    if kind is not None:
        statement = statement.where(LedgerAccount.kind == kind)
    return await fetch_page(session, statement, LedgerAccount.code, page)
