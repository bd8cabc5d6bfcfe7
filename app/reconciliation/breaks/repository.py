"""Every query and lock of breaks and their comments: as runs find and close them, and as
operations work them."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.breaks.buckets import SinceRange
from app.reconciliation.breaks.models import BreakComment, ReconciliationBreak

# Found and closed by runs ----------------------------------------------------------------------

OPEN = "open"
CLOSED = "closed"
# IN lists stay well under every database's limit on bound parameters.
_KEYS_PER_QUERY = 500


async def by_keys(session: AsyncSession, keys: Iterable[str]) -> dict[str, ReconciliationBreak]:
    """The breaks stored under these keys, by key, read afresh."""
    wanted = sorted(set(keys))
    found: dict[str, ReconciliationBreak] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        part = wanted[start : start + _KEYS_PER_QUERY]
        statement = (
            select(ReconciliationBreak)
            .where(ReconciliationBreak.key.in_(part))
            .execution_options(populate_existing=True)
        )
        found |= {row.key: row for row in (await session.scalars(statement)).all()}
    return found


async def open_up_to(
    session: AsyncSession, *, account: str, up_to: date, kinds: Sequence[str]
) -> list[ReconciliationBreak]:
    """The account's open breaks of these kinds found for a day up to ``up_to``, oldest first."""
    statement = (
        select(ReconciliationBreak)
        .where(
            ReconciliationBreak.status == OPEN,
            ReconciliationBreak.account == account,
            ReconciliationBreak.value_date <= up_to,
            ReconciliationBreak.kind.in_(kinds),
        )
        .order_by(ReconciliationBreak.value_date, ReconciliationBreak.key)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


async def open_on(
    session: AsyncSession, *, account: str, value_date: date, kinds: Sequence[str]
) -> list[ReconciliationBreak]:
    """The account's open breaks of these kinds found for exactly ``value_date``."""
    statement = (
        select(ReconciliationBreak)
        .where(
            ReconciliationBreak.status == OPEN,
            ReconciliationBreak.account == account,
            ReconciliationBreak.value_date == value_date,
            ReconciliationBreak.kind.in_(kinds),
        )
        .order_by(ReconciliationBreak.key)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


async def add(session: AsyncSession, rows: Sequence[ReconciliationBreak]) -> None:
    session.add_all(rows)
    await session.flush()


# The workflow


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakFilter:
    account: str | None = None
    kind: str | None = None
    status: str | None = None
    owner: str | None = None
    from_date: date | None = None  # value date, inclusive
    to_date: date | None = None
    # Per account, the days a break may count from (an ageing bucket); None: any day.
    since: Mapping[str, SinceRange] | None = None


async def get(session: AsyncSession, break_id: str) -> ReconciliationBreak:
    found = await session.get(ReconciliationBreak, break_id)
    if found is None:
        raise NotFound(f"No break '{break_id}'.")
    return found


async def get_for_update(session: AsyncSession, break_id: str) -> ReconciliationBreak:
    """The break, locked until the transaction ends and read afresh under the lock."""
    await session.flush()
    found = await session.get(
        ReconciliationBreak, break_id, with_for_update=True, populate_existing=True
    )
    if found is None:
        raise NotFound(f"No break '{break_id}'.")
    return found


def _since_clause(ranges: Mapping[str, SinceRange]) -> Any:
    clauses = []
    for account, days in sorted(ranges.items()):
        conditions = [ReconciliationBreak.account == account]
        if days.earliest is not None:
            conditions.append(ReconciliationBreak.since >= days.earliest)
        if days.latest is not None:
            conditions.append(ReconciliationBreak.since <= days.latest)
        clauses.append(and_(*conditions))
    return or_(*clauses) if clauses else false()


async def page_of_breaks(
    session: AsyncSession, *, page: PageRequest, where: BreakFilter
) -> tuple[Sequence[ReconciliationBreak], str | None]:
    statement = select(ReconciliationBreak)
    equal = {
        ReconciliationBreak.account: where.account,
        ReconciliationBreak.kind: where.kind,
        ReconciliationBreak.status: where.status,
        ReconciliationBreak.owner: where.owner,
    }
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(column == value)
    if where.from_date is not None:
        statement = statement.where(ReconciliationBreak.value_date >= where.from_date)
    if where.to_date is not None:
        statement = statement.where(ReconciliationBreak.value_date <= where.to_date)
    if where.since is not None:
        statement = statement.where(_since_clause(where.since))
    return await fetch_page(session, statement, ReconciliationBreak.id, page)


async def every_open(session: AsyncSession) -> list[ReconciliationBreak]:
    """Every open break, oldest first (the day it counts from, then id)."""
    statement = (
        select(ReconciliationBreak)
        .where(ReconciliationBreak.status == OPEN)
        .order_by(ReconciliationBreak.since, ReconciliationBreak.id)
    )
    return list((await session.scalars(statement)).all())


async def accounts_with_breaks(session: AsyncSession) -> list[str]:
    statement = select(ReconciliationBreak.account).distinct().order_by(ReconciliationBreak.account)
    return list((await session.scalars(statement)).all())


async def comments_of(
    session: AsyncSession, break_ids: Sequence[str]
) -> dict[str, list[BreakComment]]:
    """Each break's comments, oldest first."""
    found: dict[str, list[BreakComment]] = {break_id: [] for break_id in break_ids}
    if not break_ids:
        return found
    statement = (
        select(BreakComment)
        .where(BreakComment.break_id.in_(list(break_ids)))
        .order_by(BreakComment.created_at, BreakComment.id)
    )
    for comment in await session.scalars(statement):
        found[comment.break_id].append(comment)
    return found


def add_comment(session: AsyncSession, comment: BreakComment) -> None:
    session.add(comment)


async def proposed_write_offs_for_update(
    session: AsyncSession, *, status: str, account: str | None
) -> Sequence[ReconciliationBreak]:
    """Breaks awaiting their write-off's decision (of one account, or all), locked, by id."""
    await session.flush()
    statement = select(ReconciliationBreak).where(ReconciliationBreak.status == status)
    if account is not None:
        statement = statement.where(ReconciliationBreak.account == account)
    statement = (
        statement.order_by(ReconciliationBreak.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).all()
