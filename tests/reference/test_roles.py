"""Who may call the reference routes: operations write; trader, gateway, operations and
compliance read; admin (API keys only) and anonymous callers are refused everywhere."""

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

import app.reference
from tests.reference.conftest import Counter
from tests.reference.factories import (
    GOLDMAN,
    JPM,
    book_payload,
    cash_account_payload,
    counterparty_payload,
    equity_payload,
    market_payload,
    penalty_rate_payload,
    price_payload,
    ssi_payload,
)
from tests.support import Api

SSI = "{ssi}"  # replaced by the id of a demo SSI at run time


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def writes(self) -> bool:
        return self.method != "GET"


ROUTES = [
    Route("GET", "/markets", "/markets"),
    Route("POST", "/markets", "/markets", market_payload()),
    Route("GET", "/markets/{mic}", "/markets/XNYS"),
    Route("PATCH", "/markets/{mic}", "/markets/XNYS", {"name": "NYSE"}),
    Route(
        "POST",
        "/markets/{mic}/closed-days",
        "/markets/XNYS/closed-days",
        {"day": "2026-12-24", "reason": "Outage"},
    ),
    Route("GET", "/markets/{mic}/closed-days", "/markets/XNYS/closed-days"),
    Route(
        "GET",
        "/calendars/{mic}/business-days",
        "/calendars/XNYS/business-days",
        params={"from": "2026-11-23", "to": "2026-11-30"},
    ),
    Route("GET", "/instruments", "/instruments"),
    Route("POST", "/instruments", "/instruments", equity_payload()),
    Route("GET", "/instruments/{isin}", f"/instruments/{JPM}"),
    Route("PATCH", "/instruments/{isin}", f"/instruments/{JPM}", {"name": "JPM"}),
    Route("GET", "/counterparties", "/counterparties"),
    Route("POST", "/counterparties", "/counterparties", counterparty_payload()),
    Route("GET", "/counterparties/{lei}", f"/counterparties/{GOLDMAN}"),
    Route("PATCH", "/counterparties/{lei}", f"/counterparties/{GOLDMAN}", {"name": "GS"}),
    Route("GET", "/books", "/books"),
    Route("POST", "/books", "/books", book_payload()),
    Route("GET", "/books/{code}", "/books/EQ-FLOW"),
    Route("PATCH", "/books/{code}", "/books/EQ-FLOW", {"name": "Flow"}),
    Route("GET", "/accounts", "/accounts"),
    Route("POST", "/accounts", "/accounts", cash_account_payload()),
    Route("GET", "/accounts/{code}", "/accounts/CASH-USD"),
    Route("PATCH", "/accounts/{code}", "/accounts/CASH-USD", {"name": "USD cash"}),
    Route("GET", "/ssis", "/ssis"),
    Route("POST", "/ssis", "/ssis", ssi_payload()),
    Route("GET", "/ssis/{ssi_id}", f"/ssis/{SSI}"),
    Route("PATCH", "/ssis/{ssi_id}", f"/ssis/{SSI}", {"account": "DEMO-X"}),
    Route("DELETE", "/ssis/{ssi_id}", f"/ssis/{SSI}"),
    Route("GET", "/prices", "/prices", params={"date": "2026-11-24"}),
    Route("POST", "/prices", "/prices", price_payload()),
    Route("GET", "/penalty-rates", "/penalty-rates"),
    Route("POST", "/penalty-rates", "/penalty-rates", penalty_rate_payload()),
    Route("GET", "/buy-in-extension-periods", "/buy-in-extension-periods"),
    Route(
        "POST",
        "/buy-in-extension-periods",
        "/buy-in-extension-periods",
        {"csdr_class": "other_debt", "business_days": 7, "effective_from": "2027-01-01"},
    ),
    Route("GET", "/matching-tolerances", "/matching-tolerances"),
    Route("POST", "/matching-tolerances", "/matching-tolerances", {"currency": "JPY"}),
    Route("GET", "/matching-tolerances/{currency}", "/matching-tolerances/USD"),
    Route(
        "PATCH",
        "/matching-tolerances/{currency}",
        "/matching-tolerances/USD",
        {"price_abs": "0.01"},
    ),
]
READS = [route for route in ROUTES if not route.writes]
WRITES = [route for route in ROUTES if route.writes]
READERS = ["trader", "gateway", "operations", "compliance"]
NOT_WRITERS = ["trader", "gateway", "compliance", "admin"]


def _ids(routes: list[Route]) -> list[str]:
    return [route.id for route in routes]


async def call(api: Api, route: Route, role: str | None, **headers: str) -> Any:
    path = route.path
    if SSI in path:
        listed = await api.get("/ssis", params={"limit": 1}, role="operations")
        path = path.replace(SSI, listed.json()["items"][0]["id"])
    if route.method in {"PATCH", "DELETE"}:
        headers = {"If-Match": '"1"', **headers}
    return await api.request(
        route.method,
        path,
        role=role,
        json=route.body,
        params=route.params,
        headers=headers or None,
    )


def test_the_table_covers_every_reference_route() -> None:
    # Every reference subpackage's router.
    routers = [
        importlib.import_module(f"app.reference.{module.name}.router").router
        for module in pkgutil.iter_modules(app.reference.__path__)
        if module.ispkg
    ]
    assert all(isinstance(router, APIRouter) for router in routers)
    declared = {
        f"{method} {route.path}"
        for sub in routers
        for route in sub.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }

    assert declared == {route.id for route in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
async def test_anonymous_calls_are_401(api: Api, reference: None, route: Route) -> None:
    response = await call(api, route, role=None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "https://settlement.example/problems/unauthenticated"


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
async def test_unknown_keys_are_401(api: Api, reference: None, route: Route) -> None:
    response = await call(api, route, role=None, Authorization="Bearer not-a-key")

    assert response.status_code == 401


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
async def test_admin_is_refused_every_reference_route(
    api: Api, reference: None, route: Route
) -> None:
    response = await call(api, route, role="admin")

    assert response.status_code == 403
    assert response.json()["type"] == "https://settlement.example/problems/forbidden"


@pytest.mark.parametrize("role", NOT_WRITERS)
@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
async def test_only_operations_writes(
    api: Api, reference: None, audit_count: Counter, route: Route, role: str
) -> None:
    before = await audit_count()

    response = await call(api, route, role=role)

    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"The role '{role}' may not call this route (allowed: operations)."
    )
    assert await audit_count() == before


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("route", READS, ids=_ids(READS))
async def test_every_business_role_reads(
    api: Api, reference: None, route: Route, role: str
) -> None:
    response = await call(api, route, role=role)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
async def test_operations_writes(
    api: Api, reference: None, audit_count: Counter, route: Route
) -> None:
    before = await audit_count()

    response = await call(api, route, role="operations")

    expected = {"PATCH": 200, "DELETE": 204}.get(route.method, 201)
    assert response.status_code == expected, response.text
    assert await audit_count() == before + 1
