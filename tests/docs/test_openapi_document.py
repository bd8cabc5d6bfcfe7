"""The OpenAPI document as /docs and ReDoc show it: one tag per operation, tags declared with a
description in a trade's lifecycle order, and a valid example on every JSON request body."""

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from app.core.config import Settings
from app.docs import TAGS
from app.main import create_app
from tests.support import api_routes

METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite+aiosqlite://", background_workers=False))
    openapi: dict[str, Any] = app.openapi()
    return openapi


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


def _json_examples(document: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    schema = _schema(document, media.get("schema", {}))
    examples: list[Any] = [
        *schema.get("examples", []),
        *([schema["example"]] if "example" in schema else []),
        *([media["example"]] if "example" in media else []),
        *(example["value"] for example in media.get("examples", {}).values()),
    ]
    return examples


def test_tags_are_declared_with_descriptions_in_lifecycle_order(
    document: dict[str, Any],
) -> None:
    declared = [tag["name"] for tag in document["tags"]]
    assert declared == [tag["name"] for tag in TAGS]
    assert len(set(declared)) == len(declared)
    assert [tag["name"] for tag in document["tags"] if not tag.get("description")] == []
    lifecycle = [
        "Markets",
        "Trades",
        "Confirmation",
        "Clearing",
        "Settlement instructions",
        "Outbound messages",
        "Status advices",
        "Settlement runs",
        "Positions",
        "Journal",
        "Adjustments",
        "Statements",
        "Reconciliation",
        "Reconciliation breaks",
        "Audit",
        "Events",
        "Webhooks",
        "API keys",
        "Health",
    ]
    positions = [declared.index(name) for name in lifecycle]
    assert positions == sorted(positions)
    assert declared[-1] == "Health"


def test_every_operation_has_exactly_one_declared_tag(document: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in document["tags"]}
    operations = _operations(document)
    assert len(operations) >= 130
    wrongly_tagged = [
        f"{method.upper()} {path}: {op.get('tags')}"
        for method, path, op in operations
        if len(op.get("tags", [])) != 1 or op["tags"][0] not in declared
    ]
    assert wrongly_tagged == []


def test_every_json_request_body_has_an_example(document: dict[str, Any]) -> None:
    bodies = [
        (method, path, media)
        for method, path, op in _operations(document)
        for media_type, media in op.get("requestBody", {}).get("content", {}).items()
        if media_type == "application/json"
    ]
    assert len(bodies) >= 40
    without = [
        f"{method.upper()} {path}"
        for method, path, media in bodies
        if not _json_examples(document, media)
    ]
    assert without == []


def test_every_request_body_example_is_valid_for_its_model(document: dict[str, Any]) -> None:
    checked = 0
    invalid = []
    for path, route in api_routes():
        if route.body_field is None:
            continue
        annotation = route.body_field.field_info.annotation
        assert annotation is not None, path
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        for method in route.methods or ():
            operation = document["paths"][path][method.lower()]
            media = operation["requestBody"]["content"].get("application/json")
            if media is None:
                continue
            for example in _json_examples(document, media):
                checked += 1
                try:
                    adapter.validate_json(json.dumps(example))
                except ValueError as error:
                    invalid.append(f"{method} {path}: {error}")
    assert invalid == []
    assert checked >= 40
