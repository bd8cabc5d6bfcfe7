"""The request body /docs shows for POST /statements: the file in four media types, each
example one the route accepts."""

import json
from typing import Any

import pytest

from app.reconciliation.mappings.schemas import MAPPING_EXAMPLE
from tests.reconciliation.statements.support import receive
from tests.support import Api

pytestmark = pytest.mark.usefixtures("accounts")
MEDIA_TYPES = ["application/xml", "text/plain", "text/csv", "application/json"]


async def _body(api: Api) -> dict[str, Any]:
    document = (await api.get("/openapi.json")).json()
    body: dict[str, Any] = document["paths"]["/api/v1/statements"]["post"]["requestBody"]
    return body


async def test_the_request_body_declares_the_four_media_types(api: Api) -> None:
    body = await _body(api)

    assert body["required"] is True
    assert list(body["content"]) == MEDIA_TYPES
    assert body["description"].startswith("The statement file, byte for byte")


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
async def test_each_example_is_received(api: Api, media_type: str) -> None:
    example = (await _body(api))["content"][media_type]["example"]
    data = json.dumps(example).encode() if media_type == "application/json" else example.encode()
    params = {}
    if media_type == "text/csv":
        created = await api.post("/statement-mappings", json=MAPPING_EXAMPLE, role="operations")
        assert created.status_code == 201, created.text
        params = {"mapping": MAPPING_EXAMPLE["name"]}

    response = await receive(api, data, content_type=media_type, params=params)

    assert response.status_code == 201, response.text
    [statement] = response.json()["items"]
    assert (statement["account"], statement["integrity"]) == ("CASH-EUR", "ok")
    assert statement["closing_balance"]["amount"] == "12500.00"
