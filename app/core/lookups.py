"""Statements that touch a batch of rows by key, planned as lookups by key whatever the size of
the table.

Given a batch's keys as an array (``= ANY(:keys)``, ``FROM unnest(:keys, ...)``), PostgreSQL
plans from the array's length against the table's: a batch of thousands in a table not yet a
hundred times larger reads the whole table (a sequential scan, hashed) rather than look each
key up in its index. A run that goes through a table a batch at a time then reads the table
once per batch: its work grows with the square of the table. Looked up by key, a batch costs
what its rows cost (and a few thousand index lookups cost about what a scan of a table a few
times the batch does, so nothing is lost where the scan was chosen rightly)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_NO_SCAN = text(
    "SELECT current_setting('enable_seqscan') AS before, set_config('enable_seqscan', 'off', true)"
)
_RESTORE = text("SELECT set_config('enable_seqscan', :before, true)")


@asynccontextmanager
async def by_key(session: AsyncSession) -> AsyncIterator[None]:
    """Plan the statements sent meanwhile without sequential scans (on PostgreSQL; the setting
    is the transaction's, so an error that ends the transaction also ends it). On the way out
    the setting is put back as it was, so a caller that planned without scans already (or an
    operator who turned them off for the session) keeps its choice."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = (await session.execute(_NO_SCAN)).scalar_one()
    yield
    await session.execute(_RESTORE, {"before": before})
