"""Every query and lock of API keys."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys.models import ApiKey
from app.core.db import table_of
from app.core.pagination import PageRequest, fetch_page

_KEYS = table_of(ApiKey)
# Every request with a key runs it: built once, of table columns (no ORM compile step).
_LIVE_BY_HASH = select(_KEYS.c.id, _KEYS.c.role, _KEYS.c.name).where(
    _KEYS.c.key_hash == bindparam("b_hash"), _KEYS.c.revoked_at.is_(None)
)

# asyncpg's own SQL: run on the driver's connection (``app.core.coalesce``).
_LIVE_BY_HASHES = (
    "SELECT key_hash, id, role, name FROM api_keys "
    "WHERE key_hash = any($1::varchar[]) AND revoked_at IS NULL"
)


def add(session: AsyncSession, api_key: ApiKey) -> None:
    session.add(api_key)


async def get(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def lock(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id, with_for_update=True)


async def page(
    session: AsyncSession, *, page: PageRequest, include_revoked: bool
) -> tuple[Sequence[ApiKey], str | None]:
    statement = select(ApiKey)
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return await fetch_page(session, statement, ApiKey.id, page)


async def live_by_hash(session: AsyncSession, key_hash: str) -> Row[str, str, str] | None:
    """The id, role and name of the unrevoked key with this hash."""
    return (await session.execute(_LIVE_BY_HASH, {"b_hash": key_hash})).one_or_none()


async def live_by_hashes(driver: Any, key_hashes: Collection[str]) -> dict[str, Any]:
    """``live_by_hash`` for many hashes in one statement on asyncpg's connection ``driver``
    (PostgreSQL): by hash, each row's ``id``, ``role`` and ``name``."""
    rows = await driver.fetch(_LIVE_BY_HASHES, list(key_hashes))
    return {row["key_hash"]: row for row in rows}
