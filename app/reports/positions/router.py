"""GET /reports/positions: positions and cash balances as of a day, JSON or CSV."""

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.core.deps import Now, Uow
from app.core.errors import problem_responses
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_lines, csv_response
from app.positions.balances.schemas import Basis
from app.reports.auth import ReportsRead
from app.reports.positions import service
from app.reports.positions.schemas import CSV_COLUMNS, PositionsReportOut

router = APIRouter(tags=["Reports"], dependencies=[ISO_QUERY_DATES])


def _rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for position in report["positions"]:
        yield {"kind": "position", **position}
    for cash in report["cash"]:
        yield {"kind": "cash", "basis": None, "quantity": None, "pending": None, **cash}


@router.get(
    "/reports/positions",
    response_model=PositionsReportOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Positions per book or account and ISIN, and cash balances, as of a day",
)
async def positions_report(
    uow: Uow,
    _actor: ReportsRead,
    clock: Now,
    as_of: Annotated[date | None, Query(description="End of this day; today if omitted.")] = None,
    basis: Basis = Basis.TRADE_DATE,
    report_format: FormatQuery = ReportFormat.JSON,
) -> PositionsReportOut | StreamingResponse:
    """The same numbers as `GET /positions` (trade-date basis per book, with average cost and
    realised P&L; settlement-date basis per safekeeping account) and `GET /cash-balances`
    (settled, pending, projected per cash account), every page at once. CSV: one row per
    position (`kind` `position`) then per cash balance (`kind` `cash`)."""
    day = as_of or clock().date()
    report = await service.positions_report(uow.session, as_of=day, basis=basis.value)
    if report_format is ReportFormat.CSV:
        return csv_response(csv_lines(CSV_COLUMNS, _rows(report)), filename=f"positions-{day}")
    return PositionsReportOut.model_validate(report)
