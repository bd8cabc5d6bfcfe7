"""Dates in the query string are ISO 8601, never numbers.

Pydantic's lax mode reads ``settlement_date=0`` as 1970-01-01 (a Unix timestamp), so a list
filter with a typo silently answers for another day. A dependency refuses, with the
usual 422, any date or date-time query parameter that is not written the ISO way; the routes
keep their plain ``date`` and ``datetime`` annotations.

It is declared (``ISO_QUERY_DATES``) on each router, or route, with such a parameter, before the
route's own parameters, not app-wide: FastAPI solves every dependency of a route at each of its
requests, and most routes (``POST /trades`` among them) have no date to check.
``tests/core/test_query_dates.py`` proves that no route with one goes without it.
"""

from datetime import date, datetime
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, FutureDatetime, NaiveDatetime, PastDatetime

from app.core.moments import ISO_DATE, ISO_DATE_TIME

_FORMATS = {
    "date": (ISO_DATE, "a date such as 2026-11-24"),
    "date-time": (ISO_DATE_TIME, "a date and time such as 2026-11-24T15:00:00Z"),
}


# Pydantic's constrained date-times are marker classes, not datetime subclasses.
_PYDANTIC_DATE_TIMES = (AwareDatetime, NaiveDatetime, PastDatetime, FutureDatetime)


def _kind(annotation: Any) -> str | None:
    if get_origin(annotation) is Annotated:
        return _kind(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        kinds = {_kind(arg) for arg in get_args(annotation) if arg is not NoneType}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation in _PYDANTIC_DATE_TIMES or (
        isinstance(annotation, type) and issubclass(annotation, datetime)
    ):
        return "date-time"
    if isinstance(annotation, type) and issubclass(annotation, date):
        return "date"
    return None


def _query_params(dependant: Dependant) -> list[Any]:
    fields = list(dependant.query_params)
    for sub in dependant.dependencies:
        fields += _query_params(sub)
    return fields


_CACHED_ON_ROUTE = "_iso_query_date_parameters"


def _date_parameters(route: APIRoute) -> tuple[tuple[str, str], ...]:
    # Kept on the route itself: it lives as long as its app, and an id() could be reused by
    # another app's route once this one is collected.
    known: tuple[tuple[str, str], ...] | None = getattr(route, _CACHED_ON_ROUTE, None)
    if known is not None:
        return known
    found = {}
    for field in _query_params(route.dependant):
        kind = _kind(field.field_info.annotation)
        if kind is not None:
            found[field.alias] = kind
    parameters = tuple(found.items())
    setattr(route, _CACHED_ON_ROUTE, parameters)
    return parameters


async def iso_query_dates(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors = []
    for name, kind in _date_parameters(route):
        pattern, example = _FORMATS[kind]
        for value in request.query_params.getlist(name):
            if not pattern.match(value.strip()):
                errors.append(
                    {
                        "type": "iso_date",
                        "loc": ("query", name),
                        "msg": f"'{value}' is not {example}",
                        "input": value,
                    }
                )
    if errors:
        raise RequestValidationError(errors)


ISO_QUERY_DATES = Depends(iso_query_dates)
"""``dependencies=[ISO_QUERY_DATES]`` on a router or route with a date or date-time query
parameter."""
