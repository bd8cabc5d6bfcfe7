"""Penalty routes: the list and one penalty, a reversal by operations, and the monthly report."""

from calendar import monthrange
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.identifiers import Lei
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_lines, csv_response
from app.penalties.calculation import Party, PenaltyKind
from app.penalties.penalties import service
from app.penalties.penalties.auth import PenaltiesRead, PenaltiesWrite
from app.penalties.penalties.monthly import CSV_COLUMNS, monthly_report
from app.penalties.penalties.schemas import MonthlyPenaltiesOut, PenaltyOut, PenaltyReverseIn
from app.penalties.penalties.states import PenaltyStatus

router = APIRouter(tags=["Penalties"], dependencies=[ISO_QUERY_DATES])
reports_router = APIRouter(tags=["Reports"])

MONTH = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"  # years from 1000: 0000-01 is no month (a 500)


@router.get(
    "/penalties",
    response_model=Page[PenaltyOut],
    responses=problem_responses(),
    summary="CSDR cash penalties",
)
async def list_penalties(
    uow: Uow,
    _actor: PenaltiesRead,
    page: Paging,
    date_from: Annotated[date | None, Query(description="Penalised on or after.")] = None,
    date_to: Annotated[date | None, Query(description="Penalised on or before.")] = None,
    instruction_id: Annotated[str | None, Query(max_length=40)] = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    payer: Party | None = None,
    status: PenaltyStatus | None = None,
    kind: PenaltyKind | None = None,
) -> Page[PenaltyOut]:
    """Every penalty booked by the penalty runs, active or reversed, in id order."""
    wanted = service.PenaltyFilter(
        day_from=date_from,
        day_to=date_to,
        instruction_id=instruction_id,
        counterparty_lei=counterparty_lei,
        payer=None if payer is None else payer.value,
        status=None if status is None else status.value,
        kind=None if kind is None else kind.value,
    )
    rows, cursor = await service.list_penalties(uow.session, page=page, wanted=wanted)
    return Page(items=[PenaltyOut.model_validate(row) for row in rows], next_cursor=cursor)


@router.get(
    "/penalties/{penalty_id}",
    response_model=PenaltyOut,
    responses=problem_responses(404),
    summary="One penalty",
)
async def get_penalty(penalty_id: str, uow: Uow, _actor: PenaltiesRead) -> PenaltyOut:
    return PenaltyOut.model_validate(await service.get_penalty(uow.session, penalty_id=penalty_id))


@router.post(
    "/penalties/{penalty_id}/reverse",
    response_model=PenaltyOut,
    responses=problem_responses(404, 409, 422),
    summary="Reverse a penalty the depository says was not due",
)
async def reverse_penalty(
    penalty_id: str, body: PenaltyReverseIn, uow: Uow, actor: PenaltiesWrite, clock: Now
) -> PenaltyOut:
    """The penalty becomes `reversed` with a reversing journal entry, audited; it is never
    edited. 409 if it is reversed already. Penalty runs reverse on their own the
    settlement-fail penalties of days a late confirmation shows settled."""
    async with uow:
        penalty = await service.reverse_penalty(
            uow.session, penalty_id=penalty_id, reason=body.reason, actor=actor, now=clock()
        )
        return PenaltyOut.model_validate(penalty)


def _month(month: str) -> tuple[date, date]:
    year, number = int(month[:4]), int(month[5:])
    return date(year, number, 1), date(year, number, monthrange(year, number)[1])


@reports_router.get(
    "/reports/penalties",
    response_model=MonthlyPenaltiesOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Penalties of a month, netted per counterparty and currency",
)
async def penalties_report(
    uow: Uow,
    _actor: PenaltiesRead,
    clock: Now,
    month: Annotated[
        str | None, Query(pattern=MONTH, description="YYYY-MM; this month if omitted.")
    ] = None,
    report_format: FormatQuery = ReportFormat.JSON,
) -> MonthlyPenaltiesOut | StreamingResponse:
    """The active penalties of the month's days, netted per counterparty and currency as the
    depository reports them (reversed ones left out): `payable` what we owe, `receivable` what
    is owed to us, `net` = receivable - payable; and the totals per currency."""
    wanted = month or clock().date().strftime("%Y-%m")
    first, last = _month(wanted)
    report = monthly_report(wanted, await service.month_lines(uow.session, first=first, last=last))
    if report_format is ReportFormat.CSV:
        return csv_response(
            csv_lines(CSV_COLUMNS, report["counterparties"]), filename=f"penalties-{wanted}"
        )
    return MonthlyPenaltiesOut.model_validate(report)
