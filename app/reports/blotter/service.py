"""The trade blotter: the trades of a trade-date range, from the trades service."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldProblem, ValidationFailed
from app.trades.capture import service as trades

MAX_DAYS = 366
COLUMNS = trades.REPORT_FIELDS


def check_range(start: date, end: date) -> None:
    """``from`` on or before ``to``, at most ``MAX_DAYS`` days apart (422 otherwise)."""
    if end < start:
        raise ValidationFailed(
            f"from {start} is after to {end}.",
            errors=[FieldProblem("to", "must not be before from")],
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            f"A blotter covers at most {MAX_DAYS} days; ask for {start} to {end} in parts.",
            errors=[FieldProblem("to", f"at most {MAX_DAYS} days after from, inclusive")],
        )


def blotter(session: AsyncSession, *, start: date, end: date) -> AsyncIterator[dict[str, Any]]:
    """Every trade dated ``start`` to ``end`` (inclusive), whatever its status, in id order,
    read a chunk at a time."""
    check_range(start, end)
    return trades.trades_dated(session, start=start, end=end)
