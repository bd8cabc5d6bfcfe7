"""The shared CSV writing of reports: exact decimals, ISO dates, empty for None, lists joined."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

from app.core.reporting import ReportFormat, csv_cell, csv_line, csv_lines, csv_lines_async


def test_cells_are_written_exactly() -> None:
    assert csv_cell(Decimal("1E+2")) == "100"
    assert csv_cell(Decimal("0.000100")) == "0.000100"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(date(2026, 12, 4)) == "2026-12-04"
    assert csv_cell(datetime(2026, 12, 4, 17, 30, tzinfo=UTC)) == "2026-12-04T17:30:00+00:00"
    assert csv_cell(ReportFormat.CSV) == "csv"
    assert csv_cell(["T1", "T2"]) == "T1 T2"


def test_a_line_quotes_what_needs_quoting() -> None:
    assert csv_line(["a,b", 'say "hi"', 3]) == '"a,b","say ""hi""",3\r\n'


def test_lines_follow_the_columns_and_leave_missing_keys_empty() -> None:
    rows: list[dict[str, object]] = [
        {"isin": "FR0000120271", "quantity": Decimal("100")},
        {"isin": "DE0007164600"},
    ]
    assert list(csv_lines(("isin", "quantity"), rows)) == [
        "isin,quantity\r\n",
        "FR0000120271,100\r\n",
        "DE0007164600,\r\n",
    ]


async def test_async_lines_stream_the_same_text() -> None:
    async def rows() -> AsyncIterator[dict[str, object]]:
        yield {"day": date(2026, 12, 1), "count": 2}

    assert [line async for line in csv_lines_async(("day", "count"), rows())] == [
        "day,count\r\n",
        "2026-12-01,2\r\n",
    ]
