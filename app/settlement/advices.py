"""Status advices: what the CSD or custodian says about our settlement instructions.

A sese.024 status advice moves the matching state (``matched``: pending -> matched;
``unmatched``: back to pending, ``fail_reason`` CMIS) or, for ``pending`` and ``failing``, sets
the instruction's ``fail_reason`` to the first reason code without a change of state. A sese.025
confirmation posts what settled to the journal, adds it to the settled totals (partial
confirmations accumulate) and moves the instruction to ``partially_settled`` or ``settled``
(the trades follow). Every accepted advice is kept; the same ``message_id`` again answers the
first result and changes nothing.

An instruction on hold stays on hold: the advice moves the state it was held in (``held_from``,
restored on release), so a release after a sese.024 ``matched`` returns it matched. A
confirmation in full is the exception: the CSD has settled it, there is nothing left to hold, so
it becomes ``settled`` and the hold ends (``held_from`` only ever holds a holdable state).
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change
from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, InvalidTransition, NotFound, ValidationFailed
from app.core.identifiers import currency_minor_units
from app.core.ids import new_id
from app.core.money import decimal_places, format_decimal
from app.core.pagination import PageRequest, fetch_page
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.settlement.advice_models import StatusAdvice
from app.settlement.advice_schemas import (
    AdviceIn,
    AdviceInstructionOut,
    AdvisedStatus,
    ConfirmedStatus,
    MessageType,
)
from app.settlement.models import SettlementInstruction
from app.settlement.movements import post, signed
from app.settlement.states import (
    HOLDABLE,
    TRANSITIONS,
    DeliveryType,
    InstructionEvent,
    InstructionStatus,
)
from app.trades.capture import post_trade as trades

ADVICE_ENTITY = "status_advice"
INSTRUCTION_ENTITY = "settlement_instruction"
UNMATCHED_REASON = "CMIS"  # the fail reason of an instruction the CSD could not match
ZERO = Decimal(0)
_S = InstructionStatus
# Already matched at the CSD: a (late) matched advice changes nothing.
_PAST_MATCHING = (_S.MATCHED, _S.PARTIALLY_SETTLED, _S.SETTLED)
# Instructions the CSD can report pending or failing.
_AT_THE_CSD = (_S.PENDING, _S.MATCHED, _S.PARTIALLY_SETTLED)
_RECEIVED = (DeliveryType.RVP, DeliveryType.RFP)
_DELIVERED = (DeliveryType.DVP, DeliveryType.DFP)


@dataclass(frozen=True)
class Received:
    advice: StatusAdvice
    # The same message was received before: nothing changed, this is its first result.
    replayed: bool


def fingerprint(advice: AdviceIn) -> str:
    """The advice's content, whichever format it came in: what a repeated message must match."""
    canonical = json.dumps(advice.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Receiving -------------------------------------------------------------------------------------


async def receive_advice(
    session: AsyncSession,
    *,
    advice: AdviceIn,
    source: str,
    actor: Actor,
    now: datetime,
    locations: Mapping[str, str] | None = None,
) -> Received:
    """Apply one advice to its instruction and keep it. ``source`` is ``json`` or the ISO 20022
    message version; ``locations`` name, for an XML advice, the element each field came from
    (problems name it). Refused advices (404, 409, 422) change nothing."""
    where = dict(locations or {})
    instruction = await _lock(session, advice.instruction_id)
    content = fingerprint(advice)
    existing = await _by_message_id(session, advice.message_id)
    if existing is not None:
        if existing.fingerprint != content:
            raise Conflict(
                f"Message '{advice.message_id}' was received before with other content "
                f"(advice {existing.id}); nothing was changed.",
                advice_id=existing.id,
            )
        return Received(existing, replayed=True)
    _check_terms(instruction, advice, where)
    before = row_snapshot(instruction)
    if advice.message_type == MessageType.STATUS:
        assert advice.status is not None  # AdviceIn.problems() requires it
        status = advice.status.value
        _advise_status(instruction, advice)
        confirmed = None
    else:
        confirmed = await _confirm(session, instruction, advice, where, actor=actor, now=now)
        status = confirmed.value
    if row_snapshot(instruction) != before:
        instruction.version += 1
        instruction.updated_at = now
        await record_change(
            session,
            actor=actor,
            entity_type=INSTRUCTION_ENTITY,
            entity_id=instruction.id,
            action=status,
            before=before,
            after=row_snapshot(instruction),
            now=now,
        )
    row = _advice_row(instruction, advice, status, source, content, actor=actor, now=now)
    session.add(row)
    await session.flush()
    await record_change(
        session,
        actor=actor,
        entity_type=ADVICE_ENTITY,
        entity_id=row.id,
        action="received",
        before=None,
        after=row_snapshot(row),
        now=now,
    )
    if confirmed is not None:
        await trades.mark_settled(
            session,
            obligation_id=instruction.obligation_id,
            in_full=confirmed == ConfirmedStatus.SETTLED,
            actor=actor,
            now=now,
        )
    return Received(row, replayed=False)


async def _lock(session: AsyncSession, instruction_id: str) -> SettlementInstruction:
    instruction = await session.get(
        SettlementInstruction, instruction_id, with_for_update=True, populate_existing=True
    )
    if instruction is None:
        raise NotFound(f"No settlement instruction '{instruction_id}'; nothing was changed.")
    return instruction


async def _by_message_id(session: AsyncSession, message_id: str) -> StatusAdvice | None:
    statement = (
        select(StatusAdvice)
        .where(StatusAdvice.message_id == message_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


def _advice_row(
    instruction: SettlementInstruction,
    advice: AdviceIn,
    status: str,
    source: str,
    content: str,
    *,
    actor: Actor,
    now: datetime,
) -> StatusAdvice:
    confirmation = advice.message_type == MessageType.CONFIRMATION
    return StatusAdvice(
        id=new_id("adv"),
        message_id=advice.message_id,
        instruction_id=instruction.id,
        message_type=advice.message_type.value,
        status=status,
        reasons=[reason.model_dump(mode="json") for reason in advice.reasons],
        settled_quantity=advice.settled_quantity,
        settled_amount=(advice.settled_amount or ZERO) if confirmation else None,
        settlement_date=advice.settlement_date,
        source=source,
        payload=advice.model_dump(mode="json"),
        fingerprint=content,
        outcome=AdviceInstructionOut(
            id=instruction.id,
            status=InstructionStatus(instruction.status),
            held_from=InstructionStatus(instruction.held_from) if instruction.held_from else None,
            settled_quantity=instruction.settled_quantity,
            settled_amount=instruction.settled_amount,
            fail_reason=instruction.fail_reason,
        ).model_dump(mode="json"),
        received_at=now,
        received_by=actor.key_id,
    )


# The advice against the instruction ------------------------------------------------------------


def _check_terms(
    instruction: SettlementInstruction, advice: AdviceIn, where: Mapping[str, str]
) -> None:
    """What the advice says of the instruction's terms must be the instruction's."""
    kind = DeliveryType(instruction.delivery_type)
    movement = "RECE" if kind in _RECEIVED else "DELI" if kind in _DELIVERED else None
    expected = {
        "isin": instruction.isin,
        "currency": instruction.currency,
        "credit_debit": instruction.credit_debit,
        "securities_movement": movement,
        "payment": "APMT" if instruction.amount else "FREE",
    }
    problems = [
        FieldProblem(
            where.get(name, name), f"'{given}' is not the instruction's ({ours or 'none'})"
        )
        for name, ours in expected.items()
        if (given := getattr(advice, name)) is not None
        and given != ours
        and not (name == "securities_movement" and ours is None)
    ]
    _refuse(instruction, problems)


def _refuse(instruction: SettlementInstruction, problems: Sequence[FieldProblem]) -> None:
    if problems:
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValidationFailed(
            f"The advice does not fit instruction {instruction.id}: {listed}. Nothing was changed.",
            errors=problems,
        )


def _held(instruction: SettlementInstruction) -> bool:
    return instruction.status == _S.ON_HOLD


def _state(instruction: SettlementInstruction) -> InstructionStatus:
    """The state the instruction is in at the CSD: for a held one, the state it was held in."""
    if _held(instruction):
        assert instruction.held_from is not None  # a hold always records it
        return _S(instruction.held_from)
    return _S(instruction.status)


def _move(instruction: SettlementInstruction, event: InstructionEvent) -> None:
    """Apply ``event`` through the transition table; a held instruction stays on hold with the
    event applied to ``held_from``, unless that leaves nothing to hold (settled in full)."""
    after = next_state(TRANSITIONS, _state(instruction), event)
    if _held(instruction) and after in HOLDABLE:
        instruction.held_from = after.value
        return
    instruction.status = after.value
    instruction.held_from = None


def _advise_status(instruction: SettlementInstruction, advice: AdviceIn) -> None:
    """sese.024: the matching state moves; a settlement status sets the fail reason."""
    status = advice.status
    current = _state(instruction)
    if status in (AdvisedStatus.PENDING, AdvisedStatus.FAILING) and current not in _AT_THE_CSD:
        raise InvalidTransition(
            f"A '{status}' status advice does not apply to a '{current}' instruction; nothing "
            "was changed.",
            current_status=str(current),
            event=str(status),
        )
    if status == AdvisedStatus.MATCHED or advice.matched:
        if current not in _PAST_MATCHING:
            _move(instruction, InstructionEvent.MATCHED)
        if instruction.fail_reason == UNMATCHED_REASON:
            instruction.fail_reason = None
    if status == AdvisedStatus.UNMATCHED:
        _move(instruction, InstructionEvent.UNMATCHED)
        instruction.fail_reason = UNMATCHED_REASON
    elif status in (AdvisedStatus.PENDING, AdvisedStatus.FAILING) and advice.reasons:
        instruction.fail_reason = advice.reasons[0].code


async def _confirm(
    session: AsyncSession,
    instruction: SettlementInstruction,
    advice: AdviceIn,
    where: Mapping[str, str],
    *,
    actor: Actor,
    now: datetime,
) -> ConfirmedStatus:
    """sese.025: post what settled and add it to the totals; returns what the advice did."""
    quantity = advice.settled_quantity
    amount = advice.settled_amount or ZERO
    settled_on = advice.settlement_date
    # AdviceIn.problems() requires both.
    assert quantity is not None
    assert settled_on is not None
    full = _check_confirmation(instruction, advice, where, quantity, amount, settled_on, now)
    left_quantity, left_amount = signed(instruction)
    part_quantity = quantity.copy_sign(left_quantity) if quantity else ZERO
    part_amount = amount.copy_sign(left_amount) if amount else ZERO
    event = InstructionEvent.SETTLED if full else InstructionEvent.PARTIALLY_SETTLED
    _move(instruction, event)  # refused (409) for an instruction not at the CSD
    await post(
        session,
        instruction,
        part_quantity,
        part_amount,
        settled_on=settled_on,
        actor=actor,
        now=now,
    )
    instruction.settled_quantity += quantity
    instruction.settled_amount += amount
    instruction.settled_on = settled_on
    if full:
        instruction.fail_reason = None
    return ConfirmedStatus.SETTLED if full else ConfirmedStatus.PARTIALLY_SETTLED


def _check_confirmation(
    instruction: SettlementInstruction,
    advice: AdviceIn,
    where: Mapping[str, str],
    quantity: Decimal,
    amount: Decimal,
    settled_on: date,
    now: datetime,
) -> bool:
    """Refuse a confirmation that does not fit what is left to settle; returns whether it
    settles the instruction in full."""
    left = {
        "settled_quantity": instruction.quantity - instruction.settled_quantity,
        "settled_amount": instruction.amount - instruction.settled_amount,
    }
    given = {"settled_quantity": quantity, "settled_amount": amount}
    problems: list[FieldProblem] = []
    today = now.date()
    if settled_on > today:
        problems.append(
            FieldProblem(
                where.get("settlement_date", "settlement_date"),
                f"{settled_on} has not come yet (today is {today})",
            )
        )
    places = currency_minor_units(instruction.currency)
    if decimal_places(amount) > places:
        problems.append(
            FieldProblem(
                where.get("settled_amount", "settled_amount"),
                f"has {decimal_places(amount)} decimal places; {instruction.currency} has {places}",
            )
        )
    for name, value in given.items():
        if value > left[name]:
            problems.append(
                FieldProblem(
                    where.get(name, name),
                    f"{format_decimal(value)} is more than the {format_decimal(left[name])} "
                    "left to settle",
                )
            )
    _refuse(instruction, problems)
    # Only what the instruction moves counts: a free delivery has no cash, a PFOD no securities.
    moved = {
        "settled_quantity": instruction.quantity > 0,
        "settled_amount": instruction.amount > 0,
    }
    done = {name: left[name] == given[name] for name in given if moved[name]}
    full = all(done.values())
    if not full and any(done.values()):
        finished = next(name for name, value in done.items() if value)
        problems.append(
            FieldProblem(
                where.get(finished, finished),
                "settles all that is left of it while the rest of the instruction stays open",
            )
        )
    if advice.partial is True and full:
        problems.append(
            FieldProblem(
                where.get("partial", "partial"),
                "says more is to come, but this settles everything that is left",
            )
        )
    if advice.partial is False and not full:
        remaining = ", ".join(
            f"{format_decimal(left[name] - given[name])} {name.removeprefix('settled_')}"
            for name in given
            if moved[name]
        )
        problems.append(
            FieldProblem(
                where.get("partial", "partial"),
                f"says this is the last part, but {remaining} would be left",
            )
        )
    _refuse(instruction, problems)
    return full


# Queries ---------------------------------------------------------------------------------------


async def get_advice(session: AsyncSession, *, advice_id: str) -> StatusAdvice:
    advice = await session.get(StatusAdvice, advice_id)
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
    statement = select(StatusAdvice)
    if instruction_id is not None:
        statement = statement.where(StatusAdvice.instruction_id == instruction_id)
    if message_type is not None:
        statement = statement.where(StatusAdvice.message_type == message_type.value)
    return await fetch_page(session, statement, StatusAdvice.id, page)
