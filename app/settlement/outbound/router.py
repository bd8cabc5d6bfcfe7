"""Outbound message routes: the queue a gateway works through, and what was sent for one
instruction."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.settlement.instructions import service as instructions
from app.settlement.outbound import service
from app.settlement.outbound.auth import OutboundRead, OutboundWrite
from app.settlement.outbound.schemas import ClaimedOut, OutboundMessageOut
from app.settlement.outbound.states import MessageStatus

router = APIRouter(tags=["Outbound messages"])


@router.get(
    "/outbound-messages",
    response_model=Page[OutboundMessageOut],
    responses=problem_responses(),
    summary="Outbound messages: instructions and cancellations for depositories",
)
async def list_messages(
    uow: Uow,
    _actor: OutboundRead,
    page: Paging,
    status: MessageStatus | None = None,
    format: Annotated[
        str | None, Query(max_length=20, description="e.g. `sese.023.001.11`, `MT543`.")
    ] = None,
    instruction_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[OutboundMessageOut]:
    """In the order they were written."""
    rows, cursor = await service.list_messages(
        uow.session, page=page, status=status, message_format=format, instruction_id=instruction_id
    )
    return Page(items=[OutboundMessageOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post(
    "/outbound-messages/claim",
    response_model=ClaimedOut,
    responses=problem_responses(),
    summary="Claim messages to send (a gateway)",
)
async def claim(
    uow: Uow,
    actor: OutboundWrite,
    clock: Now,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> ClaimedOut:
    """Up to `limit` pending messages, oldest first, now `claimed` by the caller; two gateways
    claiming at once never get the same message. A claim holds for the lease (5 minutes by
    default): a message claimed longer ago and never reported sent is claimed again."""
    async with uow:
        claimed = await service.claim(
            uow.session, limit=limit, lease=service.lease(), actor=actor, now=clock()
        )
        return ClaimedOut(items=[OutboundMessageOut.model_validate(m) for m in claimed])


@router.get(
    "/outbound-messages/{message_id}",
    response_model=OutboundMessageOut,
    responses=problem_responses(404),
    summary="One outbound message",
)
async def get_message(message_id: str, uow: Uow, _actor: OutboundRead) -> OutboundMessageOut:
    return OutboundMessageOut.model_validate(
        await service.get_message(uow.session, message_id=message_id)
    )


@router.post(
    "/outbound-messages/{message_id}/sent",
    response_model=OutboundMessageOut,
    responses=problem_responses(404, 409),
    summary="Report a claimed message sent",
)
async def mark_sent(
    message_id: str, uow: Uow, actor: OutboundWrite, clock: Now
) -> OutboundMessageOut:
    """`claimed` -> `sent`. A message sent already answers as it is; one not claimed is a 409."""
    async with uow:
        message = await service.mark_sent(
            uow.session, message_id=message_id, actor=actor, now=clock()
        )
        return OutboundMessageOut.model_validate(message)


@router.get(
    "/settlement-instructions/{instruction_id}/messages",
    response_model=list[OutboundMessageOut],
    responses=problem_responses(404),
    summary="What was sent to the depository for one instruction",
)
async def messages_of_instruction(
    instruction_id: str, uow: Uow, _actor: OutboundRead
) -> list[OutboundMessageOut]:
    """Oldest first: its instruction, cancellations and replacements."""
    await instructions.get_instruction(uow.session, instruction_id=instruction_id)
    return [
        OutboundMessageOut.model_validate(m)
        for m in await service.messages_of(uow.session, instruction_id=instruction_id)
    ]
