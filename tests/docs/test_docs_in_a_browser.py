"""/docs and /redoc in headless Chromium with every host but the service blocked: Swagger UI
renders the operations, Authorize takes a key and "Try it out" on GET /api/v1/trades answers
200; ReDoc renders too. Screenshots go to SETTLEMENT_TEST_ARTIFACTS (var/test-artifacts).

Debian's ``chromium`` drives it (Playwright's own browser download needs the internet). Without
it the test is skipped, except under CI=true, where .ci/run installs it and its absence fails.
"""

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from app.apikeys.service import create_key
from app.core.auth import SYSTEM_ACTOR, Role
from app.core.config import Settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.main import create_app
from tests.conftest import DEFAULT_NOW

CHROMIUM = os.environ.get("SETTLEMENT_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SETTLEMENT_TEST_ARTIFACTS", "var/test-artifacts"))
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UI_TIMEOUT_MS = 45_000  # generous: CI shares two cores between the browser, the server and xdist

pytestmark = pytest.mark.browser


def _browser_or_skip() -> Any:
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not in_ci:
        pytest.importorskip("playwright.sync_api")
        if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
            pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    elif not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"CI=true needs Chromium at {CHROMIUM}: .ci/run installs it")
    from playwright.sync_api import sync_playwright

    return sync_playwright


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, operations key) of the app served by uvicorn on loopback, in a thread."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser') / 'docs.db'}"
    # Alembic and the key use event loops of their own, away from the tests' loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()
        key = pool.submit(asyncio.run, _issue_key(url)).result()
    app = create_app(Settings(database_url=url, background_workers=False, log_level="WARNING"))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", key
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser_page(served: tuple[str, str]) -> Iterator[tuple[Any, list[str]]]:
    """A page whose requests to anything but loopback are refused, and listed."""
    sync_playwright = _browser_or_skip()
    elsewhere: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", only_loopback)
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.on(
            "request",
            lambda request: (
                None
                if urlsplit(request.url).hostname in LOOPBACK
                or request.url.startswith(("data:", "blob:", "about:"))
                else elsewhere.append(request.url)
            ),
        )
        try:
            yield page, elsewhere
        finally:
            context.close()
            browser.close()


def _screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


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
    _screenshot(page, "docs-swagger-ui.png")

    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")
    status.wait_for()
    assert status.inner_text().strip() == "200"
    _screenshot(page, "docs-swagger-ui-try-it-out.png")
    assert elsewhere == []


def test_redoc_renders_offline(
    served: tuple[str, str], browser_page: tuple[Any, list[str]]
) -> None:
    base_url, _ = served
    page, elsewhere = browser_page
    page.goto(f"{base_url}/redoc")
    page.get_by_role("heading", name="List trades").first.wait_for()
    _screenshot(page, "docs-redoc.png")
    assert elsewhere == []
