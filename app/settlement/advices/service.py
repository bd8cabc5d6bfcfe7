"""Status advices: what the CSD or custodian says about our settlement instructions (sese.024
or MT548 status, sese.025 or MT544-547 confirmation), applied to the instruction, recorded block
by block in its status history, and kept; what cannot be applied is kept as an exception for
operations."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited
from app.core.auth import Actor
from app.core.errors import Conflict, InvalidTransition, NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.settlement.advices import repository
from app.settlement.advices.checks import (
    AT_THE_CSD,
    ZERO,
    Confirmed,
    check_confirmation,
    check_terms,
)
from app.settlement.advices.models import StatusAdvice
from app.settlement.advices.schemas import (
    AdviceIn,
    AdviceInstructionOut,
    AdviceOutcome,
    AdvisedStatus,
    Block,
    MessageType,
    ReasonIn,
    StatusBlockIn,
)
from app.settlement.instructions import service as instructions
from app.settlement.instructions.models import InstructionStatusEvent, SettlementInstruction
from app.settlement.instructions.states import HeldBy, InstructionEvent, InstructionStatus
from app.settlement.outbound import repository as outbound
from app.settlement.outbound import service as outbound_queue
from app.settlement.outbound.models import OutboundMessage
from app.settlement.outbound.states import MessageKind, MessageStatus
from app.trades.capture import post_trade as trades

ADVICE_ENTITY = "status_advice"
MESSAGE_ENTITY = "outbound_message"
UNMATCHED_REASON = "CMIS"  # the fail reason of an instruction the CSD could not match
_S = InstructionStatus
# Already matched at the CSD: a (late) matched advice changes nothing.
_PAST_MATCHING = (_S.MATCHED, _S.PARTIALLY_SETTLED, _S.SETTLED)
# Pending or failing reasons that say the instruction is held, and by whom (sese.024
# PendingReason / FailingReason codes; MT548 :24B::PEND// and PENF//).
HOLDS: Mapping[str, HeldBy] = {
    "PREA": HeldBy.US,  # your instruction is on hold (party hold)
    "PRCY": HeldBy.COUNTERPARTY,  # the counterparty's instruction is on hold
    "CSDH": HeldBy.CSD,  # CSD hold
    "CVAL": HeldBy.CSD,  # CSD validation hold
    "CDLR": HeldBy.CSD,  # conditional delivery awaiting release (CoSD hold)
}


@dataclass(frozen=True)
class Received:
    advice: StatusAdvice
    # The same message was received before: nothing changed, this is its first result.
    replayed: bool


@dataclass
class _History:
    """The status events one advice adds to its instruction's history."""

    instruction: SettlementInstruction
    advice_id: str
    sender: str
    now: datetime
    events: list[InstructionStatusEvent] = field(default_factory=list)

    def add(self, block: Block, status: str, reasons: list[dict[str, Any]]) -> None:
        self.events.append(
            instructions.status_event(
                self.instruction,
                block=block.value,
                status=status,
                reasons=reasons,
                sender=self.sender,
                now=self.now,
                advice_id=self.advice_id,
            )
        )


def fingerprint(advice: AdviceIn) -> str:
    """The advice's content, whichever format it came in: what a repeated message must match
    (not its sender: that, with the message id, is what finds the first one)."""
    content = advice.model_dump(mode="json", exclude={"sender"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def reason_json(reason: ReasonIn) -> dict[str, Any]:
    """A reason as kept: ISO codes as ``{"code", "text"}``, proprietary ones with their issuer."""
    kept: dict[str, Any] = {"code": reason.code, "text": reason.text}
    if reason.proprietary:
        kept.update(proprietary=True, issuer=reason.issuer)
    return kept


# Receiving -------------------------------------------------------------------------------------


async def receive_advice(
    session: AsyncSession,
    *,
    advice: AdviceIn,
    source: str,
    sender: str,
    actor: Actor,
    now: datetime,
    locations: Mapping[str, str] | None = None,
) -> Received:
    """Apply one advice to its instruction and keep it. ``source`` is ``json``, the ISO 20022
    message version or the MT; ``sender`` who sent it (a BIC, or the API key's id);
    ``locations`` name where each field came from in the message (problems name it).

    The instruction is the one of our outbound message the advice's reference names (else the
    reference, or ``instruction_id``, is taken as an instruction id). Unknown, or a
    confirmation that does not fit what is pending: kept with status ``exception`` for
    operations, nothing applied. Refused advices (409, 422) change nothing; the same sender and
    ``message_id`` again answers the first result and changes nothing.

    An instruction on hold by operations stays on hold: the advice moves the state it was held
    in (``held_from``); a confirmation in full is the exception (nothing is left to hold)."""
    where = dict(locations or {})
    await repository.lock_message_id(session, sender=sender, message_id=advice.message_id)
    instruction, message = await _target(session, advice)
    content = fingerprint(advice)
    existing = await repository.by_message_id(session, sender=sender, message_id=advice.message_id)
    if existing is not None:
        return _replayed(existing, advice, sender, content)
    row = _advice_row(advice, sender, source, content, actor=actor, now=now)
    if instruction is None:
        named = advice.reference or advice.instruction_id
        return await _exception(
            session, row, None, f"no instruction has the reference '{named}'", actor=actor, now=now
        )
    row.instruction_id = instruction.id
    check_terms(instruction, advice, where)
    history = _History(instruction, row.id, sender, now)
    if advice.message_type == MessageType.STATUS:
        await _advise(session, instruction, message, advice, history, actor=actor, now=now)
        row.status = advice.headline().status.value
    else:
        checked = check_confirmation(
            instruction, advice, where, now, status_at_csd=instructions.status_at_csd(instruction)
        )
        if isinstance(checked, str):
            history.add(Block.CONFIRMATION, AdviceOutcome.EXCEPTION.value, [])
            return await _exception(session, row, history, checked, actor=actor, now=now)
        await _confirm(session, instruction, checked, history, actor=actor, now=now)
        row.status = checked.status.value
    row.outcome = _outcome(instruction)
    received = await _keep(session, row, history, actor=actor, now=now)
    if advice.message_type == MessageType.CONFIRMATION:
        await trades.mark_settled(
            session,
            obligation_id=instruction.obligation_id,
            in_full=row.status == _S.SETTLED,
            actor=actor,
            now=now,
        )
    return received


async def _target(
    session: AsyncSession, advice: AdviceIn
) -> tuple[SettlementInstruction | None, OutboundMessage | None]:
    """The instruction the advice is about, locked, and our message it names (if any)."""
    message = None
    if advice.reference is not None:
        message = await outbound.by_reference(session, advice.reference)
        instruction_id = message.instruction_id if message is not None else advice.reference
    else:
        assert advice.instruction_id is not None  # AdviceIn.problems() requires one
        instruction_id = advice.instruction_id
    try:
        instruction = await instructions.lock_instruction(session, instruction_id)
    except NotFound:
        return None, None
    if message is None:
        # By instruction id: the processing status is about the last message sent for it.
        sent = await outbound.of_instruction(session, instruction.id)
        message = sent[-1] if sent else None
    return instruction, message


def _replayed(existing: StatusAdvice, advice: AdviceIn, sender: str, content: str) -> Received:
    if existing.fingerprint != content:
        raise Conflict(
            f"Message '{advice.message_id}' from '{sender}' was received before with other "
            f"content (advice {existing.id}); nothing was changed.",
            advice_id=existing.id,
        )
    return Received(existing, replayed=True)


def _advice_row(
    advice: AdviceIn, sender: str, source: str, content: str, *, actor: Actor, now: datetime
) -> StatusAdvice:
    confirmation = advice.message_type == MessageType.CONFIRMATION
    headline = None if confirmation else advice.headline()
    return StatusAdvice(
        id=new_id("adv"),
        message_id=advice.message_id,
        sender=sender,
        reference=advice.reference or advice.instruction_id,
        instruction_id=None,
        message_type=advice.message_type.value,
        status=AdviceOutcome.EXCEPTION.value,
        reasons=[] if headline is None else [reason_json(r) for r in headline.reasons],
        settled_quantity=advice.settled_quantity,
        settled_amount=(advice.settled_amount or ZERO) if confirmation else None,
        settlement_date=advice.settlement_date,
        source=source,
        payload=advice.model_dump(mode="json"),
        fingerprint=content,
        outcome={},
        received_at=now,
        received_by=actor.key_id,
    )


def _outcome(instruction: SettlementInstruction) -> dict[str, Any]:
    return AdviceInstructionOut(
        id=instruction.id,
        status=InstructionStatus(instruction.status),
        held_from=InstructionStatus(instruction.held_from) if instruction.held_from else None,
        held_by=instruction.held_by,
        hold_reason=instruction.hold_reason,
        settled_quantity=instruction.settled_quantity,
        settled_amount=instruction.settled_amount,
        fail_reason=instruction.fail_reason,
    ).model_dump(mode="json")


async def _keep(
    session: AsyncSession,
    row: StatusAdvice,
    history: "_History | None",
    *,
    actor: Actor,
    now: datetime,
) -> Received:
    async with audited(
        session,
        row,
        entity_type=ADVICE_ENTITY,
        action="received",
        actor=actor,
        now=now,
        created=True,
    ):
        await repository.add(session, row)
    if history is not None and history.events:
        await instructions.record_status_events(session, history.events)
    return Received(row, replayed=False)


async def _exception(
    session: AsyncSession,
    row: StatusAdvice,
    history: _History | None,
    reason: str,
    *,
    actor: Actor,
    now: datetime,
) -> Received:
    """Kept for operations, nothing applied: answered 202 with the advice and the reason."""
    row.status = AdviceOutcome.EXCEPTION.value
    row.exception = reason[:1000]
    if history is not None:
        row.outcome = _outcome(history.instruction)
    return await _keep(session, row, history, actor=actor, now=now)


# Applying a status advice ----------------------------------------------------------------------


def _hold_state(instruction: SettlementInstruction) -> tuple[bool, str | None, str | None]:
    return instruction.status == _S.ON_HOLD, instruction.held_by, instruction.hold_reason


def _record_hold(
    history: _History,
    before: tuple[bool, str | None, str | None],
    instruction: SettlementInstruction,
) -> None:
    """A hold the advice started or changed, or ended, in the status history."""
    after = _hold_state(instruction)
    if after == before or (before[0] and after[0] and after[1] == before[1] == HeldBy.OPERATIONS):
        return
    if not after[0]:
        history.add(Block.HOLD, instructions.hold_status(None), [])
        return
    held_by = HeldBy(after[1]) if after[1] else HeldBy.OPERATIONS
    reasons = [{"code": after[2], "text": None}] if after[2] else []
    history.add(Block.HOLD, instructions.hold_status(held_by), reasons)


async def _advise(
    session: AsyncSession,
    instruction: SettlementInstruction,
    message: OutboundMessage | None,
    advice: AdviceIn,
    history: _History,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Every status block in turn (processing, matching, settlement), audited as one change of
    the instruction if it changes anything; each block and each hold in the history."""
    before = _hold_state(instruction)
    async with instructions.audited_if_changed(
        session, instruction, action=advice.headline().status.value, actor=actor, now=now
    ):
        for block, given in advice.blocks():
            history.add(block, given.status.value, [reason_json(r) for r in given.reasons])
            if block == Block.PROCESSING:
                await _processing(session, instruction, message, given, actor=actor, now=now)
            elif block == Block.MATCHING:
                _matching(instruction, given)
            else:
                _settlement(instruction, given)
    _record_hold(history, before, instruction)


async def _processing(
    session: AsyncSession,
    instruction: SettlementInstruction,
    message: OutboundMessage | None,
    given: StatusBlockIn,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Acknowledged or rejected: our message's status. Rejected: the instruction to repair
    with the CSD's reasons (not for a rejected cancellation: the instruction stays as it is).
    Cancelled: the instruction is cancelled, unless it already is or the message cancelled was
    replaced."""
    status = given.status
    reasons = [reason_json(r) for r in given.reasons]
    if message is not None and status in (AdvisedStatus.ACKNOWLEDGED, AdvisedStatus.REJECTED):
        await outbound_queue.record_processing_status(
            session,
            reference=message.reference,
            status=status.value,
            reasons=reasons,
            actor=actor,
            now=now,
        )
    if status == AdvisedStatus.REJECTED and (message is None or message.kind == MessageKind.NEW):
        repair = [
            {"code": r.code, "detail": r.text or f"rejected by the CSD ({r.code})"}
            for r in given.reasons
        ] or [{"code": "REJT", "detail": "rejected by the CSD, no reason given"}]
        instructions.reject_at_csd(instruction, reasons=repair)
    elif status == AdvisedStatus.CANCELLED:
        if message is None:
            await instructions.cancel_at_csd(session, instruction, actor=actor, now=now)
            return
        sent = list(await outbound.of_instruction(session, message.instruction_id))
        for cancellation in _our_cancellations(sent, message):
            await outbound_queue.record_processing_status(
                session,
                reference=cancellation.reference,
                status=MessageStatus.ACKNOWLEDGED.value,
                reasons=[],
                actor=actor,
                now=now,
            )
        if not _replaced(sent, message):
            await instructions.cancel_at_csd(session, instruction, actor=actor, now=now)


def _our_cancellations(
    sent: Sequence[OutboundMessage], cancelled: OutboundMessage
) -> list[OutboundMessage]:
    """The cancellations we sent for the message the depository cancelled and that await its
    answer: its cancellation confirms them."""
    return [
        m
        for m in sent
        if m.kind == MessageKind.CANCEL
        and m.related_reference == cancelled.reference
        and m.status in (MessageStatus.CLAIMED, MessageStatus.SENT)
    ]


def _replaced(sent: Sequence[OutboundMessage], cancelled: OutboundMessage) -> bool:
    """Whether the message the depository cancelled was replaced by a later ``new`` one (a
    priority change cancels and re-sends; ``sent`` is oldest first): that cancellation ends the
    old message, not the instruction."""
    if cancelled.kind != MessageKind.NEW:
        return False
    after = sent[[m.id for m in sent].index(cancelled.id) + 1 :]
    return any(m.kind == MessageKind.NEW for m in after)


def _matching(instruction: SettlementInstruction, given: StatusBlockIn) -> None:
    """``matched`` moves a pending instruction to matched (and ends the CMIS fail reason),
    ``unmatched`` back to pending with the fail reason CMIS."""
    current = instructions.status_at_csd(instruction)
    if given.status == AdvisedStatus.MATCHED:
        if current not in _PAST_MATCHING:
            instructions.advance_at_csd(instruction, InstructionEvent.MATCHED)
        if instruction.fail_reason == UNMATCHED_REASON:
            instruction.fail_reason = None
        return
    instructions.advance_at_csd(instruction, InstructionEvent.UNMATCHED)
    instruction.fail_reason = UNMATCHED_REASON


def _settlement(instruction: SettlementInstruction, given: StatusBlockIn) -> None:
    """``pending``/``failing``: the first reason becomes the fail reason; a hold reason puts it
    on hold by whoever holds it, an advice without one releases a hold the CSD reported."""
    current = instructions.status_at_csd(instruction)
    if current not in AT_THE_CSD:
        raise InvalidTransition(
            f"A '{given.status}' status advice does not apply to a '{current}' instruction; "
            "nothing was changed.",
            current_status=str(current),
            event=str(given.status),
        )
    if given.reasons:
        instruction.fail_reason = given.reasons[0].code
    hold = next((r for r in given.reasons if not r.proprietary and r.code in HOLDS), None)
    if hold is None:
        instructions.release_at_csd(instruction)
    else:
        instructions.hold_at_csd(instruction, held_by=HOLDS[hold.code], reason=hold.code)


async def _confirm(
    session: AsyncSession,
    instruction: SettlementInstruction,
    confirmed: Confirmed,
    history: _History,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Posted, added to the settled totals, on the effective settlement date; a hold the CSD
    reported ends (it settled), one by operations stays unless nothing is left."""
    before = _hold_state(instruction)
    async with instructions.audited_if_changed(
        session, instruction, action=confirmed.status.value, actor=actor, now=now
    ):
        instructions.release_at_csd(instruction)
        await instructions.settle_at_csd(
            session,
            instruction,
            quantity=confirmed.quantity,
            amount=confirmed.amount,
            settled_on=confirmed.settled_on,
            in_full=confirmed.in_full,
            actor=actor,
            now=now,
        )
    history.add(Block.CONFIRMATION, confirmed.status.value, [])
    _record_hold(history, before, instruction)


# Exceptions ------------------------------------------------------------------------------------


async def resolve_exception(
    session: AsyncSession, *, advice_id: str, comment: str, actor: Actor, now: datetime
) -> StatusAdvice:
    """Operations close an exception with what they did about it (409 if it is not one)."""
    advice = await repository.get_for_update(session, advice_id)
    if advice is None:
        raise NotFound(f"No status advice '{advice_id}'.")
    if advice.status != AdviceOutcome.EXCEPTION:
        raise Conflict(
            f"Status advice '{advice_id}' is {advice.status}, not an open exception: there is "
            "nothing to resolve."
        )
    async with audited(
        session, advice, entity_type=ADVICE_ENTITY, action="resolved", actor=actor, now=now
    ):
        advice.status = AdviceOutcome.RESOLVED.value
        advice.resolved_at = now
        advice.resolved_by = actor.key_id
        advice.resolution = comment
    return advice


async def list_exceptions(
    session: AsyncSession, *, page: PageRequest, resolved: bool
) -> tuple[Sequence[StatusAdvice], str | None]:
    status = AdviceOutcome.RESOLVED if resolved else AdviceOutcome.EXCEPTION
    return await repository.page_of(
        session, page=page, instruction_id=None, message_type=None, status=status.value
    )


# Queries ---------------------------------------------------------------------------------------


async def get_advice(session: AsyncSession, *, advice_id: str) -> StatusAdvice:
    advice = await repository.get(session, advice_id)
    if advice is None:
        raise NotFound(f"No status advice '{advice_id}'.")
    return advice


async def list_advices(
    session: AsyncSession,
    *,
    page: PageRequest,
    instruction_id: str | None = None,
    message_type: MessageType | None = None,
) -> tuple[Sequence[StatusAdvice], str | None]:
    return await repository.page_of(
        session,
        page=page,
        instruction_id=instruction_id,
        message_type=message_type.value if message_type is not None else None,
    )
