"""Every query and lock of API keys."""

from collections.abc import Collection, Sequence

from sqlalchemy import Row, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.apikeys.models import ApiKey
from app.core.db import table_of
from app.core.pagination import PageRequest, fetch_page

_KEYS = table_of(ApiKey)
# Every request with a key runs it: built once, of table columns (no ORM compile step).
_LIVE_BY_HASH = select(_KEYS.c.id, _KEYS.c.role, _KEYS.c.name).where(
    _KEYS.c.key_hash == bindparam("b_hash"), _KEYS.c.revoked_at.is_(None)
)

_LIVE_BY_HASHES = select(_KEYS.c.key_hash, _KEYS.c.id, _KEYS.c.role, _KEYS.c.name).where(
    _KEYS.c.key_hash == func.any(bindparam("b_hashes", type_=ARRAY(String))),
    _KEYS.c.revoked_at.is_(None),
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


async def live_by_hashes(
    connection: AsyncConnection, key_hashes: Collection[str]
) -> dict[str, Row[str, str, str, str]]:
    """``live_by_hash`` for many hashes in one statement (PostgreSQL): by hash."""
    rows = await connection.execute(_LIVE_BY_HASHES, {"b_hashes": list(key_hashes)})
    return {row.key_hash: row for row in rows}
