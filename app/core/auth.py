"""Roles, the calling actor, and the per-route role declaration.

Keys are looked up by the ``apikeys`` domain; ``create_app`` plugs its resolver into
``app.state.authenticate`` so that core imports no domain.
"""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from fastapi import Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

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
    def __call__(self, uow: UnitOfWork, *, token: str) -> Awaitable[Actor | None]: ...


def hash_api_key(token: str) -> str:
    """Keys are long random secrets, so one SHA-256 is enough (no password stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


_BEARER_DESCRIPTION = "An API key: `Authorization: Bearer <key>`. Each key has one role."

RoleDependency = Callable[..., Awaitable[Actor]]


class _RoleCheck(HTTPBearer):
    """What ``require_roles`` makes: the bearer scheme itself (so the OpenAPI document still
    declares ``HTTPBearer`` on every route), which also looks the key up and checks its role.
    One dependency where there were three (the scheme, the unit of work, the check): FastAPI
    solves each dependency afresh at every request, several microseconds apiece."""

    def __init__(self, admitted: frozenset[Role]) -> None:
        super().__init__(
            auto_error=False, scheme_name="HTTPBearer", description=_BEARER_DESCRIPTION
        )
        self.allowed_roles = admitted

    async def __call__(self, request: Request) -> Actor:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("Send 'Authorization: Bearer <api key>'.")
        actor = await self.actor(request, credentials.credentials)
        if actor is None:
            raise Unauthenticated("The API key is unknown or revoked.")
        if actor.role not in self.allowed_roles:
            allowed = ", ".join(sorted(self.allowed_roles))
            raise Forbidden(
                f"The role '{actor.role}' may not call this route (allowed: {allowed})."
            )
        return actor

    async def actor(self, request: Request, token: str) -> Actor | None:
        """The caller of this request when ``token`` is a live key (None otherwise), with the
        request's id; whether its role is admitted is the caller's to check."""
        uow = await get_uow(request)  # the route's own: made once per request
        authenticate: Authenticator = request.app.state.authenticate
        actor = await authenticate(uow, token=token)
        if actor is None:
            return None
        return Actor(actor.key_id, actor.role, actor.name, current_request_id())


def require_roles(*roles: Role) -> RoleDependency:
    """The dependency a route declares to say which roles may call it."""
    return _RoleCheck(frozenset(roles))


async def admitted_actor(
    dependency: RoleDependency, request: Request, authorization: str
) -> Actor | None:
    """The caller when ``authorization`` is ``Bearer <a live key>`` of a role ``dependency``
    (made by ``require_roles``) admits; None for every other header, which the dependency
    itself answers (401, 403). For routes that resolve their caller by hand."""
    if not isinstance(dependency, _RoleCheck):
        raise TypeError("admitted_actor needs a dependency made by require_roles")
    scheme, token = get_authorization_scheme_param(authorization)  # as HTTPBearer reads it
    if scheme.lower() != "bearer" or not token:
        return None
    actor = await dependency.actor(request, token)
    return actor if actor is not None and actor.role in dependency.allowed_roles else None


def declared_roles(dependency: Any) -> frozenset[Role] | None:
    """The roles a dependency created by ``require_roles`` admits (used by the route audit test)."""
    roles: frozenset[Role] | None = getattr(dependency, "allowed_roles", None)
    return roles


ALL_READERS = (Role.TRADER, Role.GATEWAY, Role.OPERATIONS, Role.COMPLIANCE)
