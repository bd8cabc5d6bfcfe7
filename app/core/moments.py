"""Timestamps as the API takes them: with an offset (a naive one is refused), kept in UTC.
Pure: no database."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable instant
        raise ValueError("is out of range once converted to UTC") from None


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A timestamp with an offset, kept in UTC (answers show it in UTC whatever offset was sent)."""
