"""A FastAPI route that solves the plain request's parameters itself, for the busiest routes.

At every request FastAPI solves the route's dependencies afresh, validates its parameters and wraps
each step in its instrumentation: about 90 us of CPU on ``POST /trades``, a quarter of its request
path (0.33 ms in process, the group booking apart). ``LeanRoute`` keeps the route FastAPI's (its
OpenAPI operation, its dependencies, every refusal) and puts a handler in front of FastAPI's own
that takes the plain request by hand and hands any other to FastAPI unchanged.

The plain request is the one FastAPI would admit without a word: one ``Content-Type:
application/json`` body that the route's own body field validates, each header parameter present
at most once and valid by its own field, a bearer key of a role the route admits. It gets the
same values FastAPI would give: the same JSON decoding, the same pydantic fields, the same role
check, the same plain dependencies (overrides included). Anything else (a refused key, a body or
a header FastAPI would refuse, another content type) goes to FastAPI's handler, the body already
read kept on the request: so each 400, 401, 403 and 422 is FastAPI's own, in its order. What a
lean request does not get is FastAPI's tracing of the dependencies and the endpoint; the
app's middleware (request id, logs, metrics, the body guard) sees it as any other.

Only routes of that shape can be lean: a JSON body, optional header parameters, the ``Request``,
role checks (``require_roles``) and plain dependencies (no parameters, nothing to clean up; an
override is called the same way, on the event loop). Any other parameter or dependency, the
route's own or its routers', leaves the route as FastAPI made it.
"""

import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.auth import Actor, admitted_actor, declared_roles

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_AUTHORIZATION = b"authorization"
_CONTENT_TYPE = b"content-type"


@dataclass(frozen=True)
class _Header:
    name: str  # the endpoint's parameter
    field: Any  # FastAPI's ModelField: validates as FastAPI would
    loc: tuple[str, str]


@dataclass(frozen=True)
class _Plan:
    """How to solve the endpoint's parameters for a plain request."""

    body_name: str
    body_field: Any
    request_name: str | None
    headers: dict[bytes, _Header]  # by lower-case header name
    role_checks: tuple[tuple[str, Callable[..., Awaitable[Actor]]], ...]
    plain: tuple[tuple[str, Callable[..., Any]], ...]
    overrides: Any  # FastAPI's dependency_overrides_provider


def _plan(route: Any) -> _Plan | None:
    """The plan for ``route`` (FastAPI's route or its effective context in a router), or None
    when its parameters are not all of the kinds a lean route solves."""
    dependant: Dependant = route.dependant
    body_field = route.body_field
    unsupported = (
        dependant.path_params,
        dependant.query_params,
        dependant.cookie_params,
        dependant.websocket_param_name,
        dependant.http_connection_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
        getattr(route, "_embed_body_fields", True),
    )
    if any(unsupported) or body_field is None or len(dependant.body_params) != 1:
        return None
    headers: dict[bytes, _Header] = {}
    for field in dependant.header_params:
        if field.field_info.is_required() or field.default is not None:
            return None
        name = field.alias.lower()
        headers[name.encode("latin-1")] = _Header(field.name, field, ("header", field.alias))
    role_checks, plain = [], []
    for sub in dependant.dependencies:
        if sub.name is None or sub.call is None:
            return None  # a route-level dependency whose value the endpoint does not take
        if declared_roles(sub.call) is not None:
            role_checks.append((sub.name, sub.call))
        elif _is_plain(sub):
            plain.append((sub.name, sub.call))
        else:
            return None
    return _Plan(
        body_name=dependant.body_params[0].name,
        body_field=body_field,
        request_name=dependant.request_param_name,
        headers=headers,
        role_checks=tuple(role_checks),
        plain=tuple(plain),
        overrides=route.dependency_overrides_provider,
    )


def _is_plain(dependant: Dependant) -> bool:
    """A dependency without parameters of its own, neither a generator (it has nothing to clean
    up) nor a security scheme."""
    call = dependant.call
    if call is None or inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call):
        return False
    params = (
        dependant.path_params,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.dependencies,
        dependant.request_param_name,
        dependant.security_scopes_param_name,
    )
    return not any(params) and not inspect.signature(call).parameters


def _effective(route: APIRoute) -> Any:
    """What FastAPI builds this handler for: the route itself, or the route as a router included
    it, with the router's dependencies and overrides. FastAPI (0.16x) says which through a
    context variable of its own; before it, a router included a copy of the route, its
    dependencies merged. (A test includes a route under a router with a dependency of its own:
    it fails should a FastAPI release say it another way.)"""
    variable = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = variable.get() if variable is not None else None
    if context is not None and context.original_route is route:
        return context
    return route


@functools.lru_cache(maxsize=256)
def _takes_nothing(call: Callable[..., Any]) -> bool:
    return not inspect.signature(call).parameters


async def _value_of(call: Callable[..., Any]) -> Any:
    value = call()
    return await value if inspect.isawaitable(value) else value


class LeanRoute(APIRoute):
    """Declare with ``route_class_override=LeanRoute`` on a route of the shape described above."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        plan = _plan(_effective(self))
        if plan is None:
            return standard
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            values = await _solved(plan, request)
            if values is None:
                return await standard(request)
            response: Response = await endpoint(**values)
            return response

        return handler


async def _solved(plan: _Plan, request: Request) -> dict[str, Any] | None:
    """The endpoint's arguments for a plain request; None for any other."""
    authorization, content_type = None, None
    sent: dict[bytes, str] = {}
    for raw_name, raw_value in request.scope["headers"]:
        name = raw_name.lower()
        if name == _AUTHORIZATION:
            if authorization is not None:
                return None
            authorization = raw_value.decode("latin-1")
        elif name == _CONTENT_TYPE:
            if content_type is not None:
                return None
            content_type = raw_value.decode("latin-1")
        elif name in plan.headers:
            if name in sent:
                return None
            sent[name] = raw_value.decode("latin-1")
    if authorization is None or content_type != "application/json":
        return None
    raw = await request.body()
    try:
        decoded = json.loads(raw)  # as FastAPI decodes it (Request.json)
    except (ValueError, RecursionError):  # FastAPI's to refuse: malformed, or nested too deep
        return None
    overrides = getattr(plan.overrides, "dependency_overrides", None) or {}
    values: dict[str, Any] = {}
    for name, role_check in plan.role_checks:
        if role_check in overrides:
            return None
        actor = await admitted_actor(role_check, request, authorization)
        if actor is None:
            return None
        values[name] = actor
    body, errors = plan.body_field.validate(decoded, {}, loc=("body",))
    if errors:
        return None
    values[plan.body_name] = body
    for name, header in plan.headers.items():
        value = sent.get(name)
        if value is not None:
            value, errors = header.field.validate(value, {}, loc=header.loc)
            if errors:
                return None
        values[header.name] = value
    for name, call in plan.plain:
        call = overrides.get(call, call)
        if not _takes_nothing(call):
            return None  # an override with parameters of its own: FastAPI solves them
        values[name] = await _value_of(call)
    if plan.request_name is not None:
        values[plan.request_name] = request
    return values
