"""Leader election among processes: one holder of a named lock does a job at a time.

On PostgreSQL the lock is a session-level advisory lock held on a dedicated connection for as
long as the holder leads: a process that dies or loses its connection releases it, and another
takes over at its next try. SQLite has no such lock; there the database's own write lock
orders whoever works, so every process leads (the job must be safe to run twice at once).
"""

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership:
    """Whether this process leads, and a way to check it still does."""

    def __init__(self, connection: AsyncConnection | None) -> None:
        self._connection = connection

    @property
    def connection(self) -> AsyncConnection | None:
        """The lock's own connection (None on SQLite): what runs on it runs only while the lock
        is held, and fails once it is lost."""
        return self._connection

    async def still_held(self) -> None:
        """Raise if the lock's connection is gone (the lock went with it)."""
        if self._connection is not None:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()


@asynccontextmanager
async def lead(engine: AsyncEngine, name: str) -> AsyncIterator[Leadership | None]:
    """Yield a ``Leadership`` when this process holds ``name``'s lock, None when another does."""
    if engine.dialect.name != "postgresql":
        yield Leadership(None)
        return
    key = lock_key(name)
    connection = await engine.connect()
    try:
        held = (
            await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        ).scalar_one()
        await connection.commit()
        if not held:
            yield None
            return
        try:
            yield Leadership(connection)
        finally:
            # A statement that failed on the lock's connection (a check cut short) leaves its
            # transaction to be rolled back before the unlock can run.
            await connection.rollback()
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            await connection.commit()
    except BaseException:
        # Never hand a connection that may still hold the lock back to the pool.
        await connection.invalidate()
        raise
    finally:
        await connection.close()
