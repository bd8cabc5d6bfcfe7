"""Dates and timestamps as the API takes them in a JSON body: ISO 8601 text only (Pydantic's
lax mode would read ``0`` as 1970-01-01), timestamps with an offset (a naive one is refused),
kept in UTC. Pure: no database."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

# What `format: date` and `format: date-time` mean in the OpenAPI document: text that starts
# the ISO way (Pydantic checks the rest), never a number read as seconds since 1970.
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and ISO_DATE.match(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be a date such as 2026-11-24")


def _iso_date_time(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_DATE_TIME.match(value)):
        return value
    raise ValueError("must be a date and time such as 2026-11-24T15:00:00Z")


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable instant
        raise ValueError("is out of range once converted to UTC") from None


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A day in a request body: ``"2026-11-24"`` (or a ``date``), never a number."""

UtcDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_date_time), AfterValidator(_in_utc)]
"""A timestamp with an offset, kept in UTC (answers show it in UTC whatever offset was sent)."""
