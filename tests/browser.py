"""What the browser tests share: Debian's Chromium (or a skip, or under CI=true a failure), the
app served by uvicorn on a loopback port in a thread, a page that refuses and lists every
request to anything but loopback, and the screenshots kept as test artefacts."""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

CHROMIUM = os.environ.get("SETTLEMENT_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SETTLEMENT_TEST_ARTIFACTS", "var/test-artifacts"))
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UI_TIMEOUT_MS = 45_000  # generous: CI shares two cores between the browser, the server and xdist


def browser_or_skip() -> Any:
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not in_ci:
        pytest.importorskip("playwright.sync_api")
        if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
            pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    elif not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"CI=true needs Chromium at {CHROMIUM}: .ci/run installs it")
    from playwright.sync_api import sync_playwright

    return sync_playwright


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread: its base URL."""
    port = free_port()
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def offline_page(*, width: int, height: int) -> Iterator[tuple[Any, list[str]]]:
    """A page whose requests to anything but loopback are refused, and listed."""
    sync_playwright = browser_or_skip()
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
        context = browser.new_context(viewport={"width": width, "height": height})
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


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


def screenshot(page: Any, name: str) -> None:
    page.screenshot(path=str(artifact(name)), full_page=False)
