"""What every API operation can answer, added to the OpenAPI document in one place.

Routes declare their own outcomes (``problem_responses``); the answers that come from the
shared machinery are added here so that no route can forget them:

- 400: the path or query holds control characters, or the body is not valid JSON;
- 408/413/415 where there is a request body (read deadline, size cap, media type);
- ``If-Match``: a version such as ``"3"`` (its pattern), 412 when stale, 428 when malformed;
  where the route requires it (the required header of ``app.core.versioning``) it is marked
  required.
"""

from typing import Any

from fastapi import FastAPI

from app.core.errors import problem_responses
from app.core.versioning import IF_MATCH_PATTERN, REQUIRED_IF_MATCH

_BODY_STATUSES = (400, 408, 413, 415)
_METHODS = {"get", "put", "post", "delete", "patch"}


def _problem(status: int, template: dict[int | str, dict[str, Any]]) -> dict[str, Any]:
    entry = template[status]
    return {
        "description": entry["description"],
        "content": {
            media: {"schema": {"$ref": "#/components/schemas/Problem"}}
            for media in entry["content"]
        },
    }


def _add(operation: dict[str, Any], statuses: tuple[int, ...]) -> None:
    template = problem_responses(*statuses)
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), _problem(status, template))


def _if_match(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
            parameter["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN}
            # A stale version is a 412; a missing (where required) or malformed one a 428.
            _add(operation, (412, 428))
            if parameter.get("description") == REQUIRED_IF_MATCH:
                parameter["required"] = True


def add_common_responses(document: dict[str, Any], *, prefix: str) -> dict[str, Any]:
    for path, operations in document.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            _add(operation, _BODY_STATUSES if "requestBody" in operation else (400,))
            _if_match(operation)
    return document


def install_common_responses(app: FastAPI, *, prefix: str) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_common_responses(build(), prefix=prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
