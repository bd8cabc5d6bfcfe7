"""Roles, the calling actor, and the per-route role declaration.

Keys are looked up by the ``apikeys`` domain; ``create_app`` plugs its resolver into
``app.state.authenticate`` so that core imports no domain.
"""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import UnitOfWork, get_uow
from app.core.errors import Forbidden, Unauthenticated
from app.core.middleware import current_request_id


class Role(StrEnum):
    TRADER = "trader"
    GATEWAY = "gateway"
    OPERATIONS = "operations"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    key_id: str
    role: Role
    name: str
    request_id: str | None = None


SYSTEM_ACTOR = Actor(key_id="system", role=Role.ADMIN, name="system")


class Authenticator(Protocol):
    def __call__(self, session: AsyncSession, *, token: str) -> Awaitable[Actor | None]: ...


def hash_api_key(token: str) -> str:
    """Keys are long random secrets, so one SHA-256 is enough (no password stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


_bearer = HTTPBearer(
    auto_error=False,
    description="An API key: `Authorization: Bearer <key>`. Each key has one role.",
)

RoleDependency = Callable[..., Awaitable[Actor]]


def require_roles(*roles: Role) -> RoleDependency:
    """The dependency a route declares to say which roles may call it."""
    admitted = frozenset(roles)

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        uow: Annotated[UnitOfWork, Depends(get_uow)],
    ) -> Actor:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("Send 'Authorization: Bearer <api key>'.")
        authenticate: Authenticator = request.app.state.authenticate
        actor = await authenticate(uow.session, token=credentials.credentials)
        if actor is None:
            raise Unauthenticated("The API key is unknown or revoked.")
        if actor.role not in admitted:
            allowed = ", ".join(sorted(admitted))
            raise Forbidden(
                f"The role '{actor.role}' may not call this route (allowed: {allowed})."
            )
        return Actor(actor.key_id, actor.role, actor.name, current_request_id())

    dependency.allowed_roles = admitted  # type: ignore[attr-defined]
    return dependency


def declared_roles(dependency: Any) -> frozenset[Role] | None:
    """The roles a dependency created by ``require_roles`` admits (used by the route audit test)."""
    roles: frozenset[Role] | None = getattr(dependency, "allowed_roles", None)
    return roles


ALL_READERS = (Role.TRADER, Role.GATEWAY, Role.OPERATIONS, Role.COMPLIANCE)
