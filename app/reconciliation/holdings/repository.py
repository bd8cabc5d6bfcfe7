"""Every query of holdings files, statements and lines."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.holdings.models import HoldingsFile, HoldingsLine, HoldingsStatement

# account, statement id, statement date, page: what is received once
StatementKey = tuple[str, str, date, int]


async def add_file(session: AsyncSession, row: HoldingsFile) -> None:
    session.add(row)
    await session.flush()


async def add_statement(
    session: AsyncSession, row: HoldingsStatement, lines: Sequence[HoldingsLine]
) -> None:
    session.add(row)
    await session.flush()  # the statement before its lines (their foreign key)
    session.add_all(lines)
    await session.flush()


async def received(session: AsyncSession, keys: Sequence[StatementKey]) -> list[HoldingsStatement]:
    """The stored statements with any of these keys."""
    if not keys:
        return []
    statement = select(HoldingsStatement).where(
        tuple_(
            HoldingsStatement.account,
            HoldingsStatement.statement_id,
            HoldingsStatement.statement_date,
            HoldingsStatement.page,
        ).in_(list(keys))
    )
    return list((await session.scalars(statement)).all())


async def get(session: AsyncSession, statement_id: str) -> HoldingsStatement | None:
    return await session.get(HoldingsStatement, statement_id)


async def lines_of(session: AsyncSession, statement_ids: Sequence[str]) -> list[HoldingsLine]:
    """The lines of these statements, statement by statement in the order given, each in the
    order the custodian listed them."""
    if not statement_ids:
        return []
    statement = select(HoldingsLine).where(HoldingsLine.holdings_statement_id.in_(statement_ids))
    rank = {statement_id: index for index, statement_id in enumerate(statement_ids)}
    rows = (await session.scalars(statement)).all()
    return sorted(rows, key=lambda line: (rank[line.holdings_statement_id], line.line_number))


async def statements_on(
    session: AsyncSession, *, account: str, statement_date: date
) -> list[HoldingsStatement]:
    """Every statement (page) of an account for a date, in the order received."""
    statement = (
        select(HoldingsStatement)
        .where(
            HoldingsStatement.account == account,
            HoldingsStatement.statement_date == statement_date,
        )
        .order_by(HoldingsStatement.received_at, HoldingsStatement.id)
    )
    return list((await session.scalars(statement)).all())


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    account: str | None,
    statement_date: date | None,
) -> tuple[Sequence[HoldingsStatement], str | None]:
    """A page of statements in id order (the order received), filtered by whichever is given."""
    statement = select(HoldingsStatement)
    if account is not None:
        statement = statement.where(HoldingsStatement.account == account)
    if statement_date is not None:
        statement = statement.where(HoldingsStatement.statement_date == statement_date)
    return await fetch_page(session, statement, HoldingsStatement.id, page)
