"""Every query of obligations and their lineage."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.clearing.obligations.models import Obligation, ObligationTrade
from app.core.db import table_of
from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page

_OBLIGATIONS = table_of(Obligation)
TOTALS = ("net_quantity", "net_amount", "gross_quantity", "gross_amount", "trade_count")


async def get(session: AsyncSession, obligation_id: str) -> Obligation:
    obligation = await session.get(Obligation, obligation_id)
    if obligation is None:
        raise NotFound(f"No obligation '{obligation_id}'.")
    return obligation


async def page(
    session: AsyncSession, *, page: PageRequest, **filters: Any
) -> tuple[Sequence[Obligation], str | None]:
    statement = select(Obligation)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(Obligation, name) == value)
    return await fetch_page(session, statement, Obligation.id, page)


async def of_run(session: AsyncSession, run_id: str) -> Sequence[Obligation]:
    return (await session.scalars(select(Obligation).where(Obligation.run_id == run_id))).all()


async def trade_counts(session: AsyncSession, run_id: str) -> list[tuple[str, int]]:
    """The run's obligations in id order, each with how many trades it nets."""
    statement = (
        select(Obligation.id, Obligation.trade_count)
        .where(Obligation.run_id == run_id)
        .order_by(Obligation.id)
    )
    return [(obligation_id, count) for obligation_id, count in await session.execute(statement)]


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Obligation), rows)


async def update_totals(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row: the obligation's id as ``o_id`` and its new totals and direction."""
    if rows:
        await session.execute(
            update(_OBLIGATIONS)
            .where(_OBLIGATIONS.c.id == bindparam("o_id"))
            .values({name: bindparam(name) for name in (*TOTALS, "direction")}),
            rows,
        )


async def insert_lineage(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await session.execute(insert(ObligationTrade), rows)


async def trade_ids_of(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> dict[str, list[str]]:
    lineage: dict[str, list[str]] = {obligation_id: [] for obligation_id in obligation_ids}
    if obligation_ids:
        rows = await session.execute(
            select(ObligationTrade.obligation_id, ObligationTrade.trade_id)
            .where(ObligationTrade.obligation_id.in_(list(obligation_ids)))
            .order_by(ObligationTrade.trade_id)
        )
        for obligation_id, trade_id in rows.all():
            lineage[obligation_id].append(trade_id)
    return lineage
