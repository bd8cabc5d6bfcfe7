"""Settlement instruction routes."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.core.clock import Clock, get_clock
from app.core.db import UnitOfWork, get_uow
from app.core.errors import problem_responses
from app.core.identifiers import Isin, Lei
from app.core.pagination import Page, PageRequest, page_request
from app.core.versioning import etag
from app.settlement import service
from app.settlement.auth import SettlementRead, SettlementWrite
from app.settlement.schemas import InstructionOut, UtcDateTime
from app.settlement.states import InstructionStatus

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Now = Annotated[Clock, Depends(get_clock)]
Paging = Annotated[PageRequest, Depends(page_request)]

router = APIRouter(tags=["Settlement"])


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
    status: InstructionStatus | None = None,
    intended_settlement_date: date | None = None,
    isin: Annotated[Isin | None, Query()] = None,
    counterparty_lei: Annotated[Lei | None, Query()] = None,
    obligation_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[InstructionOut]:
    rows, cursor = await service.list_instructions(
        uow.session,
        page=page,
        status=status,
        intended_settlement_date=intended_settlement_date,
        isin=isin,
        counterparty_lei=counterparty_lei,
        obligation_id=obligation_id,
    )
    return Page(items=[InstructionOut.model_validate(row) for row in rows], next_cursor=cursor)


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
    as_of: Annotated[
        UtcDateTime | None,
        Query(
            description="The instruction as it stood at this instant (a timestamp with an "
            "offset, e.g. `2026-11-25T15:10:00Z`), rebuilt from its audit trail; 404 if it "
            "did not exist yet.",
            examples=["2026-11-25T15:10:00Z"],
        ),
    ] = None,
) -> InstructionOut:
    """The instruction now, or with `as_of` as it stood then (same fields, that version).
    The `ETag` is the version answered."""
    if as_of is not None:
        snapshot = await service.instruction_as_of(
            uow.session, instruction_id=instruction_id, as_of=as_of
        )
        out = InstructionOut.model_validate(snapshot)
    else:
        out = InstructionOut.model_validate(
            await service.get_instruction(uow.session, instruction_id=instruction_id)
        )
    response.headers["ETag"] = etag(out.version)
    return out


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
        instruction = await service.enrich(
            uow.session, instruction_id=instruction_id, actor=actor, now=clock()
        )
        return InstructionOut.model_validate(instruction)
