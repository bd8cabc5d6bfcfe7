"""The operations dashboard: one page at ``/dashboard`` that operations open in the morning.

The page is static HTML; its JavaScript (``static/dashboard.js``, with the SVG charts drawn by
``static/charts.js``, both ours) asks for an API key, keeps it in ``sessionStorage`` for the
browser session only, and draws the JSON reports of ``/api/v1`` with it. Nothing comes from
elsewhere: the Content-Security-Policy allows this origin only (no inline script or style).
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, Response
from starlette.types import Scope

PAGE_PATH = "/dashboard"
STATIC_PATH = "/dashboard/static"
STATIC_DIR = Path(str(files("app.reports.dashboard") / "static"))
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is the same for everyone (the data comes with the key): revalidate, never stale.
    "Cache-Control": "no-cache",
}


class _Static(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response


async def dashboard_page(_request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )


def install_dashboard(app: FastAPI) -> None:
    """Serve the page and its files: plain routes, outside the API and its OpenAPI document
    (the page needs no key; the reports it draws do)."""
    app.add_route(PAGE_PATH, dashboard_page, include_in_schema=False)
    app.mount(STATIC_PATH, _Static(directory=STATIC_DIR), name="dashboard-static")
