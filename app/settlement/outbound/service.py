"""The outbound queue: instructions and cancellations written for a depository, claimed by a
gateway, reported sent, then acknowledged or rejected by the depository's status advice.

A message's content, reference, instruction, kind and format are written once and never
changed (on PostgreSQL a trigger refuses it); only its delivery status moves, through
``states.TRANSITIONS``, each move audited. This module takes plain values (``InstructionFacts``
built by the instructions service) and never calls that service back.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, audited, record_changes, transition
from app.core.auth import Actor
from app.core.config import get_settings
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.snapshots import jsonable, row_snapshot
from app.settlement.outbound import repository
from app.settlement.outbound.formats.facts import Header, InstructionFacts
from app.settlement.outbound.formats.writers import write
from app.settlement.outbound.models import OutboundMessage
from app.settlement.outbound.references import new_reference
from app.settlement.outbound.states import (
    ADVISED,
    SENT_OR_LATER,
    TRANSITIONS,
    MessageEvent,
    MessageKind,
    MessageStatus,
)

ENTITY = "outbound_message"
_S = MessageStatus


# Which message is live ---------------------------------------------------------------------


def live_new(messages: Sequence[OutboundMessage]) -> OutboundMessage | None:
    """The instruction's message the depository holds (or will): its last ``new`` message not
    rejected and not withdrawn by a cancellation (``messages`` oldest first)."""
    cancelled = {
        m.related_reference
        for m in messages
        if m.kind == MessageKind.CANCEL and m.status != _S.REJECTED
    }
    for message in reversed(messages):
        if message.kind == MessageKind.NEW:
            live = message.status != _S.REJECTED and message.reference not in cancelled
            return message if live else None
    return None


def needs_new(messages: Sequence[OutboundMessage], *, changed_at: datetime) -> bool:
    """Whether an instruction at a depository must be instructed (again): it has no live
    ``new`` message, and if its last one was rejected, it changed since (it was repaired);
    sending it unchanged would only be rejected again."""
    if live_new(messages) is not None:
        return False
    news = [m for m in messages if m.kind == MessageKind.NEW]
    if not news or news[-1].status != _S.REJECTED:
        return True
    rejected_at = news[-1].advised_at
    return rejected_at is None or changed_at > rejected_at


# Writing -----------------------------------------------------------------------------------


def _written(
    instruction_id: str, facts: InstructionFacts, *, cancels: str | None, now: datetime
) -> OutboundMessage:
    """A new ``pending`` message: the instruction (or, with ``cancels``, the cancellation of
    the message of that reference) written in the facts' format under a new reference."""
    header = Header(
        reference=new_reference(now),
        sender_bic=get_settings().our_bic,
        created_at=now,
        cancels=cancels,
    )
    message_format, content = write(facts, header)
    return OutboundMessage(
        id=new_id("om"),
        instruction_id=instruction_id,
        kind=(MessageKind.NEW if cancels is None else MessageKind.CANCEL).value,
        format=message_format,
        reference=header.reference,
        related_reference=cancels,
        content=content,
        status=_S.PENDING.value,
        status_reasons=[],
        created_at=now,
        version=1,
    )


async def _enqueue(
    session: AsyncSession,
    *,
    instruction_id: str,
    facts: InstructionFacts,
    cancels: str | None,
    actor: Actor,
    now: datetime,
) -> OutboundMessage:
    message = _written(instruction_id, facts, cancels=cancels, now=now)
    async with audited(
        session, message, entity_type=ENTITY, action="created", actor=actor, now=now, created=True
    ):
        await repository.add(session, message)
    return message


async def instruct(
    session: AsyncSession,
    *,
    instruction_id: str,
    facts: InstructionFacts,
    actor: Actor,
    now: datetime,
) -> OutboundMessage | None:
    """Queue the instruction's ``new`` message, unless it has a live one already (None then).
    ``facts`` must be writable (``formats.facts.problems`` empty): ``Unwritable`` otherwise."""
    if live_new(await repository.of_instruction(session, instruction_id)) is not None:
        return None
    return await _enqueue(
        session, instruction_id=instruction_id, facts=facts, cancels=None, actor=actor, now=now
    )


async def instruct_many(
    session: AsyncSession,
    *,
    facts: Mapping[str, InstructionFacts],
    actor: Actor,
    now: datetime,
) -> list[OutboundMessage]:
    """``instruct`` for many instructions (``facts`` by instruction id) in a few statements:
    those with a live message already get none."""
    messages = await repository.of_instructions(session, list(facts))
    made = [
        _written(instruction_id, instruction_facts, cancels=None, now=now)
        for instruction_id, instruction_facts in facts.items()
        if live_new(messages[instruction_id]) is None
    ]
    await repository.add_all(session, made)
    await record_changes(
        session,
        [Change(ENTITY, m.id, "created", None, jsonable(row_snapshot(m))) for m in made],
        actor=actor,
        now=now,
    )
    return made


async def cancel(
    session: AsyncSession,
    *,
    instruction_id: str,
    facts: InstructionFacts,
    actor: Actor,
    now: datetime,
) -> OutboundMessage | None:
    """Queue the cancellation of the instruction's live ``new`` message; None when it has
    none (never instructed, or rejected: the depository holds nothing to cancel)."""
    live = live_new(await repository.of_instruction(session, instruction_id))
    if live is None:
        return None
    return await _enqueue(
        session,
        instruction_id=instruction_id,
        facts=facts,
        cancels=live.reference,
        actor=actor,
        now=now,
    )


async def replace(
    session: AsyncSession,
    *,
    instruction_id: str,
    facts: InstructionFacts,
    actor: Actor,
    now: datetime,
) -> list[OutboundMessage]:
    """The instruction changed in what its message says (its priority): cancel the live
    message and queue a new one. Nothing when it has no live message (none was due yet)."""
    cancelled = await cancel(
        session, instruction_id=instruction_id, facts=facts, actor=actor, now=now
    )
    if cancelled is None:
        return []
    new = await _enqueue(
        session, instruction_id=instruction_id, facts=facts, cancels=None, actor=actor, now=now
    )
    return [cancelled, new]


# The gateway -------------------------------------------------------------------------------


def lease() -> timedelta:
    """How long a claim holds: a message claimed longer ago is claimed again by the next
    gateway (the one that claimed it is presumed gone)."""
    return timedelta(seconds=get_settings().outbound_claim_lease_seconds)


async def claim(
    session: AsyncSession, *, limit: int, lease: timedelta, actor: Actor, now: datetime
) -> list[OutboundMessage]:
    """Up to ``limit`` messages to send, oldest first, now ``claimed`` by ``actor``."""
    claimed = list(await repository.claim_next(session, expired_before=now - lease, limit=limit))
    for message in claimed:
        if message.status == _S.CLAIMED:
            await _move(session, message, MessageEvent.LEASE_EXPIRED, actor=actor, now=now)
        await _move(
            session,
            message,
            MessageEvent.CLAIMED,
            actor=actor,
            now=now,
            claimed_at=now,
            claimed_by=actor.key_id,
        )
    return claimed


async def mark_sent(
    session: AsyncSession, *, message_id: str, actor: Actor, now: datetime
) -> OutboundMessage:
    """``claimed`` -> ``sent``; a message sent already (or answered) is answered as it is;
    one not claimed is a 409."""
    message = await repository.get_for_update(session, message_id)
    if message is None:
        raise NotFound(f"No outbound message '{message_id}'.")
    if message.status in SENT_OR_LATER:
        return message
    if message.status != _S.CLAIMED:
        raise Conflict(
            f"Outbound message '{message_id}' is {message.status}: only a claimed message can "
            "be reported sent (claim it first)."
        )
    await _move(session, message, MessageEvent.SENT, actor=actor, now=now, sent_at=now)
    return message


async def _move(
    session: AsyncSession,
    message: OutboundMessage,
    event: MessageEvent,
    *,
    actor: Actor,
    now: datetime,
    **changes: Any,
) -> None:
    await transition(
        session,
        message,
        transitions=TRANSITIONS,
        event=event,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        version=message.version + 1,
        **changes,
    )


# The depository's answer -------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessingStatus:
    """What ``record_processing_status`` did: the message and whether it moved (False for an
    advice that repeats what was recorded)."""

    message: OutboundMessage
    moved: bool


async def record_processing_status(
    session: AsyncSession,
    *,
    reference: str,
    status: str,
    reasons: Sequence[dict[str, Any]],
    now: datetime,
    actor: Actor,
) -> ProcessingStatus:
    """The depository's processing status of our message ``reference``: ``acknowledged`` or
    ``rejected`` (with its reasons, ``[{"code", "text"}]``, kept on the message). Audited. The
    same status again changes nothing; 404 for an unknown reference, 409 for a move the
    lifecycle does not allow (a message never sent)."""
    if status not in ADVISED:
        raise ValueError(f"processing status {status!r}: acknowledged or rejected")
    message = await repository.lock_by_reference(session, reference)
    if message is None:
        raise NotFound(f"No outbound message with reference '{reference}'.")
    if message.status == status:
        return ProcessingStatus(message, moved=False)
    await _move(
        session,
        message,
        ADVISED[status],
        actor=actor,
        now=now,
        status_reasons=[dict(reason) for reason in reasons],
        advised_at=now,
    )
    return ProcessingStatus(message, moved=True)


# Reading -----------------------------------------------------------------------------------


async def get_message(session: AsyncSession, *, message_id: str) -> OutboundMessage:
    message = await repository.get(session, message_id)
    if message is None:
        raise NotFound(f"No outbound message '{message_id}'.")
    return message


async def list_messages(
    session: AsyncSession,
    *,
    page: PageRequest,
    status: MessageStatus | None = None,
    message_format: str | None = None,
    instruction_id: str | None = None,
) -> tuple[Sequence[OutboundMessage], str | None]:
    return await repository.page_of(
        session,
        page=page,
        status=status.value if status else None,
        message_format=message_format,
        instruction_id=instruction_id,
    )


async def messages_of(session: AsyncSession, *, instruction_id: str) -> Sequence[OutboundMessage]:
    """Every message of one instruction, oldest first."""
    return await repository.of_instruction(session, instruction_id)


async def messages_of_many(
    session: AsyncSession, *, instruction_ids: Sequence[str]
) -> dict[str, list[OutboundMessage]]:
    return await repository.of_instructions(session, instruction_ids)


async def references_of(session: AsyncSession, *, instruction_ids: Sequence[str]) -> dict[str, str]:
    """Each instruction's reference at the depository (SEME): its live ``new`` message's, else
    its last ``new`` message's; instructions never instructed are left out."""
    found: dict[str, str] = {}
    for instruction_id, messages in (
        await repository.of_instructions(session, instruction_ids)
    ).items():
        news = [m for m in messages if m.kind == MessageKind.NEW]
        chosen = live_new(messages) or (news[-1] if news else None)
        if chosen is not None:
            found[instruction_id] = chosen.reference
    return found


async def instructions_of_references(
    session: AsyncSession, *, references: Sequence[str]
) -> dict[str, str]:
    """The instruction of each of these references (SEMEs) we sent; unknown ones left out."""
    return {
        m.reference: m.instruction_id
        for m in await repository.by_references(session, list(references))
    }


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """Messages to depositories per status (statuses with none left out)."""
    return await repository.count_by_status(session)
