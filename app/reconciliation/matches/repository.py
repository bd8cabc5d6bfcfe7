"""Every query of matches and the items they hold."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import table_of
from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.matches.models import MatchedItem, ReconciliationMatch

_IDS_PER_QUERY = 500


async def add_many(
    session: AsyncSession, matches: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]
) -> None:
    """Matches and their items as plain rows, in one INSERT each (a run stores thousands). The
    unique key on (item_kind, item_id) refuses an item already held by another match."""
    if matches:
        await session.execute(insert(table_of(ReconciliationMatch)), list(matches))
    if items:
        await session.execute(insert(table_of(MatchedItem)), list(items))


async def holders(
    session: AsyncSession, *, item_kind: str, item_ids: Iterable[str]
) -> dict[str, str]:
    """The active match holding each of these items, by item id (free items are absent)."""
    wanted = sorted(set(item_ids))
    held: dict[str, str] = {}
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        statement = select(MatchedItem.item_id, MatchedItem.match_id).where(
            MatchedItem.item_kind == item_kind,
            MatchedItem.item_id.in_(wanted[start : start + _IDS_PER_QUERY]),
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
