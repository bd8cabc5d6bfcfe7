"""``iso_query_dates`` is declared on each route with a date or date-time query parameter, not
app-wide: these prove that none goes without it, that it still runs before anything else the
route asks (its key included), and that a route without a date does not pay for it."""

from typing import Any

import pytest
from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.query_dates import _date_parameters, iso_query_dates
from app.main import create_app
from tests.support import Api, api_routes

PROBLEM = "application/problem+json"
_EXAMPLES = {
    "date": "a date such as 2026-11-24",
    "date-time": "a date and time such as 2026-11-24T15:00:00Z",
}


def _dated() -> list[tuple[str, str, str, str]]:
    """(method, path, query parameter, its kind) of every dated query parameter of the API."""
    return [
        (method, path, name, kind)
        for path, route in api_routes()
        for method in sorted(route.methods or ())
        for name, kind in _date_parameters(route)
    ]


def _solved() -> list[tuple[str, APIRoute, Dependant]]:
    """(path, route, what its requests solve: the app's and its routers' dependencies with the
    route's own) of every route of the app, the API's and the others."""
    contexts = routing.iter_route_contexts(create_app().routes)
    return [
        (str(c.path), c.original_route, c.dependant)
        for c in contexts
        if isinstance(c.original_route, APIRoute)
    ]


def test_the_api_has_dated_query_parameters_of_both_kinds() -> None:
    dated = _dated()
    # As many as the routes declare today; a new one is checked by the tests below.
    assert len(dated) == 67
    assert {kind for *_, kind in dated} == {"date", "date-time"}
    assert ("GET", "/api/v1/trades", "settlement_date", "date") in dated
    assert ("GET", "/api/v1/positions", "known_at", "date-time") in dated


def test_every_route_with_a_dated_query_parameter_checks_it_first() -> None:
    solved = _solved()
    assert len(solved) > 150
    unchecked = [
        f"{sorted(route.methods or ())} {path}"
        for path, route, dependant in solved
        if _date_parameters(route)
        and [sub.call for sub in dependant.dependencies][:1] != [iso_query_dates]
    ]
    assert unchecked == []


def test_single_capture_does_not_solve_the_date_check() -> None:
    (capture,) = [
        (route, dependant)
        for path, route, dependant in _solved()
        if path == "/api/v1/trades" and route.methods == {"POST"}
    ]
    route, dependant = capture
    assert _date_parameters(route) == ()
    assert iso_query_dates not in [sub.call for sub in dependant.dependencies]


@pytest.mark.parametrize(("method", "path", "name", "kind"), _dated())
async def test_a_number_is_no_date_on_any_route(
    api: Api, method: str, path: str, name: str, kind: str
) -> None:
    # Before the key is even looked at, as when the check was app-wide: no key is sent.
    url = path.removeprefix("/api/v1").replace("{", "").replace("}", "")
    response = await api.request(method, url, params={name: "0"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["errors"] == [{"field": name, "message": f"'0' is not {_EXAMPLES[kind]}"}]
