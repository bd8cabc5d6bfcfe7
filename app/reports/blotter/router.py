"""GET /reports/blotter: the trades of a trade-date range, JSON or streamed CSV."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.core.deps import Uow
from app.core.errors import problem_responses
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import (
    CSV_RESPONSE,
    FormatQuery,
    ReportFormat,
    csv_lines_async,
    csv_response,
)
from app.reports.auth import ReportsRead
from app.reports.blotter import service
from app.reports.blotter.schemas import BlotterOut, BlotterTradeOut

router = APIRouter(tags=["Reports"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/reports/blotter",
    response_model=BlotterOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Trade blotter: every trade of a trade-date range",
)
async def blotter(
    uow: Uow,
    _actor: ReportsRead,
    start: Annotated[date, Query(alias="from", description="First trade date, inclusive.")],
    end: Annotated[
        date,
        Query(
            alias="to",
            description=f"Last trade date, inclusive (at most {service.MAX_DAYS} days in all).",
        ),
    ],
    report_format: FormatQuery = ReportFormat.JSON,
) -> BlotterOut | StreamingResponse:
    """Every trade dated `from` to `to`, whatever its status (cancelled ones too), in id order,
    with its economics: quantity, price, gross amount, commission, fees, accrued interest, net
    amount. CSV is streamed from the database a chunk at a time."""
    rows = service.blotter(uow.session, start=start, end=end)
    if report_format is ReportFormat.CSV:
        return csv_response(
            csv_lines_async(service.COLUMNS, rows), filename=f"blotter-{start}-{end}"
        )
    items = [BlotterTradeOut.model_validate(row) async for row in rows]
    return BlotterOut.model_validate({"from": start, "to": end, "items": items})
