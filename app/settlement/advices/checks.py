"""An advice against its instruction: the terms it names, and what a confirmation settles
against what is left. No database access: the instruction row is read, never changed.

A confirmation is refused (422) only for what is wrong in the message itself (a settlement date
to come, more decimals than the currency has); what does not fit the instruction (more than is
left, a part that finishes one side only, a partial flag that says the opposite, an instruction
with nothing pending) is an exception for operations: the CSD says it settled, so it is kept."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.core.errors import FieldProblem, ValidationFailed
from app.core.identifiers import currency_minor_units
from app.core.money import decimal_places, format_decimal, round_money
from app.settlement.advices.schemas import AdviceIn, ConfirmedStatus
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.instructions.states import DeliveryType, InstructionStatus

ZERO = Decimal(0)
_S = InstructionStatus
# Instructions the CSD can report pending or failing, or confirm.
AT_THE_CSD = (_S.PENDING, _S.MATCHED, _S.PARTIALLY_SETTLED)
_RECEIVED = (DeliveryType.RVP, DeliveryType.RFP)
_DELIVERED = (DeliveryType.DVP, DeliveryType.DFP)


@dataclass(frozen=True)
class Confirmed:
    """What a sese.025 settles, checked against what is left of the instruction."""

    quantity: Decimal
    amount: Decimal
    settled_on: date
    in_full: bool

    @property
    def status(self) -> ConfirmedStatus:
        return ConfirmedStatus.SETTLED if self.in_full else ConfirmedStatus.PARTIALLY_SETTLED


def listed(problems: Sequence[FieldProblem]) -> str:
    return "; ".join(f"{p.field}: {p.message}" for p in problems)


def refuse(instruction: SettlementInstruction, problems: Sequence[FieldProblem]) -> None:
    if problems:
        raise ValidationFailed(
            f"The advice does not fit instruction {instruction.id}: {listed(problems)}. "
            "Nothing was changed.",
            errors=problems,
        )


def check_terms(
    instruction: SettlementInstruction, advice: AdviceIn, where: Mapping[str, str]
) -> None:
    """What the advice says of the instruction's terms must be the instruction's (422)."""
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
    refuse(instruction, problems)


def check_confirmation(
    instruction: SettlementInstruction,
    advice: AdviceIn,
    where: Mapping[str, str],
    now: datetime,
    *,
    status_at_csd: InstructionStatus,
) -> Confirmed | str:
    """sese.025: what it settles and whether that is all that was left; or why it is an
    exception for operations; 422 for a message wrong in itself."""
    # AdviceIn.problems() requires both.
    assert advice.settled_quantity is not None
    assert advice.settlement_date is not None
    given = {
        "settled_quantity": advice.settled_quantity,
        "settled_amount": advice.settled_amount or ZERO,
    }
    refuse(instruction, _malformed(instruction, advice.settlement_date, given, where, now))
    if status_at_csd not in AT_THE_CSD:
        return f"the instruction is {status_at_csd}: nothing of it is pending at the CSD"
    left = {
        "settled_quantity": instruction.quantity - instruction.settled_quantity,
        "settled_amount": instruction.amount - instruction.settled_amount,
    }
    beyond = _beyond_what_is_left(given, left, where)
    if beyond:
        return listed(beyond)
    # Only what the instruction moves counts: a free delivery has no cash, a PFOD no securities.
    moved = {
        "settled_quantity": instruction.quantity > 0,
        "settled_amount": instruction.amount > 0,
    }
    done = {name: left[name] == given[name] for name in given if moved[name]}
    in_full = all(done.values())
    problems = _partial_problems(advice, given, left, moved, done, in_full, where)
    if problems:
        return listed(problems)
    # Written in the currency's minor units (exact: _malformed refused more decimals), as every
    # amount the book keeps: the depository may write 57420 for 57,420.00.
    amount = round_money(given["settled_amount"], instruction.currency)
    return Confirmed(given["settled_quantity"], amount, advice.settlement_date, in_full)


def _malformed(
    instruction: SettlementInstruction,
    settled_on: date,
    given: Mapping[str, Decimal],
    where: Mapping[str, str],
    now: datetime,
) -> list[FieldProblem]:
    """A settlement date to come, more decimals than the currency has."""
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
    return problems


def _beyond_what_is_left(
    given: Mapping[str, Decimal], left: Mapping[str, Decimal], where: Mapping[str, str]
) -> list[FieldProblem]:
    return [
        FieldProblem(
            where.get(name, name),
            f"{format_decimal(value)} is more than the {format_decimal(left[name])} left to settle",
        )
        for name, value in given.items()
        if value > left[name]
    ]


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
