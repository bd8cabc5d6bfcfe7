"""GET /reports/breaks (json, or streamed csv)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.core.deps import Now, Uow
from app.core.errors import problem_responses
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_response
from app.reports.auth import ReportsRead
from app.reports.breaks import service as breaks
from app.reports.breaks.schemas import BreaksReportOut

router = APIRouter(tags=["Reports"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/reports/breaks",
    response_model=BreaksReportOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Open reconciliation breaks by age and account",
)
async def breaks_report(
    uow: Uow,
    _actor: ReportsRead,
    clock: Now,
    as_of: Annotated[
        date | None, Query(description="The day ages count to; today if omitted.")
    ] = None,
    report_format: FormatQuery = ReportFormat.JSON,
) -> BreaksReportOut | StreamingResponse:
    """Every break open now, aged in business days of its account's calendar to `as_of`:
    counted per ageing bucket (every bucket, even empty) and per account with their amounts
    summed per currency (signed: the outside world less the book; securities breaks have no
    currency and count without an amount), and listed oldest first with the fields of
    `GET /breaks`. CSV: one line per break."""
    day = as_of or clock().date()
    report = await breaks.breaks_report(uow.session, as_of=day)
    if report_format is ReportFormat.CSV:
        return csv_response(breaks.csv_lines(report["items"]), filename=f"breaks-{day}")
    return BreaksReportOut.model_validate(report)
