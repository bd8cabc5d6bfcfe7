"""Every error leaves as RFC 9457 problem+json; bad input is never a 500."""

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    AppError,
    Conflict,
    FieldProblem,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from app.core.logging import get_logger
from app.core.middleware import REQUEST_ID_SCOPE_KEY

log = get_logger("app.errors")

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def field_name(location: tuple[Any, ...]) -> str:
    """``("body", "items", 3, "price")`` -> ``items[3].price``; the source prefix is dropped."""
    parts = (
        list(location[1:])
        if location and location[0] in {"body", "query", "path", "header"}
        else list(location)
    )
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or str(location[0] if location else "body")


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return problem_response(exc.to_problem(request.url.path), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        body = {
            "type": PROBLEM_TYPE_BASE + "malformed-json",
            "title": "The body is not valid JSON",
            "status": 400,
            "detail": "The request body could not be parsed as JSON.",
            "instance": request.url.path,
        }
        return problem_response(body)
    problems = [FieldProblem(field_name(tuple(e.get("loc", ()))), _message(e)) for e in errors]
    return problem_response(ValidationFailed.of_fields(problems).to_problem(request.url.path))


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _documented_methods(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Each OpenAPI path as a pattern, with the methods documented for it."""
    table: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = []
        for path, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
            methods = sorted(m.upper() for m in operations if m in _METHODS)
            table.append((re.compile(f"^{pattern}$"), ", ".join(methods)))
        app.state.allow_table = table
    return table


def allowed_methods(request: Request, fallback: str | None) -> str | None:
    """The methods documented for this path: Starlette names only the first route's."""
    for pattern, methods in _documented_methods(request.app):
        if pattern.match(request.url.path):
            return methods
    return fallback


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        allow = allowed_methods(request, (headers or {}).get("Allow"))
        if allow:
            headers = {**(headers or {}), "Allow": allow}
    body = {
        "type": PROBLEM_TYPE_BASE + _HTTP_SLUGS.get(exc.status_code, "http-error"),
        "title": _HTTP_SLUGS.get(exc.status_code, "http error").replace("-", " ").capitalize(),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": request.url.path,
    }
    return problem_response(body, headers)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A race lost to a concurrent writer (the unique constraint caught it): a conflict, not a bug.
    log.warning("integrity_error", error=str(getattr(exc, "orig", exc))[:500])
    conflict = Conflict("The change conflicts with data written at the same time; retry it.")
    return problem_response(conflict.to_problem(request.url.path))


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", error=str(exc)[:500])
    error = ServiceUnavailable("The database did not answer; retry shortly.")
    return problem_response(error.to_problem(request.url.path), {"Retry-After": "5"})


# SQLSTATE classes of a database that cannot take the request now: 08 connection exception,
# 53 insufficient resources (53300 too many connections), 57P03 cannot connect now (starting
# up or shutting down). Drivers raise them as plain DBAPI errors, not operational ones.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53")
_UNAVAILABLE_SQLSTATES = ("57P03",)


def database_unavailable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if not isinstance(sqlstate, str):
        return False
    return sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in _UNAVAILABLE_SQLSTATES


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and database_unavailable(exc):
        return await _operational_error(request, exc)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette answers unhandled errors outside RequestContextMiddleware, whose context (and
    # header) is gone by then: take the request id from the scope it left behind.
    request_id = request.scope.get(REQUEST_ID_SCOPE_KEY)
    log.exception("unhandled_error", error_type=type(exc).__name__, request_id=request_id)
    body = {
        "type": PROBLEM_TYPE_BASE + "internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "The service failed to process the request; nothing was saved.",
        "instance": request.url.path,
    }
    return problem_response(body, {"X-Request-ID": request_id} if request_id else None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    # No connection to be had (the pool's wait ran out, the server refuses more clients): the
    # same 503 with Retry-After as a database that does not answer, never a 500.
    app.add_exception_handler(PoolTimeout, _operational_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
