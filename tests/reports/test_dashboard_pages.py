"""/dashboard: the page and its own static files, served without a key, under a
Content-Security-Policy that allows this origin only; the files ship in the package."""

import re
from pathlib import Path

import pytest

from app.reports.dashboard.pages import STATIC_DIR
from tests.support import Api

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


async def test_the_page_is_html_under_a_self_only_content_security_policy(api: Api) -> None:
    response = await api.client.get("/dashboard")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert "<title>Operations dashboard - Settlement back office</title>" in page
    # Nothing inline and nothing from elsewhere: every script and style is a file of ours.
    assert re.findall(r'<script[^>]*src="([^"]+)"', page) == ["/dashboard/static/dashboard.js"]
    assert re.findall(r'<link[^>]*href="([^"]+)"', page) == ["/dashboard/static/dashboard.css"]
    assert "<style" not in page
    assert " style=" not in page
    assert re.search(r"<script(?![^>]*src=)", page) is None
    assert "http://" not in page
    assert "https://" not in page


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("charts.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ],
)
async def test_static_files_are_served_with_their_content_types(
    api: Api, name: str, content_type: str
) -> None:
    response = await api.client.get(f"/dashboard/static/{name}")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    assert response.headers["content-security-policy"] == CSP
    assert response.content == (STATIC_DIR / name).read_bytes()


async def test_an_unknown_static_file_is_404(api: Api) -> None:
    response = await api.client.get("/dashboard/static/missing.js")

    assert response.status_code == 404


def test_the_scripts_reach_only_this_origin() -> None:
    for script in ("dashboard.js", "charts.js"):
        text = (STATIC_DIR / script).read_text()
        assert "https://" not in text
        # The SVG namespace is an identifier, never fetched.
        assert re.findall(r"http://[^\"']+", text) in ([], ["http://www.w3.org/2000/svg"])


def test_the_wheel_includes_the_static_files() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"app.reports.dashboard" = ["static/*.html", "static/*.js", "static/*.css"]' in (
        pyproject
    )
    assert sorted(path.name for path in STATIC_DIR.iterdir()) == [
        "charts.js",
        "dashboard.css",
        "dashboard.js",
        "index.html",
    ]


async def test_the_page_is_not_an_api_operation(api: Api) -> None:
    document = (await api.get("/openapi.json")).json()
    assert not [path for path in document["paths"] if "dashboard" in path]
