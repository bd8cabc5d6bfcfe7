"""Every route declares its roles; every role outside them is refused, and no key is 401.

Walks the app's routes, so a new route without a role declaration fails here.
"""

import re
from typing import Any

import pytest

from app.core.auth import Role
from app.core.health import PUBLIC_PATHS
from tests.support import Api, api_routes, route_roles


def _routes() -> list[tuple[str, str, frozenset[Role] | None]]:
    return [
        (method, path, route_roles(route.dependant))
        for path, route in api_routes()
        for method in sorted(route.methods or ())
    ]


ROUTES = _routes()
PROTECTED = [(m, p, r) for m, p, r in ROUTES if p not in PUBLIC_PATHS]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "UNKNOWN", path)


async def _call(api: Api, method: str, path: str, role: Role | None) -> Any:
    kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PATCH", "PUT"} else {}
    headers = {"Authorization": f"Bearer {api.keys[role]}"} if role else {}
    return await api.client.request(method, _concrete(path), headers=headers, **kwargs)


def test_every_route_but_the_probes_declares_its_roles() -> None:
    undeclared = [f"{m} {p}" for m, p, roles in PROTECTED if not roles]
    assert undeclared == []
    assert len(PROTECTED) >= 30


def test_admin_keys_only_manage_api_keys_and_webhooks_and_read_the_trail() -> None:
    for method, path, roles in PROTECTED:
        assert roles is not None
        if path.startswith("/api/v1/api-keys"):
            assert roles == {Role.ADMIN}
        elif path.startswith(("/api/v1/audit", "/api/v1/events")):  # keys' actions, the feed
            assert roles == {Role.COMPLIANCE, Role.ADMIN}
        elif path.startswith("/api/v1/webhooks"):  # what leaves the service, and to where
            assert roles == ({Role.COMPLIANCE, Role.ADMIN} if method == "GET" else {Role.ADMIN})
        else:
            assert Role.ADMIN not in roles, path


def test_compliance_only_reads() -> None:
    writes = [
        (m, p) for m, p, roles in PROTECTED if m != "GET" and roles and Role.COMPLIANCE in roles
    ]
    assert writes == []


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in PROTECTED])
async def test_no_key_is_401(api: Api, method: str, path: str) -> None:
    response = await _call(api, method, path, None)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "roles"), PROTECTED)
async def test_each_role_is_admitted_or_refused_as_declared(
    api: Api, method: str, path: str, roles: frozenset[Role]
) -> None:
    for role in Role:
        response = await _call(api, method, path, role)
        if role in roles:
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["type"].endswith("/forbidden")


async def test_probes_answer_without_a_key(api: Api) -> None:
    for path in sorted(PUBLIC_PATHS):
        response = await api.get(path)
        assert response.status_code == 200, path
