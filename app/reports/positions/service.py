"""Positions and cash balances as of a day, every page of the positions service."""

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import MAX_LIMIT, PageRequest, decode_cursor
from app.positions.balances import service as balances


async def positions_report(session: AsyncSession, *, as_of: date, basis: str) -> dict[str, Any]:
    """Every position on ``basis`` and every cash balance at the end of ``as_of``, as GET
    /positions and GET /cash-balances give them (same numbers, all pages)."""
    positions: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = PageRequest(limit=MAX_LIMIT, after=decode_cursor(cursor) if cursor else None)
        views, cursor = await balances.positions(session, basis=basis, as_of=as_of, page=page)
        positions += [asdict(view) for view in views]
        if cursor is None:
            break
    cash: list[dict[str, Any]] = []
    while True:
        page = PageRequest(limit=MAX_LIMIT, after=decode_cursor(cursor) if cursor else None)
        cash_views, cursor = await balances.cash_balances(session, as_of=as_of, page=page)
        cash += [asdict(view) for view in cash_views]
        if cursor is None:
            break
    return {"as_of": as_of, "basis": basis, "positions": positions, "cash": cash}
