"""/docs and /redoc load nothing from another host: their scripts and styles are the service's."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.config import Settings
from app.docs import ASSET_CACHE_CONTROL, ASSETS_PATH, NO_LOGO, REDOCLY_LOGO
from app.main import create_app

URL_IN_HTML = re.compile(r"""(?:src|href|url)\s*[=:(]\s*['"]?([^'"\s)>]+)""")
# Python 3.12 names JavaScript text/javascript (RFC 9239); 3.11 still application/javascript.
JAVASCRIPT = {"text/javascript; charset=utf-8", "application/javascript"}
ABSOLUTE_URL = re.compile(r"""https?://[^\s'"<>)]+""")


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # The pages need no database: the app is never started.
    app = create_app(Settings(database_url="sqlite+aiosqlite://", background_workers=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"]),
        ("/redoc", ["redoc.standalone.js", "favicon.png"]),
    ],
)
async def test_the_page_references_only_the_service_itself(
    client: httpx.AsyncClient, page: str, assets: list[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert ABSOLUTE_URL.findall(html) == []
    referenced = set(URL_IN_HTML.findall(html))
    assert {f"{ASSETS_PATH}/{name}" for name in assets} <= referenced
    assert [url for url in referenced if not url.startswith("/")] == []
    assert "/openapi.json" in html


@pytest.mark.parametrize(
    ("name", "content_types"),
    [
        ("swagger-ui-bundle.js", JAVASCRIPT),
        ("swagger-ui.css", {"text/css; charset=utf-8"}),
        ("redoc.standalone.js", JAVASCRIPT),
        ("favicon.png", {"image/png"}),
    ],
)
async def test_the_assets_are_served_for_browsers_to_keep(
    client: httpx.AsyncClient, name: str, content_types: set[str]
) -> None:
    response = await client.get(f"{ASSETS_PATH}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] in content_types
    assert response.headers["cache-control"] == ASSET_CACHE_CONTROL
    assert len(response.content) > 1000


async def test_an_unknown_asset_is_404_and_not_cached(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ASSETS_PATH}/swagger-ui-bundle.js.map")
    assert response.status_code == 404
    assert "cache-control" not in response.headers


async def test_the_openapi_document_is_still_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Settlement back office"


async def test_redoc_is_served_without_the_call_for_redoclys_logo(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{ASSETS_PATH}/redoc.standalone.js")
    assert REDOCLY_LOGO.encode() not in response.content
    assert NO_LOGO.encode() in response.content
