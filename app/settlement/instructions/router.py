"""Settlement instruction routes, the fails report and the buy-in candidates."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from app.core.deps import Now, Paging, Uow, as_of_query
from app.core.errors import problem_responses
from app.core.identifiers import Isin, Lei
from app.core.moments import UtcDateTime
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.core.reporting import CSV_RESPONSE, FormatQuery, ReportFormat, csv_lines, csv_response
from app.core.versioning import etag, parse_if_match
from app.settlement.auth import (
    SettlementRead,
    SettlementReportRead,
    SettlementWrite,
    StatusHistoryRead,
)
from app.settlement.instructions import buy_ins, service
from app.settlement.instructions import fails as fails_csv
from app.settlement.instructions.schemas import (
    BuyInCandidatesOut,
    FailsReportOut,
    InstructionOut,
    InstructionPatch,
    StatusEventOut,
)
from app.settlement.instructions.states import InstructionStatus

Version = Annotated[int, Depends(parse_if_match)]

router = APIRouter(tags=["Settlement instructions"], dependencies=[ISO_QUERY_DATES])
reports_router = APIRouter(tags=["Reports"], dependencies=[ISO_QUERY_DATES])


@router.get(
    "/settlement-instructions",
    response_model=Page[InstructionOut],
    responses=problem_responses(),
    summary="Settlement instructions",
)
async def list_instructions(
    uow: Uow,
    _actor: SettlementRead,
    page: Paging,
    clock: Now,
    status: InstructionStatus | None = None,
    intended_settlement_date: date | None = None,
    isin: Annotated[Isin | None, Query()] = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    obligation_id: Annotated[str | None, Query(max_length=40)] = None,
    failing: Annotated[
        bool, Query(description="Only instructions past their intended settlement date.")
    ] = False,
    older_than_days: Annotated[
        int | None,
        Query(ge=0, le=3650, description="Only those due more than this many calendar days ago."),
    ] = None,
) -> Page[InstructionOut]:
    rows, cursor = await service.list_instructions(
        uow.session,
        page=page,
        today=clock().date(),
        status=status,
        intended_settlement_date=intended_settlement_date,
        isin=isin,
        counterparty_lei=counterparty_lei,
        obligation_id=obligation_id,
        failing=failing,
        older_than_days=older_than_days,
    )
    return Page(items=[_out(row) for row in rows], next_cursor=cursor)


def _out(aged: service.Aged) -> InstructionOut:
    """An instruction (row or audit snapshot) as answered, with how long it has failed."""
    return InstructionOut.model_validate(aged.instruction).model_copy(
        update={"days_failing": aged.days_failing}
    )


@router.get(
    "/settlement-instructions/{instruction_id}",
    response_model=InstructionOut,
    responses=problem_responses(404),
    summary="One settlement instruction",
)
async def get_instruction(
    instruction_id: str,
    response: Response,
    uow: Uow,
    _actor: SettlementRead,
    clock: Now,
    as_of: Annotated[
        UtcDateTime | None, as_of_query("`days_failing` counts the business days to that day.")
    ] = None,
) -> InstructionOut:
    """The instruction now, or with `as_of` as it stood then (same fields, that version).
    The `ETag` is the version answered."""
    out = _out(
        await service.find_instruction(
            uow.session, instruction_id=instruction_id, as_of=as_of, now=clock()
        )
    )
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "/settlement-instructions/{instruction_id}/status-history",
    response_model=Page[StatusEventOut],
    responses=problem_responses(404),
    summary="An instruction's status history: every block and reason the CSD advised, holds",
)
async def status_history(
    instruction_id: str, uow: Uow, _actor: StatusHistoryRead, page: Paging
) -> Page[StatusEventOut]:
    """Oldest first: each status block of each advice (processing, matching, settlement) with
    all its reasons, each confirmation, each hold and release (by the CSD's advice or by
    operations)."""
    rows, cursor = await service.status_history(
        uow.session, instruction_id=instruction_id, page=page
    )
    return Page(items=[StatusEventOut.model_validate(row) for row in rows], next_cursor=cursor)


@router.post(
    "/settlement-instructions/{instruction_id}/enrich",
    response_model=InstructionOut,
    responses=problem_responses(404, 409),
    summary="Enrich an instruction in repair again, after its SSI was added or fixed",
)
async def enrich_instruction(
    instruction_id: str, uow: Uow, actor: SettlementWrite, clock: Now
) -> InstructionOut:
    """Leaves `repair` once exactly one SSI fits (for a CCP, straight to `matched`); until
    then the reason says what is still missing. Its trades become `instructed`."""
    async with uow:
        return _out(
            await service.enrich(
                uow.session, instruction_id=instruction_id, actor=actor, now=clock()
            )
        )


_OPERATIONS = {
    "hold": (
        service.hold_instruction,
        "Hold an instruction: runs skip it, reporting it as held, until it is released",
    ),
    "release": (
        service.release_instruction,
        "Release a held instruction to the state it was held in",
    ),
    "cancel": (service.cancel_instruction, "Cancel an instruction that has settled nothing yet"),
}


def _operation_route(name: str) -> None:
    apply, summary = _OPERATIONS[name]

    async def route(
        instruction_id: str, uow: Uow, actor: SettlementWrite, clock: Now
    ) -> InstructionOut:
        async with uow:
            return _out(
                await apply(uow.session, instruction_id=instruction_id, actor=actor, now=clock())
            )

    route.__name__ = f"{name}_instruction"
    router.post(
        f"/settlement-instructions/{{instruction_id}}/{name}",
        response_model=InstructionOut,
        responses=problem_responses(404, 409),
        summary=summary,
    )(route)


for _name in _OPERATIONS:
    _operation_route(_name)


@router.patch(
    "/settlement-instructions/{instruction_id}",
    response_model=InstructionOut,
    responses=problem_responses(404, 409, 412, 428),
    summary="Change an instruction's priority or partial settlement (If-Match: its version)",
)
async def amend_instruction(
    instruction_id: str,
    body: InstructionPatch,
    response: Response,
    uow: Uow,
    actor: SettlementWrite,
    clock: Now,
    version: Version,
) -> InstructionOut:
    """`priority`, `partial_allowed` and/or `partial_indicator` (at least one). A stale
    `If-Match` is 412; a settled or cancelled instruction 409; `partial_allowed` contradicting
    `partial_indicator` 422. The next settlement run applies the change."""
    async with uow:
        aged = await service.amend_instruction(
            uow.session,
            instruction_id=instruction_id,
            version=version,
            priority=body.priority,
            partial_allowed=body.partial_allowed,
            partial_indicator=body.partial_indicator,
            actor=actor,
            now=clock(),
        )
        out = _out(aged)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "/reports/fails",
    response_model=FailsReportOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Failing instructions by age, reason and counterparty",
)
async def fails(
    uow: Uow, _actor: SettlementRead, clock: Now, report_format: FormatQuery = ReportFormat.JSON
) -> FailsReportOut | StreamingResponse:
    """Every instruction past its intended settlement date and not settled (held ones too),
    counted by business days failing, fail reason and counterparty, with the cash left
    unsettled per currency. CSV: one row per group (`total`, `age`, `reason`, `counterparty`)
    and currency: `group,key,instructions,currency,unsettled`."""
    today = clock().date()
    report = await service.fails_report(uow.session, today=today)
    if report_format is ReportFormat.CSV:
        return csv_response(
            csv_lines(fails_csv.CSV_COLUMNS, fails_csv.csv_rows(report)), filename=f"fails-{today}"
        )
    return FailsReportOut.model_validate(report)


@reports_router.get(
    "/reports/buy-in-candidates",
    response_model=BuyInCandidatesOut,
    responses={**CSV_RESPONSE, **problem_responses()},
    summary="Fails past the extension period of their instrument class: buy-in candidates",
)
async def buy_in_candidates(
    uow: Uow,
    _actor: SettlementReportRead,
    clock: Now,
    as_of: Annotated[
        date | None, Query(description="The day failing is counted to; today if omitted.")
    ] = None,
    report_format: FormatQuery = ReportFormat.JSON,
) -> BuyInCandidatesOut | StreamingResponse:
    """Every open instruction moving securities whose business days failing (its market's
    settlement calendar, to `as_of`) exceed the extension period (`/buy-in-extension-periods`)
    of its instrument's class in force at its intended settlement date: what is still due,
    the days past the extension and the fail reason. Furthest past first, then by instruction
    id. Since the 2023 CSDR review buy-ins are not mandatory: this is a list to act on."""
    day = as_of or clock().date()
    candidates = await service.buy_in_candidates(uow.session, as_of=day)
    if report_format is ReportFormat.CSV:
        return csv_response(buy_ins.csv_lines(candidates), filename=f"buy-in-candidates-{day}")
    return BuyInCandidatesOut.model_validate(
        {"as_of": day, "items": [candidate.out() for candidate in candidates]}
    )
