"""Test helpers: an API client that speaks as a role, and a clock the tests set."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.sealing import seal_pending
from app.core.auth import Role, declared_roles
from app.main import create_app

API = "/api/v1"


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """``await api.post("/trades", json=..., role="trader")``: paths are under /api/v1."""

    def __init__(self, client: httpx.AsyncClient, keys: dict[Role, str]) -> None:
        self.client = client
        self.keys = keys

    def _headers(self, role: Role | str | None, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if role is not None:
            merged["Authorization"] = f"Bearer {self.keys[Role(role)]}"
        return merged

    async def request(
        self,
        method: str,
        path: str,
        *,
        role: Role | str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        url = (
            path
            if path.startswith(("/healthz", "/readyz", "/metrics", "/openapi", "/docs"))
            else API + path
        )
        return await self.client.request(
            method, url, headers=self._headers(role, headers), **kwargs
        )

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)


def problem_fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {error["field"] for error in response.json().get("errors", [])}


def api_routes() -> list[tuple[str, APIRoute]]:
    """(full path, route) for every API route; newer FastAPI nests included routers lazily."""
    app = create_app()
    if hasattr(routing, "iter_route_contexts"):
        contexts = routing.iter_route_contexts(app.routes)
        return [
            (str(c.path), c.original_route)
            for c in contexts
            if isinstance(c.original_route, APIRoute)
        ]
    return [(r.path, r) for r in app.routes if isinstance(r, APIRoute)]


def route_roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles a route admits, as its dependencies declare them (None: undeclared)."""
    for sub in dependant.dependencies:
        roles = declared_roles(sub.call)
        if roles is not None:
            return roles
        nested = route_roles(sub)
        if nested is not None:
            return nested
    return None


class SecondKey:
    """Another operations key (for four-eyes): its id and the header that speaks with it."""

    def __init__(self, issued: dict[str, Any]) -> None:
        self.id: str = issued["id"]
        self.headers = {"Authorization": f"Bearer {issued['key']}"}


async def seal(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Seal every committed audit record now, as the server's sealer would within a second."""
    sealed = 0
    while True:
        async with sessionmaker() as session, session.begin():
            lags = await seal_pending(session, now=datetime.now(UTC))
        if not lags:
            return sealed
        sealed += len(lags)


def solved_by_fastapi(monkeypatch: Any, endpoint: Any) -> list[Any]:
    """A list that gets ``endpoint`` each time FastAPI itself solves its parameters (what a
    ``LeanRoute`` does by hand for a plain request)."""
    calls: list[Any] = []
    solve = routing.solve_dependencies  # type: ignore[attr-defined]  # what FastAPI calls

    async def counted(*args: Any, **kwargs: Any) -> Any:
        if kwargs["dependant"].call is endpoint:
            calls.append(endpoint)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(routing, "solve_dependencies", counted)
    return calls
