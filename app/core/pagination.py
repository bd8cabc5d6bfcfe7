"""Cursor pagination: keyset on one unique, ordered column; the cursor is opaque to clients."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

from app.core.errors import FieldProblem, ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after: Any = None


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
        if not isinstance(after, (str, int)) or isinstance(after, bool):
            raise TypeError
        return after
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not one this service issued.",
            errors=[FieldProblem("cursor", "is not a valid cursor")],
        ) from None


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)


async def fetch_page(
    session: AsyncSession,
    statement: Select[Any],
    key: InstrumentedAttribute[Any],
    page: PageRequest,
) -> tuple[Sequence[Any], str | None]:
    """Rows of ``statement`` ordered by ``key`` after the cursor, and the next cursor."""
    rows = (await session.scalars(_keyset(statement, key, page))).all()
    return _paged(rows, page, lambda row: getattr(row, key.key))


async def fetch_row_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[Any],
    page: PageRequest,
) -> tuple[Sequence[Any], str | None]:
    """``fetch_page`` for a statement of several columns (``key`` among them): result rows."""
    rows = (await session.execute(_keyset(statement, key, page))).all()
    return _paged(rows, page, lambda row: row._mapping[key])


def _keyset(
    statement: Select[*tuple[Any, ...]], key: InstrumentedAttribute[Any], page: PageRequest
) -> Any:
    if page.after is not None:
        statement = statement.where(key > _cursor_key(key, page.after))
    return statement.order_by(key).limit(page.limit + 1)


def _paged(
    rows: Sequence[Any], page: PageRequest, key_of: Callable[[Any], Any]
) -> tuple[Sequence[Any], str | None]:
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = key_of(rows[-1])
    return rows, encode_cursor(last.isoformat() if isinstance(last, date) else last)


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not one this service issued.",
        errors=[FieldProblem("cursor", "is not a valid cursor")],
    )


def _cursor_key(key: InstrumentedAttribute[Any], after: Any) -> Any:
    """The cursor's value as the key column's type; a forged cursor of another type is a 422,
    never a database type error (a 500 on PostgreSQL, a silently wrong page on SQLite)."""
    column_type = key.type
    if isinstance(column_type, TypeDecorator):  # UTCDateTime says object; its impl knows
        column_type = column_type.impl_instance
    python_type = column_type.python_type
    if python_type is datetime:
        if isinstance(after, str):
            try:
                parsed = datetime.fromisoformat(after)
            except ValueError:
                raise _invalid_cursor() from None
            if parsed.tzinfo is not None:
                return parsed
        raise _invalid_cursor()
    if python_type is date:
        if isinstance(after, str):
            try:
                return date.fromisoformat(after)
            except ValueError:
                raise _invalid_cursor() from None
        raise _invalid_cursor()
    if python_type is int and not isinstance(after, int):
        raise _invalid_cursor()
    if python_type is str and not isinstance(after, str):
        raise _invalid_cursor()
    return after
