"""API keys: create (the secret is returned once), revoke, and resolve a bearer token."""

import secrets
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.apikeys import repository
from app.apikeys.models import ApiKey
from app.audit.service import audited, row_as_of
from app.core.auth import Actor, Role, hash_api_key
from app.core.coalesce import coalesced
from app.core.db import UnitOfWork
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest

ENTITY = "api_key"
KEY_PREFIX = "stl_"
_SNAPSHOT_EXCLUDE = frozenset({"key_hash"})


def _audited(
    session: AsyncSession,
    api_key: ApiKey,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    created: bool = False,
) -> AbstractAsyncContextManager[None]:
    # The key's hash never reaches the audit trail or the event feed.
    return audited(
        session,
        api_key,
        entity_type=ENTITY,
        action=action,
        actor=actor,
        now=now,
        created=created,
        exclude=_SNAPSHOT_EXCLUDE,
    )


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str


async def create_key(
    session: AsyncSession, *, name: str, role: Role, actor: Actor, now: datetime
) -> IssuedKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        id=new_id("key"),
        name=name,
        role=role.value,
        key_hash=hash_api_key(secret),
        key_prefix=secret[:10],
        created_at=now,
        created_by=actor.key_id,
    )
    async with _audited(session, api_key, "created", actor=actor, now=now, created=True):
        repository.add(session, api_key)
    return IssuedKey(api_key, secret)


async def revoke_key(session: AsyncSession, *, key_id: str, actor: Actor, now: datetime) -> ApiKey:
    api_key = await repository.lock(session, key_id)
    if api_key is None:
        raise NotFound(f"No API key '{key_id}'.")
    if api_key.revoked_at is None:
        async with _audited(session, api_key, "revoked", actor=actor, now=now):
            api_key.revoked_at = now
    return api_key


async def get_key(session: AsyncSession, *, key_id: str, as_of: datetime | None = None) -> ApiKey:
    """The key now, or with ``as_of`` as it stood then (its audit records never hold the
    hash: the rebuilt row has none)."""
    if as_of is not None:
        return await row_as_of(
            session, ApiKey, entity_type=ENTITY, entity_id=key_id, as_of=as_of, title="API key"
        )
    api_key = await repository.get(session, key_id)
    if api_key is None:
        raise NotFound(f"No API key '{key_id}'.")
    return api_key


async def list_keys(
    session: AsyncSession, *, page: PageRequest, include_revoked: bool
) -> tuple[Sequence[ApiKey], str | None]:
    return await repository.page(session, page=page, include_revoked=include_revoked)


async def authenticate(uow: UnitOfWork, *, token: str) -> Actor | None:
    """The actor of a live key, read afresh (never cached: a revoked key stops at once). On
    PostgreSQL the lookups of concurrent requests share one statement started after each of
    them asked (``app.core.coalesce``), and the request's session is not even made."""
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    key_hash = hash_api_key(token)
    engine = uow.bind
    if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
        return await coalesced(engine, "api_keys", _live_actors).get(key_hash)
    row = await repository.live_by_hash(uow.session, key_hash)
    if row is None:
        return None
    return Actor(key_id=row.id, role=Role(row.role), name=row.name)


async def _live_actors(driver: Any, key_hashes: frozenset[str]) -> dict[str, Actor]:
    rows = await repository.live_by_hashes(driver, key_hashes)
    return {
        key_hash: Actor(key_id=row["id"], role=Role(row["role"]), name=row["name"])
        for key_hash, row in rows.items()
    }
