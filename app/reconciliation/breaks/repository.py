"""Every query of breaks and their comments."""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.reconciliation.breaks.models import ReconciliationBreak

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
