"""The reference data's generation: one row holding a random token that every change of the
tracked tables renews, in the change's own transaction (a trigger on each table does it,
migration 0032r, so no writer, the app's or anyone's, can change them unnoticed).

A process caches reference rows under the token it read before them (``app.reference.cached``)
and trusts them while the token it reads is the same: one cheap statement instead of one per
table."""

from typing import Any

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

# The tables whose every change (insert, update, delete, truncate) renews the token: the
# reference data ``load_reference`` answers from its cache.
TRACKED_TABLES = ("instruments", "markets", "market_closed_days", "books", "counterparties")


class ReferenceGeneration(Base):
    """One row (id 1), inserted by the migration, only ever updated after."""

    __tablename__ = "reference_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(40))


_TOKEN = select(ReferenceGeneration.token).where(ReferenceGeneration.id == 1)


async def current_token(session: AsyncSession) -> str | None:
    """The token as this transaction sees it; None when the row is missing (nothing cached)."""
    token: str | None = (await session.execute(_TOKEN)).scalar_one_or_none()
    return token


# asyncpg's own SQL: run on the driver's connection (``app.core.coalesce``).
_COMMITTED_GENERATION = "SELECT token FROM reference_generation WHERE id = 1"


async def committed_token(driver: Any, _keys: frozenset[None]) -> dict[None, str]:
    """The token as committed, read on asyncpg's connection ``driver`` outside any transaction
    (for ``app.core.coalesce``: one value, under the key None)."""
    token: str | None = await driver.fetchval(_COMMITTED_GENERATION)
    return {} if token is None else {None: token}
