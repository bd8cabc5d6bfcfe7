"""A NUL or other control character in a path or query string is a 400, never a 500.

PostgreSQL refuses NUL in text, so without this guard any path parameter that reaches a query
(a trade id, a MIC, an LEI) turned bad input into an internal error.
"""

import re

import pytest

from app.core.auth import Role
from tests.support import Api, api_routes

PATHS_WITH_PARAMETERS = sorted(
    {
        (method, path)
        for path, route in api_routes()
        if "{" in path
        for method in route.methods or ()
    }
)


@pytest.mark.parametrize(("method", "path"), PATHS_WITH_PARAMETERS)
async def test_a_nul_in_a_path_parameter_is_400(api: Api, method: str, path: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", "x%00y", path)
    response = await api.client.request(
        method,
        concrete,
        headers={"Authorization": f"Bearer {api.keys[Role.OPERATIONS]}", "If-Match": '"1"'},
        json={},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The path or query string contains control characters."
    assert "x-request-id" in response.headers


@pytest.mark.parametrize("query", ["book=EQ%00FLOW", "cursor=%01", "trade_id=a+%7f"])
async def test_a_control_character_in_the_query_is_400(api: Api, query: str) -> None:
    response = await api.get(f"/trades?{query}", role="trader")
    assert response.status_code == 400
    assert response.json()["title"] == "Bad request"


async def test_ordinary_percent_encoding_still_works(api: Api, reference: None) -> None:
    response = await api.get("/books/EQ%2DFLOW", role="trader")
    assert response.status_code == 200
    assert response.json()["code"] == "EQ-FLOW"
