"""Status advices: what the CSD or custodian says about our settlement instructions (sese.024
status, sese.025 confirmation), applied to the instruction and kept."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited
from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, InvalidTransition, NotFound, ValidationFailed
from app.core.identifiers import currency_minor_units
from app.core.ids import new_id
from app.core.money import decimal_places, format_decimal
from app.core.pagination import PageRequest
from app.settlement.advices import repository
from app.settlement.advices.models import StatusAdvice
from app.settlement.advices.schemas import (
    AdviceIn,
    AdviceInstructionOut,
    AdvisedStatus,
    ConfirmedStatus,
    MessageType,
)
from app.settlement.instructions import service as instructions
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.instructions.states import DeliveryType, InstructionEvent, InstructionStatus
from app.trades.capture import post_trade as trades

ADVICE_ENTITY = "status_advice"
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


@dataclass(frozen=True)
class _Confirmed:
    """What a sese.025 settles, checked against what is left of the instruction."""

    quantity: Decimal
    amount: Decimal
    settled_on: date
    in_full: bool

    @property
    def status(self) -> ConfirmedStatus:
        return ConfirmedStatus.SETTLED if self.in_full else ConfirmedStatus.PARTIALLY_SETTLED


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
    (problems name it). Refused advices (404, 409, 422) change nothing; the same ``message_id``
    again answers the first result and changes nothing.

    An instruction on hold stays on hold: the advice moves the state it was held in
    (``held_from``, restored on release), so a release after a sese.024 ``matched`` returns it
    matched. A confirmation in full is the exception: the CSD has settled it, there is nothing
    left to hold, so it becomes ``settled`` and the hold ends."""
    where = dict(locations or {})
    instruction = await _lock(session, advice.instruction_id)
    content = fingerprint(advice)
    existing = await repository.by_message_id(session, advice.message_id)
    if existing is not None:
        return _replayed(existing, advice, content)
    _check_terms(instruction, advice, where)
    confirmed = None
    if advice.message_type == MessageType.CONFIRMATION:
        confirmed = _check_confirmation(instruction, advice, where, now)
    await _apply(session, instruction, advice, confirmed, actor=actor, now=now)
    status = _status(advice, confirmed)
    row = _advice_row(instruction, advice, status, source, content, actor=actor, now=now)
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
    if confirmed is not None:
        await trades.mark_settled(
            session,
            obligation_id=instruction.obligation_id,
            in_full=confirmed.in_full,
            actor=actor,
            now=now,
        )
    return Received(row, replayed=False)


async def _lock(session: AsyncSession, instruction_id: str) -> SettlementInstruction:
    try:
        return await instructions.lock_instruction(session, instruction_id)
    except NotFound:
        raise NotFound(
            f"No settlement instruction '{instruction_id}'; nothing was changed."
        ) from None


def _replayed(existing: StatusAdvice, advice: AdviceIn, content: str) -> Received:
    if existing.fingerprint != content:
        raise Conflict(
            f"Message '{advice.message_id}' was received before with other content "
            f"(advice {existing.id}); nothing was changed.",
            advice_id=existing.id,
        )
    return Received(existing, replayed=True)


def _status(advice: AdviceIn, confirmed: _Confirmed | None) -> str:
    """What the advice says (sese.024) or did (sese.025)."""
    if confirmed is not None:
        return confirmed.status.value
    assert advice.status is not None  # AdviceIn.problems() requires it
    return advice.status.value


async def _apply(
    session: AsyncSession,
    instruction: SettlementInstruction,
    advice: AdviceIn,
    confirmed: _Confirmed | None,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """The advice's effect on the instruction, audited (as the advice's status) if any."""
    async with instructions.audited_if_changed(
        session, instruction, action=_status(advice, confirmed), actor=actor, now=now
    ):
        if confirmed is None:
            _advise_status(instruction, advice)
            return
        # Posted, added to the settled totals; refused (409) for an instruction not at the CSD.
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


def _advise_status(instruction: SettlementInstruction, advice: AdviceIn) -> None:
    """sese.024: ``matched`` moves a pending instruction to matched, ``unmatched`` back to
    pending with the fail reason CMIS; ``pending`` and ``failing`` set the fail reason to the
    first reason code without a change of state."""
    status = advice.status
    current = instructions.status_at_csd(instruction)
    if status in (AdvisedStatus.PENDING, AdvisedStatus.FAILING) and current not in _AT_THE_CSD:
        raise InvalidTransition(
            f"A '{status}' status advice does not apply to a '{current}' instruction; nothing "
            "was changed.",
            current_status=str(current),
            event=str(status),
        )
    if status == AdvisedStatus.MATCHED or advice.matched:
        if current not in _PAST_MATCHING:
            instructions.advance_at_csd(instruction, InstructionEvent.MATCHED)
        if instruction.fail_reason == UNMATCHED_REASON:
            instruction.fail_reason = None
    if status == AdvisedStatus.UNMATCHED:
        instructions.advance_at_csd(instruction, InstructionEvent.UNMATCHED)
        instruction.fail_reason = UNMATCHED_REASON
    elif status in (AdvisedStatus.PENDING, AdvisedStatus.FAILING) and advice.reasons:
        instruction.fail_reason = advice.reasons[0].code


def _check_confirmation(
    instruction: SettlementInstruction, advice: AdviceIn, where: Mapping[str, str], now: datetime
) -> _Confirmed:
    """sese.025: refuse a confirmation that does not fit what is left to settle; what it
    settles, and whether that is all that was left."""
    # AdviceIn.problems() requires both.
    assert advice.settled_quantity is not None
    assert advice.settlement_date is not None
    given = {
        "settled_quantity": advice.settled_quantity,
        "settled_amount": advice.settled_amount or ZERO,
    }
    left = {
        "settled_quantity": instruction.quantity - instruction.settled_quantity,
        "settled_amount": instruction.amount - instruction.settled_amount,
    }
    _refuse(
        instruction,
        _beyond_what_is_left(instruction, advice.settlement_date, given, left, where, now),
    )
    # Only what the instruction moves counts: a free delivery has no cash, a PFOD no securities.
    moved = {
        "settled_quantity": instruction.quantity > 0,
        "settled_amount": instruction.amount > 0,
    }
    done = {name: left[name] == given[name] for name in given if moved[name]}
    in_full = all(done.values())
    _refuse(instruction, _partial_problems(advice, given, left, moved, done, in_full, where))
    return _Confirmed(
        given["settled_quantity"], given["settled_amount"], advice.settlement_date, in_full
    )


def _beyond_what_is_left(
    instruction: SettlementInstruction,
    settled_on: date,
    given: Mapping[str, Decimal],
    left: Mapping[str, Decimal],
    where: Mapping[str, str],
    now: datetime,
) -> list[FieldProblem]:
    """A settlement date to come, more decimals than the currency has, more than is left."""
    problems: list[FieldProblem] = []
    today = now.date()
    if settled_on > today:
        problems.append(
            FieldProblem(
                where.get("settlement_date", "settlement_date"),
                f"{settled_on} has not come yet (today is {today})",
            )
        )
    amount = given["settled_amount"]
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
    return problems


def _partial_problems(
    advice: AdviceIn,
    given: Mapping[str, Decimal],
    left: Mapping[str, Decimal],
    moved: Mapping[str, bool],
    done: Mapping[str, bool],
    in_full: bool,
    where: Mapping[str, str],
) -> list[FieldProblem]:
    """A part that finishes one side but not the other, or says the opposite of what it does."""
    problems: list[FieldProblem] = []
    if not in_full and any(done.values()):
        finished = next(name for name, value in done.items() if value)
        problems.append(
            FieldProblem(
                where.get(finished, finished),
                "settles all that is left of it while the rest of the instruction stays open",
            )
        )
    if advice.partial is True and in_full:
        problems.append(
            FieldProblem(
                where.get("partial", "partial"),
                "says more is to come, but this settles everything that is left",
            )
        )
    if advice.partial is False and not in_full:
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
    return problems


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
