"""What a penalty run for a business day finds: the penalties due that day (settlement fails
at its end, late matches on it), the active penalties it corrects, and the exceptions (a missing
reference price or rate, an unknown failing party). Reads only; ``work`` writes.

Corrections: the run re-examines the active penalties of the last ``REEXAMINED_DAYS`` days of
the instructions it looks at. A settlement-fail penalty is reversed when its instruction turns
out settled in full on or before the penalised day (a late confirmation value-dated back, or a
late settlement run), and a penalty of the run's own day whose amount the facts now change is
reversed and booked again. The late-matching penalties stand once booked (operations reverse
one by hand: POST /penalties/{id}/reverse).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.penalties.calculation import (
    EffectiveRate,
    Fail,
    FailDay,
    FailReason,
    MissingPrice,
    Party,
    PenaltyKind,
    PenaltyResult,
    RateNotFound,
    late_matching_days,
    late_matching_fail_penalties,
    settlement_fail_penalties,
)
from app.penalties.failing import failing_party, late_matching_party
from app.penalties.penalties import service as penalties
from app.penalties.penalties.models import Penalty
from app.penalties.penalties.service import NewPenalty
from app.positions.bookings import service as bookings
from app.reference.prices import service as prices
from app.reference.rates import service as rates
from app.reference.service import load_reference
from app.reference.values import ReferenceSet
from app.settlement.instructions import service as instructions
from app.settlement.instructions.service import PenaltyFacts
from app.settlement.instructions.states import DeliveryType, InstructionStatus

REEXAMINED_DAYS = 31
PERCENT_BASIS = "percent"  # an instrument priced in percent of nominal (bonds)
ZERO = Decimal(0)
Key = tuple[str, date, str]


@dataclass
class Assessment:
    day: date
    examined: int = 0
    new: list[NewPenalty] = field(default_factory=list)
    reversals: list[tuple[Penalty, str]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    # Keys with an exception: their active penalties are left as they are.
    unsure: set[Key] = field(default_factory=set)

    def exception(
        self, fact: PenaltyFacts, day: date, kind: PenaltyKind, problem: str, detail: str
    ) -> None:
        self.unsure.add((fact.instruction_id, day, kind.value))
        self.exceptions.append(
            {
                "instruction_id": fact.instruction_id,
                "isin": fact.isin,
                "day": day.isoformat(),
                "kind": kind.value,
                "problem": problem,
                "detail": detail,
            }
        )


@dataclass(frozen=True)
class _Inputs:
    reference: ReferenceSet
    rates: list[EffectiveRate]
    prices: dict[str, Decimal]  # the run day's, per ISIN
    settled_later: dict[str, Decimal]


def failed_quantity(fact: PenaltyFacts, day: date, settled_later: Mapping[str, Decimal]) -> Decimal:
    """What was still to settle at the end of ``day``: what is left now plus what settled
    (value-dated) after it."""
    settled_by_then = fact.settled_quantity - settled_later.get(fact.instruction_id, ZERO)
    return fact.quantity - settled_by_then


def _settled_by(fact: PenaltyFacts, day: date) -> bool:
    return fact.settled_on is not None and fact.settled_on <= day


def matched_by(fact: PenaltyFacts, day: date) -> bool:
    if fact.matched_at is not None:
        return fact.matched_at.date() <= day
    return fact.matched


def _fail(fact: PenaltyFacts, inputs: _Inputs, party_reason: tuple[Party, FailReason]) -> Fail:
    party, reason = party_reason
    instrument = inputs.reference.instruments[fact.isin]
    return Fail(
        isin=None if fact.delivery_type == DeliveryType.PFOD else fact.isin,
        csdr_class=instrument.csdr_class,
        reason=reason,
        currency=fact.currency,
        failing_party=party,
        percent_of_nominal=instrument.price_basis == PERCENT_BASIS,
    )


def _new(
    fact: PenaltyFacts,
    fail: Fail,
    result: PenaltyResult,
    quantity: Decimal,
    price_of: Mapping[date, Decimal | None],
) -> list[NewPenalty]:
    return [
        NewPenalty(
            line=line,
            instruction_id=fact.instruction_id,
            counterparty_lei=fact.counterparty_lei,
            isin=fact.isin,
            reason=fail.reason.value,
            fail_reason=fact.fail_reason,
            quantity=quantity,
            reference_price=price_of.get(line.day),
        )
        for line in result.lines
    ]


def _missing(
    found: Assessment, fact: PenaltyFacts, kind: PenaltyKind, missing: Sequence[MissingPrice]
) -> None:
    for gap in missing:
        found.exception(
            fact,
            gap.day,
            kind,
            "missing_price",
            f"No reference price of {gap.isin} on {gap.day.isoformat()}: no penalty for that day.",
        )


def _settlement_fail(found: Assessment, fact: PenaltyFacts, inputs: _Inputs) -> None:
    day, kind = found.day, PenaltyKind.SETTLEMENT_FAIL
    if fact.intended_settlement_date > day or not matched_by(fact, day):
        return
    quantity = failed_quantity(fact, day, inputs.settled_later)
    if quantity <= ZERO:
        return
    party_reason = failing_party(
        fail_reason=fact.fail_reason, held_by=fact.held_by, we_deliver=fact.we_deliver
    )
    if party_reason is None:
        found.exception(
            fact,
            day,
            kind,
            "unknown_failing_party",
            f"Fail reason {fact.fail_reason or 'none'} names no failing party: no penalty.",
        )
        return
    fail = _fail(fact, inputs, party_reason)
    price = inputs.prices.get(fact.isin)
    left_cash = fact.amount - fact.settled_amount
    try:
        result = settlement_fail_penalties(
            fail=fail,
            days=[
                FailDay(
                    day=day, failed_quantity=quantity, reference_price=price, failed_cash=left_cash
                )
            ],
            rates=inputs.rates,
            business_days=[day],
        )
    except RateNotFound as error:
        found.exception(fact, day, kind, "missing_rate", str(error))
        return
    _missing(found, fact, kind, result.missing_prices)
    found.new += _new(fact, fail, result, quantity, {day: price})


def _late_days(fact: PenaltyFacts, day: date, reference: ReferenceSet) -> list[date]:
    """The days a late match on ``day`` is penalised for (none unless matched on it, late)."""
    if fact.matched_at is None or fact.matched_at.date() != day:
        return []
    if fact.intended_settlement_date >= day:
        return []
    calendar = reference.settlement_calendar(reference.instruments[fact.isin].mic)
    return late_matching_days(
        intended_settlement_date=fact.intended_settlement_date,
        matching_date=day,
        # When in the day the match came against the market's cut-off is not recorded: the
        # matching day itself is not penalised (the lower bound the rule allows).
        matched_after_cutoff=False,
        business_days=calendar.business_days(fact.intended_settlement_date, day),
    )


def _late_matching(
    found: Assessment,
    fact: PenaltyFacts,
    inputs: _Inputs,
    days: list[date],
    price_of: Mapping[tuple[str, date], Decimal],
) -> None:
    kind = PenaltyKind.LATE_MATCHING_FAIL
    party = late_matching_party(
        instructed_on=fact.created_at.date(), intended_settlement_date=fact.intended_settlement_date
    )
    # The late party's rate is its instrument class's (the securities leg's), T2S-like.
    fail = _fail(fact, inputs, (party, FailReason.LACK_OF_SECURITIES))
    prices_by_day: dict[date, Decimal | None] = {
        d: price_of[(fact.isin, d)] for d in days if (fact.isin, d) in price_of
    }
    try:
        result = late_matching_fail_penalties(
            fail=fail,
            intended_settlement_date=fact.intended_settlement_date,
            matching_date=found.day,
            matched_after_cutoff=False,
            quantity=fact.quantity,
            cash_amount=fact.amount,
            reference_prices=prices_by_day,
            rates=inputs.rates,
            business_days=days,
        )
    except RateNotFound as error:
        found.exception(fact, found.day, kind, "missing_rate", str(error))
        return
    _missing(found, fact, kind, result.missing_prices)
    found.new += _new(fact, fail, result, fact.quantity, prices_by_day)


async def _inputs(session: AsyncSession, day: date, facts: Sequence[PenaltyFacts]) -> _Inputs:
    isins = sorted({fact.isin for fact in facts})
    later = [f.instruction_id for f in facts if f.settled_on is not None and f.settled_on > day]
    return _Inputs(
        reference=await load_reference(session, isins=isins, mics=(), books=(), leis=()),
        rates=[
            EffectiveRate(row.scope, row.rate, row.effective_from)
            for row in await rates.every_penalty_rate(session)
        ],
        prices=await prices.prices_of(session, isins=isins, on=day),
        settled_later=await bookings.securities_settled_after(
            session, instruction_ids=later, after=day
        ),
    )


async def _late_prices(
    session: AsyncSession, late: Mapping[str, list[date]], facts: Mapping[str, PenaltyFacts]
) -> dict[tuple[str, date], Decimal]:
    """The reference prices of the late-matching days, per (ISIN, day)."""
    wanted: dict[date, set[str]] = {}
    for instruction_id, days in late.items():
        for day in days:
            wanted.setdefault(day, set()).add(facts[instruction_id].isin)
    found: dict[tuple[str, date], Decimal] = {}
    for day, isins in sorted(wanted.items()):
        found |= {
            (isin, day): price
            for isin, price in (
                await prices.prices_of(session, isins=sorted(isins), on=day)
            ).items()
        }
    return found


def _corrections(
    found: Assessment,
    active: Sequence[Penalty],
    facts: Mapping[str, PenaltyFacts],
    settled_later: Mapping[str, Decimal],
) -> None:
    """Reverse what the facts no longer support; drop from ``new`` what is booked already."""
    computed = {(n.instruction_id, n.line.day, n.line.kind.value): n for n in found.new}
    keep: set[Key] = set()
    for penalty in active:
        key = (penalty.instruction_id, penalty.day, penalty.kind)
        fact = facts.get(penalty.instruction_id)
        if key in found.unsure or fact is None:
            continue
        now = computed.get(key)
        if now is not None:
            if (now.line.amount, now.line.payer.value) == (penalty.amount, penalty.payer):
                keep.add(key)
            else:
                found.reversals.append(
                    (
                        penalty,
                        f"recomputed for {penalty.day}: {now.line.amount} "
                        f"{now.line.currency} payable by {now.line.payer.value}",
                    )
                )
            continue
        if penalty.kind != PenaltyKind.SETTLEMENT_FAIL.value:
            continue
        if penalty.day == found.day:
            if failed_quantity(fact, penalty.day, settled_later) <= ZERO:
                found.reversals.append((penalty, f"settled by the end of {penalty.day}"))
        elif fact.status == InstructionStatus.SETTLED and _settled_by(fact, penalty.day):
            found.reversals.append(
                (penalty, f"settled on {fact.settled_on}, on or before {penalty.day}")
            )
    found.new = [
        n for n in found.new if (n.instruction_id, n.line.day, n.line.kind.value) not in keep
    ]


async def assess(session: AsyncSession, *, day: date, lock: bool = True) -> Assessment:
    """Everything a run for ``day`` would book and reverse, and its exceptions; the active
    penalties it re-examines are locked unless told (a dry run)."""
    found = Assessment(day=day)
    active = await penalties.active_between(
        session, day_from=day - timedelta(days=REEXAMINED_DAYS), day_to=day, lock=lock
    )
    facts = await instructions.penalty_facts(
        session, day=day, ids=[penalty.instruction_id for penalty in active]
    )
    found.examined = len(facts)
    inputs = await _inputs(session, day, facts)
    by_id = {fact.instruction_id: fact for fact in facts}
    late: dict[str, list[date]] = {}
    for fact in facts:
        calendar = inputs.reference.settlement_calendar(inputs.reference.instruments[fact.isin].mic)
        if not calendar.is_business_day(day):
            continue
        _settlement_fail(found, fact, inputs)
        days = _late_days(fact, day, inputs.reference)
        if days:
            late[fact.instruction_id] = days
    price_of = await _late_prices(session, late, by_id)
    for instruction_id, days in late.items():
        _late_matching(found, by_id[instruction_id], inputs, days, price_of)
    _corrections(found, active, by_id, inputs.settled_later)
    return found
