"""The API's documentation pages: Swagger UI at /docs and ReDoc at /redoc, served with their
JavaScript and CSS from this process (operations desks rarely reach public CDNs), and the tags
that order the operations along a trade's life."""

from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

# The fastapi-offline package (MIT) ships swagger-ui-dist's and ReDoc's bundles; we only take
# its files, and wire the pages ourselves to keep our own paths and cache policy.
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
# The package version in the path: a new release is a new URL, so browsers may keep each for good.
ASSETS_PATH = f"/docs-assets/{version('fastapi-offline')}"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
# ReDoc's side menu shows Redocly's logo from their CDN: offline a failed request, online a
# call to a third party on every page view. Served instead: the bundle with an empty image.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_LOGO = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"

SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    # No call to validator.swagger.io, whatever the layout.
    "validatorUrl": None,
    "filter": True,
    "displayRequestDuration": True,
}

# In the order of a trade's life: the reference data it needs, capture, confirmation, clearing,
# settlement, the book it lands in, reconciliation with the outside world; then oversight and
# administration. Swagger UI and ReDoc list tags in this order.
TAGS: list[dict[str, str]] = [
    {"name": "Markets", "description": "Venues: calendars, settlement cycles, CCPs, cutoffs."},
    {"name": "Instruments", "description": "Securities we trade, with bond terms."},
    {"name": "Counterparties", "description": "Brokers and banks we trade with, by LEI."},
    {"name": "Books", "description": "Trading books that own positions."},
    {"name": "Accounts", "description": "Our securities safekeeping and cash accounts."},
    {"name": "Standing settlement instructions", "description": "Counterparties' SSIs."},
    {"name": "Prices", "description": "Closing prices (penalties, exposure)."},
    {"name": "Penalty rates", "description": "Effective-dated CSDR cash penalty rates."},
    {
        "name": "Buy-in extension periods",
        "description": "Effective-dated CSDR extension periods per instrument class: when a "
        "fail becomes a buy-in candidate.",
    },
    {"name": "Matching tolerances", "description": "Allowed confirmation differences."},
    {"name": "Trades", "description": "Book, amend, cancel and follow executed trades."},
    {
        "name": "Confirmation",
        "description": "Counterparties' confirmations, matching, exceptions, affirmation "
        "deadlines.",
    },
    {
        "name": "Clearing",
        "description": "Novation to the CCP, netting into obligations (with their trades), runs.",
    },
    {
        "name": "Settlement instructions",
        "description": "Settlement instructions (sese.023 fields), SSI enrichment and repair, "
        "cancellation and re-instruction.",
    },
    {
        "name": "Outbound messages",
        "description": "What we send depositories (sese.023, MT54x): claimed, sent and "
        "acknowledged by a gateway.",
    },
    {
        "name": "Status advices",
        "description": "Depositories' status and settlement advices (sese.024/025, MT548/MT54x) "
        "applied to our instructions.",
    },
    {
        "name": "Settlement runs",
        "description": "Settlement of internal markets in runs: allocation, partials, fails.",
    },
    {
        "name": "Penalties",
        "description": "CSDR cash penalties: a run per business day computes settlement-fail "
        "and late-matching-fail penalties, books each to the journal, reverses what a late "
        "confirmation corrects; read them and the monthly report netted per counterparty.",
    },
    {
        "name": "Positions",
        "description": "Positions and cash balances derived from the journal. Amounts are "
        "signed debit positive; a book's long position is a credit.",
    },
    {
        "name": "Journal",
        "description": "The double-entry journal, its ledger accounts and the ledger check.",
    },
    {"name": "Adjustments", "description": "Manual journal adjustments under four-eyes."},
    {
        "name": "Statements",
        "description": "Bank and custodian statements as received (camt.05x, MT940/MT950/"
        "MT942, semt.002, MT535, CSV, JSON), kept with the raw file, each with its integrity: "
        "whether it adds up and follows on.",
    },
    {"name": "Statement mappings", "description": "How each bank's CSV statements read."},
    {
        "name": "Reconciliation rules",
        "description": "The matching rules of reconciliation runs as data: kind, priority, "
        "amount tolerance per currency, value-date days, counterparty, group search bounds.",
    },
    {
        "name": "Reconciliation",
        "description": "Reconciliation runs comparing statements with the book, and their matches.",
    },
    {
        "name": "Reconciliation breaks",
        "description": "Every difference with the outside world, aged in business days: assign, "
        "comment, resolve as explained or by a write-off adjustment under four-eyes.",
    },
    {"name": "Reports", "description": "Operational reports."},
    {
        "name": "End of day",
        "description": "Close a business day with one request: affirmation deadlines, "
        "clearing, instructions, settlement and fail ageing, reconciliation and the day's "
        "report summary, in order, once per date, resumed from the step that failed.",
    },
    {
        "name": "Audit",
        "description": "Compliance reads the hash-chained audit trail: by filter, or one "
        "entity's whole history; verifies the chain and every audited row against it; exports "
        "it for an auditor to verify offline.",
    },
    {
        "name": "Events",
        "description": "The event feed: every change of state, in seal order, after a `seq`.",
    },
    {
        "name": "Webhooks",
        "description": "Events pushed to subscribers, signed (Standard Webhooks), retried with "
        "back-off, with a delivery log, pause/resume and redelivery.",
    },
    {"name": "API keys", "description": "Administrators issue and revoke keys."},
    {"name": "Health", "description": "Probes and metrics."},
]


@cache
def _redoc_bundle() -> bytes:
    return (ASSETS_DIR / REDOC_JS).read_bytes().replace(REDOCLY_LOGO.encode(), NO_LOGO.encode())


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = ASSET_CACHE_CONTROL
        return response


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local assets; the app is built with docs_url=redoc_url=None."""
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    # Plain Starlette routes, as FastAPI's own docs pages: no API key, no OpenAPI operation.
    async def redoc_bundle(_request: Request) -> Response:
        return Response(
            _redoc_bundle(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": ASSET_CACHE_CONTROL},
        )

    # Before the mount, which would otherwise serve the file as shipped.
    app.add_route(f"{ASSETS_PATH}/{REDOC_JS}", redoc_bundle, include_in_schema=False)
    app.mount(ASSETS_PATH, _Assets(directory=ASSETS_DIR), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_PATH}/{name}"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            swagger_js_url=asset(request, SWAGGER_JS),
            swagger_css_url=asset(request, SWAGGER_CSS),
            swagger_favicon_url=asset(request, FAVICON),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    async def swagger_ui_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, REDOC_JS),
            redoc_favicon_url=asset(request, FAVICON),
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
