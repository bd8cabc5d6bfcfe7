"""/docs and /redoc in headless Chromium with every host but the service blocked: Swagger UI
renders the operations, Authorize takes a key and "Try it out" on GET /api/v1/trades answers
200; ReDoc renders too. Screenshots go to SETTLEMENT_TEST_ARTIFACTS (var/test-artifacts).

Debian's ``chromium`` drives it (Playwright's own browser download needs the internet). Without
it the test is skipped, except under CI=true, where .ci/run installs it and its absence fails.
"""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.apikeys.service import create_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.config import Settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.main import create_app
from tests.browser import offline_page, screenshot
from tests.browser import served as served_over_http
from tests.conftest import DEFAULT_NOW

pytestmark = pytest.mark.browser


async def _issue_key(url: str) -> str:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, UnitOfWork(session):
            issued = await create_key(
                session,
                name="browser test",
                role=Role.OPERATIONS,
                actor=SYSTEM_ACTOR,
                now=DEFAULT_NOW,
            )
        return issued.secret
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, operations key) of the app served by uvicorn on loopback, in a thread."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser') / 'docs.db'}"
    # Alembic and the key use event loops of their own, away from the tests' loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()
        key = pool.submit(asyncio.run, _issue_key(url)).result()
    app = create_app(Settings(database_url=url, background_workers=False, log_level="WARNING"))
    with served_over_http(app) as base_url:
        yield base_url, key


@pytest.fixture(scope="module")
def browser_page(served: tuple[str, str]) -> Iterator[tuple[Any, list[str]]]:
    with offline_page(width=1400, height=1000) as page:
        yield page


def test_swagger_ui_authorizes_and_tries_an_operation_offline(
    served: tuple[str, str], browser_page: tuple[Any, list[str]]
) -> None:
    base_url, key = served
    page, elsewhere = browser_page
    page.goto(f"{base_url}/docs")
    operation = page.locator("#operations-Trades-list_trades_api_v1_trades_get")
    operation.locator(".opblock-summary-description", has_text="List trades").wait_for()

    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").fill(key)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()
    screenshot(page, "docs-swagger-ui.png")

    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")
    status.wait_for()
    assert status.inner_text().strip() == "200"
    screenshot(page, "docs-swagger-ui-try-it-out.png")
    assert elsewhere == []


def test_redoc_renders_offline(
    served: tuple[str, str], browser_page: tuple[Any, list[str]]
) -> None:
    base_url, _ = served
    page, elsewhere = browser_page
    page.goto(f"{base_url}/redoc")
    page.get_by_role("heading", name="List trades").first.wait_for()
    screenshot(page, "docs-redoc.png")
    assert elsewhere == []
