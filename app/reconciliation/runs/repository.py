"""The lock that makes one account's reconciliations (runs) take turns."""

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def lock_account(session: AsyncSession, account: str) -> None:
    """Two runs of one account at once would both see the same items free: the second waits
    for the first to commit. PostgreSQL: a transaction advisory lock; SQLite serialises writers
    already (and the unique keys of matched items and breaks hold either way)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"reconciliation:{account}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
