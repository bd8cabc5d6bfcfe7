"""Every query of matches and the items they hold."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import bulk
from app.core.any_of import any_of
from app.core.db import table_of
from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.matches.models import MatchedItem, ReconciliationMatch

_IDS_PER_QUERY = 500


async def add_columns(
    session: AsyncSession, matches: Mapping[str, Sequence[Any]], items: Mapping[str, Sequence[Any]]
) -> None:
    """Matches and their items given column by column (COPY for many on PostgreSQL, else one
    INSERT each). The unique key on (item_kind, item_id) refuses an item already held by
    another match (``IntegrityError``)."""
    await session.run_sync(bulk.write_columns, table_of(ReconciliationMatch), matches)
    await session.run_sync(bulk.write_columns, table_of(MatchedItem), items)


async def holders(
    session: AsyncSession, *, item_kind: str, item_ids: Iterable[str]
) -> dict[str, str]:
    """The active match holding each of these items, by item id (free items are absent): one
    statement on PostgreSQL, ``_IDS_PER_QUERY`` ids a statement elsewhere."""
    wanted = sorted(set(item_ids))
    step = len(wanted) or 1
    if session.get_bind().dialect.name != "postgresql":
        step = _IDS_PER_QUERY
    held: dict[str, str] = {}
    for start in range(0, len(wanted), step):
        statement = select(MatchedItem.item_id, MatchedItem.match_id).where(
            MatchedItem.item_kind == item_kind,
            any_of(MatchedItem.item_id, wanted[start : start + step]),
        )
        held |= {row.item_id: row.match_id for row in (await session.execute(statement)).all()}
    return held


async def get(
    session: AsyncSession, match_id: str, *, lock: bool = False
) -> ReconciliationMatch | None:
    return await session.get(
        ReconciliationMatch, match_id, with_for_update=lock, populate_existing=lock
    )


async def free_items(session: AsyncSession, match_id: str) -> None:
    await session.execute(delete(MatchedItem).where(MatchedItem.match_id == match_id))


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    account: str | None,
    value_date: date | None,
    status: str | None,
) -> tuple[Sequence[ReconciliationMatch], str | None]:
    statement = select(ReconciliationMatch)
    if account is not None:
        statement = statement.where(ReconciliationMatch.account == account)
    if value_date is not None:
        statement = statement.where(ReconciliationMatch.value_date == value_date)
    if status is not None:
        statement = statement.where(ReconciliationMatch.status == status)
    return await fetch_page(session, statement, ReconciliationMatch.id, page)
