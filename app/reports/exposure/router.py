"""GET /reports/exposure: settlement exposure per counterparty, JSON or CSV."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.core.deps import Now, Uow
from app.core.errors import problem_responses
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_lines, csv_response
from app.reports.auth import ReportsRead
from app.reports.exposure import service
from app.reports.exposure.schemas import CSV_COLUMNS, ExposureReportOut

router = APIRouter(tags=["Reports"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/reports/exposure",
    response_model=ExposureReportOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Settlement exposure per counterparty: replacement cost and principal at risk",
)
async def exposure_report(
    uow: Uow,
    _actor: ReportsRead,
    clock: Now,
    as_of: Annotated[
        date | None, Query(description="Marks: the latest price on or before this day; today.")
    ] = None,
    report_format: FormatQuery = ReportFormat.JSON,
) -> ExposureReportOut | StreamingResponse:
    """Per counterparty (the CCP once a trade is novated) and currency.
    **Replacement cost**: what replacing the unsettled trades (traded by `as_of`, neither
    settled nor cancelled) would cost if the counterparty defaulted, at the latest price on or
    before `as_of` (the mark): for our purchases (mark - price) x quantity, for our sales
    (price - mark) x quantity, each when positive (bonds / 100). **Principal at risk**: the
    value of legs already given on instructions failing on `as_of`: settled quantity x mark of
    free deliveries (DFP) still open; DVP/RVP move both legs together (partials too), so
    zero. An ISIN without a price is listed in `missing_prices` and its trades counted as
    unpriced, never valued at zero."""
    day = as_of or clock().date()
    report = await service.exposure_report(uow.session, as_of=day)
    if report_format is ReportFormat.CSV:
        return csv_response(
            csv_lines(CSV_COLUMNS, report["counterparties"]), filename=f"exposure-{day}"
        )
    return ExposureReportOut.model_validate(report)
