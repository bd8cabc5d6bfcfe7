"""What every report route shares: the `format` query (`json` or `csv`) and the streamed CSV.

A report is computed once, as rows of plain values; JSON answers shape them through the report's
Pydantic model, CSV answers stream them a line at a time (header first) so a large blotter is
never held twice in memory as text. Decimals are written exactly, dates in ISO 8601, ``None``
as an empty field and lists space-separated.
"""

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import StreamingResponse

from app.core.money import format_decimal

CSV_MEDIA_TYPE = "text/csv"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


FormatQuery = Annotated[
    ReportFormat,
    Query(alias="format", description="`json` (default) or `csv` (streamed, header row first)."),
]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}
}
"""Merge into a report route's ``responses`` so the OpenAPI document lists the CSV answer."""


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return " ".join(csv_cell(item) for item in value)
    return str(value)


def csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_cell(value) for value in values])
    return buffer.getvalue()


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header, then each row's values in the columns' order (a missing key is empty)."""
    yield csv_line(columns)
    for row in rows:
        yield csv_line(row.get(column) for column in columns)


async def csv_lines_async(
    columns: Sequence[str], rows: AsyncIterable[Mapping[str, Any]]
) -> AsyncIterator[str]:
    """As ``csv_lines``, for rows streamed from the database a chunk at a time."""
    yield csv_line(columns)
    async for row in rows:
        yield csv_line(row.get(column) for column in columns)


def csv_response(lines: Iterable[str] | AsyncIterable[str], *, filename: str) -> StreamingResponse:
    return StreamingResponse(
        lines,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
