"""GET /reports/settlement-efficiency (json, or streamed csv)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.core.deps import Now, Uow
from app.core.errors import problem_responses
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_response
from app.reports.auth import ReportsRead
from app.reports.efficiency import service as efficiency
from app.reports.efficiency.schemas import EfficiencyOut

router = APIRouter(tags=["Reports"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/reports/settlement-efficiency",
    response_model=EfficiencyOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Share of instructions settled on their intended date, by count and value",
)
async def settlement_efficiency(
    uow: Uow,
    _actor: ReportsRead,
    clock: Now,
    start: Annotated[
        date | None,
        Query(
            alias="from",
            description="First intended settlement date (inclusive); by default the 20th TARGET "
            "business day before `to`.",
        ),
    ] = None,
    end: Annotated[
        date | None,
        Query(
            alias="to", description="Last intended settlement date (inclusive); today if omitted."
        ),
    ] = None,
    report_format: FormatQuery = ReportFormat.JSON,
) -> EfficiencyOut | StreamingResponse:
    """Every instruction not cancelled whose intended settlement date is in [`from`, `to`]
    (at most 366 days) is due; it settled on time when fully settled with a settlement date
    equal to its intended date. In total, per TARGET business day (every one in range, oldest
    first), per market (the instrument's MIC) and per counterparty: instructions due and
    settled on time, the share by count, and per currency the values and their share. Shares
    have 4 places (half-even) and are null when nothing was due. CSV: one line per group and
    currency."""
    first, last = efficiency.report_range(start, end, today=clock().date())
    report = await efficiency.settlement_efficiency(uow.session, start=first, end=last)
    if report_format is ReportFormat.CSV:
        return csv_response(
            efficiency.csv_lines(report), filename=f"settlement-efficiency-{first}-{last}"
        )
    return EfficiencyOut.model_validate(report)
