"""Raw request bodies (files and messages that are not JSON), read up to a limit, told apart
by media type, and described in the OpenAPI document by hand."""

from typing import Any

from fastapi import Request

from app.core.config import get_settings
from app.core.errors import PayloadTooLarge

# Set by the body guard (app/core/body_guard.py): the cap of the route being called.
BODY_LIMIT_SCOPE_KEY = "settlement.body_limit"


async def read_capped(request: Request, limit: int | None = None) -> bytes:
    """The whole body, or PayloadTooLarge (413) as soon as it passes ``limit`` bytes (by default
    the route's cap from the settings): what is still to come is not buffered."""
    if limit is None:
        limit = request.scope.get(BODY_LIMIT_SCOPE_KEY) or get_settings().body_limit_bytes
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(
                f"The body has more than {limit} bytes; at most {limit} are read."
            )
        parts.append(part)
    return b"".join(parts)


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def is_xml(media_type: str) -> bool:
    return media_type in ("application/xml", "text/xml") or media_type.endswith("+xml")


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` inlined: a hand-written ``requestBody`` (one
    that also takes XML or text) cannot point into the model's own definitions."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
