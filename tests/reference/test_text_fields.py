"""Free text is printable: a NUL (which PostgreSQL refuses) is a 422, never a 500."""

import pytest

from tests.support import Api, problem_fields


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/books", {"code": "EQ-NEW", "name": "Equity\x00flow"}, "name"),
        ("/counterparties", {"lei": "W22LROWP2IHZNBB6K528", "name": "Bank\x07"}, "name"),
        (
            "/accounts",
            {
                "code": "SEC-X",
                "name": "Safekeeping",
                "kind": "securities",
                "servicer_bic": "DEUTDEFF",
                "account_number": "12\x0034",
            },
            "account_number",
        ),
    ],
)
async def test_control_characters_are_refused(
    api: Api, path: str, body: dict[str, str], field: str
) -> None:
    response = await api.post(path, json=body, role="operations")
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}
    assert response.json()["errors"][0]["message"] == "must not contain control characters"


async def test_api_key_names_are_printable(api: Api) -> None:
    response = await api.post("/api-keys", json={"name": "ops\x00", "role": "trader"}, role="admin")
    assert response.status_code == 422
    assert problem_fields(response) == {"name"}
