"""Settlement instructions: made from obligations, enriched and repaired, held, released,
cancelled, reprioritised or amended (partial indicator), moved by the CSD's advices, read with
their days failing. Clearing and the settlement runs use instructions through this module (the
names re-exported below included)."""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import (
    Change,
    audited,
    record_change,
    record_changes,
    state_as_of,
    transition,
)
from app.core.auth import Actor
from app.core.db import table_of
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.snapshots import row_imager, row_snapshot
from app.core.states import next_state
from app.core.versioning import check_version
from app.positions.bookings import service as positions
from app.reference.buy_in_periods.service import extension_periods
from app.reference.counterparties.service import counterparties_by_lei
from app.reference.instruments.service import get_instrument_ref
from app.reference.markets.service import markets_by_mic
from app.reference.partial import PartialIndicator, default_indicator
from app.reference.service import load_reference
from app.reference.ssis.service import ssis_of
from app.reference.values import MarketRef
from app.settlement.instructions import repository
from app.settlement.instructions.at_csd import csd_facts, unsendable, writable_or_conflict
from app.settlement.instructions.buy_ins import Candidate, direction, in_report_order, is_candidate
from app.settlement.instructions.enrichment import RepairReason, SsiFacts, choose_ssi
from app.settlement.instructions.fails import Fail, FailsTally
from app.settlement.instructions.models import InstructionStatusEvent, SettlementInstruction
from app.settlement.instructions.movements import (
    due,
    post,
    signed,
    withdraw,
)
from app.settlement.instructions.states import (
    HOLDABLE,
    OPEN,
    RELEASES,
    TRANSITIONS,
    DeliveryType,
    HeldBy,
    InstructionEvent,
    InstructionStatus,
)
from app.settlement.outbound import service as outbound
from app.settlement.outbound.formats.facts import InstructionFacts
from app.trades.capture import post_trade as trades
from app.trades.capture import set_based

ENTITY = "settlement_instruction"
DEFAULT_PRIORITY = 50
ZERO = Decimal(0)
_S = InstructionStatus


@dataclass(frozen=True)
class Aged:
    """An instruction as answered: the row, or for ``as_of`` its audit snapshot, and the
    business days it has failed (0 when not failing)."""

    instruction: SettlementInstruction | dict[str, Any]
    days_failing: int


# Made from obligations -------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationToInstruct:
    obligation_id: str
    counterparty_lei: str
    ccp: bool
    isin: str
    mic: str  # the instrument's market: which SSI applies
    currency: str
    securities_account: str
    cash_account: str
    net_quantity: Decimal  # + received
    net_amount: Decimal  # + received
    settlement_date: date


def delivery_type(net_quantity: Decimal, net_amount: Decimal) -> DeliveryType | None:
    """From our side; None when nothing moves."""
    if net_quantity > 0:
        return DeliveryType.RVP if net_amount else DeliveryType.RFP
    if net_quantity < 0:
        return DeliveryType.DVP if net_amount else DeliveryType.DFP
    return DeliveryType.PFOD if net_amount else None


def _ssi_facts(ssis: Sequence[Any]) -> list[SsiFacts]:
    return [
        SsiFacts(s.id, s.mic, s.currency, s.place_of_settlement, s.agent_bic, s.account)
        for s in ssis
    ]


def _enriched_status(pre_matched: bool) -> InstructionStatus:
    after = next_state(TRANSITIONS, _S.REPAIR, InstructionEvent.ENRICHED)
    if pre_matched:
        after = next_state(TRANSITIONS, after, InstructionEvent.MATCHED)
    return after


async def _settles_internally(session: AsyncSession, mics: Iterable[str]) -> set[str]:
    markets = await markets_by_mic(session, mics=set(mics))
    return {mic for mic, market in markets.items() if market.internal_settlement}


async def _partial_defaults(
    session: AsyncSession, pairs: Iterable[tuple[str, str]], markets: Mapping[str, MarketRef]
) -> dict[tuple[str, str], PartialIndicator]:
    """The partial indicator an instruction gets from data, per (counterparty LEI, market MIC):
    the counterparty's, else the market's."""
    pairs = set(pairs)
    counterparties = await counterparties_by_lei(session, leis={lei for lei, _ in pairs})
    return {
        (lei, mic): default_indicator(
            counterparty=counterparties[lei].partial_settlement if lei in counterparties else None,
            market=markets[mic].partial_settlement,
        )
        for lei, mic in pairs
    }


def _set_partial(instruction: SettlementInstruction, indicator: PartialIndicator) -> None:
    """The indicator, and the flag that says whether it allows partial settlement at all."""
    instruction.partial_indicator = indicator.value
    instruction.partial_allowed = indicator != PartialIndicator.NPAR


def _pre_matched(ccp: bool, mic: str, internal: set[str]) -> bool:
    """A CCP's instructions are pre-matched at the CSD; on a market that settles internally the
    system matches both sides itself. Others wait for a sese.024 status advice."""
    return ccp or mic in internal


def _reasons(reason: RepairReason) -> list[dict[str, str]]:
    return [{"code": reason.code, "detail": reason.detail}]


@dataclass(slots=True)
class NewInstruction:
    """An instruction being made from an obligation, every column of its row (as plain values:
    a clearing run makes thousands at once, no ORM object each)."""

    id: str
    obligation_id: str
    delivery_type: str
    isin: str
    quantity: Decimal
    amount: Decimal
    credit_debit: str | None
    currency: str
    securities_account: str
    cash_account: str
    counterparty_lei: str
    ccp: bool
    counterparty_ssi: dict[str, Any] | None
    intended_settlement_date: date
    priority: int
    partial_indicator: str
    partial_allowed: bool
    status: str
    repair_reasons: list[dict[str, str]]
    settled_quantity: Decimal
    settled_amount: Decimal
    version: int
    created_at: datetime
    updated_at: datetime
    fail_reason: str | None = None
    held_from: str | None = None
    held_by: str | None = None
    hold_reason: str | None = None
    last_run_id: str | None = None
    settled_on: date | None = None
    pending_id: str | None = None


_INSTRUCTIONS = table_of(SettlementInstruction)
_INSTRUCTION_COLUMNS = [column.key for column in _INSTRUCTIONS.columns]
# ``row_snapshot`` of the row an instruction made here becomes.
_INSTRUCTION_IMAGE = row_imager(_INSTRUCTIONS.columns)


def _new_instruction(
    obligation: ObligationToInstruct,
    kind: DeliveryType,
    chosen: SsiFacts | RepairReason,
    *,
    internal: set[str],
    partial: PartialIndicator,
    now: datetime,
) -> NewInstruction:
    """The instruction of one obligation: enriched from its SSI, or in repair saying why."""
    repair = isinstance(chosen, RepairReason)
    net_amount = obligation.net_amount
    return NewInstruction(
        id=new_id("si"),
        obligation_id=obligation.obligation_id,
        delivery_type=kind.value,
        isin=obligation.isin,
        quantity=abs(obligation.net_quantity),
        amount=abs(net_amount),
        credit_debit=None if net_amount == 0 else "CRDT" if net_amount > 0 else "DBIT",
        currency=obligation.currency,
        securities_account=obligation.securities_account,
        cash_account=obligation.cash_account,
        counterparty_lei=obligation.counterparty_lei,
        ccp=obligation.ccp,
        counterparty_ssi=None if isinstance(chosen, RepairReason) else chosen.as_instructed(),
        intended_settlement_date=obligation.settlement_date,
        priority=DEFAULT_PRIORITY,
        partial_indicator=partial.value,
        partial_allowed=partial != PartialIndicator.NPAR,
        status=(
            _S.REPAIR
            if repair
            else _enriched_status(_pre_matched(obligation.ccp, obligation.mic, internal))
        ).value,
        repair_reasons=_reasons(chosen) if isinstance(chosen, RepairReason) else [],
        settled_quantity=ZERO,
        settled_amount=ZERO,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _instructions_of(
    obligations: Sequence[ObligationToInstruct],
    *,
    ssis: Mapping[str, Sequence[Any]],
    instructed: set[str],
    internal: set[str],
    partial: Mapping[tuple[str, str], PartialIndicator],
    now: datetime,
) -> tuple[list[NewInstruction], list[dict[str, Any]]]:
    """The instructions to make (none for an obligation ``instructed`` already), and the
    obligations that move nothing (``netted_out_obligations`` rows)."""
    made: list[NewInstruction] = []
    netted_out: list[dict[str, Any]] = []
    for obligation in obligations:
        kind = delivery_type(obligation.net_quantity, obligation.net_amount)
        if kind is None:
            netted_out.append(
                {
                    "obligation_id": obligation.obligation_id,
                    "settlement_date": obligation.settlement_date,
                }
            )
            continue
        if obligation.obligation_id in instructed:
            continue
        chosen = choose_ssi(
            _ssi_facts(ssis[obligation.counterparty_lei]),
            counterparty=obligation.counterparty_lei,
            mic=obligation.mic,
            currency=obligation.currency,
        )
        made.append(
            _new_instruction(
                obligation,
                kind,
                chosen,
                internal=internal,
                partial=partial[obligation.counterparty_lei, obligation.mic],
                now=now,
            )
        )
    return made, netted_out


async def create_instructions(
    session: AsyncSession,
    *,
    obligations: Sequence[ObligationToInstruct],
    actor: Actor,
    now: datetime,
) -> int:
    """One instruction per obligation that moves something, enriched from the counterparty's
    SSI; without exactly one fitting SSI it waits in ``repair``, saying what is missing. An
    obligation that moves nothing gets none: the settlement run for its date settles its trades.
    Its partial indicator comes from the counterparty, else the market. Set-based: the rows are
    written in one bulk insert, each with its pending entry, and audited from what was written.
    Returns how many of the obligations have an instruction (those made before too: a resumed
    run makes none twice)."""
    ssis = await ssis_of(session, leis=(o.counterparty_lei for o in obligations))
    instructed = await repository.instructed_obligations(
        session, [o.obligation_id for o in obligations]
    )
    markets = await markets_by_mic(session, mics={o.mic for o in obligations})
    internal = {mic for mic, market in markets.items() if market.internal_settlement}
    partial = await _partial_defaults(
        session, ((o.counterparty_lei, o.mic) for o in obligations), markets
    )
    made, netted_out = _instructions_of(
        obligations, ssis=ssis, instructed=instructed, internal=internal, partial=partial, now=now
    )
    facts = await csd_facts(session, [(i, i.counterparty_ssi) for i in made])
    for instruction in made:
        problem = unsendable(facts.get(instruction.id))
        if problem is not None:
            # Its depository could not read its message: it waits in repair like a missing SSI.
            instruction.status = _S.REPAIR.value
            instruction.repair_reasons = [problem.reason()]
            del facts[instruction.id]
    # Each shown as due: a pending entry of all it moves, which projected balances count.
    pending_ids = await positions.expect_many(
        session, expected=[due(i) for i in made], actor=actor, now=now
    )
    for instruction, pending_id in zip(made, pending_ids, strict=True):
        instruction.pending_id = pending_id
    rows = [{name: getattr(i, name) for name in _INSTRUCTION_COLUMNS} for i in made]
    await repository.insert_rows(session, rows)
    await repository.add_netted_out(session, netted_out)
    await record_changes(
        session,
        [
            Change(ENTITY, row["id"], "created", None, _INSTRUCTION_IMAGE(row.values()))
            for row in rows
        ],
        actor=actor,
        now=now,
    )
    await outbound.instruct_many(session, facts=facts, actor=actor, now=now)
    return len(instructed) + len(made)


# Repair ----------------------------------------------------------------------------------------


async def obligations_in_repair(
    session: AsyncSession, *, obligation_ids: Sequence[str]
) -> set[str]:
    """Those of the obligations whose instruction waits in ``repair`` (its trades wait too)."""
    return await repository.obligations_in_repair(session, obligation_ids)


async def lock_instruction(session: AsyncSession, instruction_id: str) -> SettlementInstruction:
    """The instruction, locked for the change the caller is about to make (404 if unknown)."""
    instruction = await repository.get_for_update(session, instruction_id)
    if instruction is None:
        raise NotFound(f"No settlement instruction '{instruction_id}'.")
    return instruction


def _bump(instruction: SettlementInstruction, now: datetime) -> None:
    instruction.version += 1
    instruction.updated_at = now


async def enrich(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> Aged:
    """Try the SSIs again for an instruction in repair (after operations fixed them). It stays
    in repair, with the reason brought up to date, until exactly one SSI fits; then its trades
    become instructed."""
    instruction = await lock_instruction(session, instruction_id)
    status = next_state(TRANSITIONS, _S(instruction.status), InstructionEvent.ENRICHED)
    ssis = await ssis_of(session, leis=[instruction.counterparty_lei])
    instrument = await get_instrument_ref(session, isin=instruction.isin)
    chosen = choose_ssi(
        _ssi_facts(ssis[instruction.counterparty_lei]),
        counterparty=instruction.counterparty_lei,
        mic=instrument.mic,
        currency=instruction.currency,
    )
    facts = None
    if not isinstance(chosen, RepairReason):
        found = await csd_facts(session, [(instruction, chosen.as_instructed())])
        facts = found.get(instruction.id)
        problem = unsendable(facts)
        if problem is not None:
            chosen = RepairReason(problem.reason()["code"], problem.reason()["detail"])
    action = "enrichment_failed" if isinstance(chosen, RepairReason) else "enriched"
    async with audited(
        session, instruction, entity_type=ENTITY, action=action, actor=actor, now=now
    ):
        if isinstance(chosen, RepairReason):
            instruction.repair_reasons = _reasons(chosen)
        else:
            internal = await _settles_internally(session, [instrument.mic])
            if _pre_matched(instruction.ccp, instrument.mic, internal):
                status = next_state(TRANSITIONS, status, InstructionEvent.MATCHED)
            instruction.counterparty_ssi = chosen.as_instructed()
            instruction.repair_reasons = []
            instruction.status = status.value
        _bump(instruction, now)
        if not isinstance(chosen, RepairReason):
            await set_based.mark_instructed(
                session, obligation_ids=[instruction.obligation_id], actor=actor, now=now
            )
    if facts is not None and not isinstance(chosen, RepairReason):
        await outbound.instruct(
            session, instruction_id=instruction.id, facts=facts, actor=actor, now=now
        )
    return await _aged(session, instruction, today=now.date())


# By hand: hold, release, cancel, priority ------------------------------------------------------


async def hold_instruction(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> Aged:
    """Park an instruction: runs skip it (reporting it as held, not failed) until released. An
    instruction the CSD holds is taken over: operations hold it, so no advice releases it."""
    instruction = await lock_instruction(session, instruction_id)
    if instruction.status == _S.ON_HOLD and instruction.held_by not in (None, HeldBy.OPERATIONS):
        async with audited(
            session, instruction, entity_type=ENTITY, action="held", actor=actor, now=now
        ):
            instruction.held_by = HeldBy.OPERATIONS.value
            _bump(instruction, now)
        await _hold_event(session, instruction, HeldBy.OPERATIONS, actor=actor, now=now)
        return await _aged(session, instruction, today=now.date())
    await transition(
        session,
        instruction,
        transitions=TRANSITIONS,
        event=InstructionEvent.HELD,
        entity_type=ENTITY,
        actor=actor,
        now=now,
        held_from=instruction.status,
        held_by=HeldBy.OPERATIONS.value,
        hold_reason=None,
        version=instruction.version + 1,
        updated_at=now,
    )
    await _hold_event(session, instruction, HeldBy.OPERATIONS, actor=actor, now=now)
    return await _aged(session, instruction, today=now.date())


async def release_instruction(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> Aged:
    """Back to the state it was held in, whoever held it (a hold the CSD still reports comes
    back with its next advice)."""
    instruction = await lock_instruction(session, instruction_id)
    if instruction.status != _S.ON_HOLD or instruction.held_from is None:
        raise Conflict(
            f"Settlement instruction '{instruction_id}' is {instruction.status}, not on_hold: "
            "there is nothing to release."
        )
    back_to = next_state(RELEASES, _S(instruction.held_from), InstructionEvent.RELEASED)
    async with audited(
        session, instruction, entity_type=ENTITY, action="released", actor=actor, now=now
    ):
        instruction.status = back_to.value
        _unhold(instruction)
        _bump(instruction, now)
    await _hold_event(session, instruction, None, actor=actor, now=now)
    return await _aged(session, instruction, today=now.date())


def _unhold(instruction: SettlementInstruction) -> None:
    instruction.held_from = None
    instruction.held_by = None
    instruction.hold_reason = None


async def _hold_event(
    session: AsyncSession,
    instruction: SettlementInstruction,
    held_by: HeldBy | None,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """A hold or release by operations in the instruction's status history."""
    await record_status_events(
        session,
        [
            status_event(
                instruction,
                block="hold",
                status=hold_status(held_by),
                reasons=[],
                sender=actor.key_id,
                now=now,
            )
        ],
    )


async def cancel_instruction(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> Aged:
    """Withdraw an instruction that has settled nothing yet; what it showed as due is voided."""
    instruction = await lock_instruction(session, instruction_id)
    if instruction.settled_quantity or instruction.settled_amount:
        raise Conflict(
            f"Settlement instruction '{instruction_id}' has settled "
            f"{instruction.settled_quantity} and {instruction.settled_amount} already: what "
            "settled cannot be cancelled."
        )
    async with audited(
        session, instruction, entity_type=ENTITY, action="cancelled", actor=actor, now=now
    ):
        instruction.status = next_state(
            TRANSITIONS, _S(instruction.status), InstructionEvent.CANCELLED
        ).value
        _unhold(instruction)
        await withdraw(session, instruction, reason="instruction cancelled", actor=actor, now=now)
        _bump(instruction, now)
    facts = await _facts_at_csd(session, instruction)
    if facts is not None:
        await outbound.cancel(
            session, instruction_id=instruction.id, facts=facts, actor=actor, now=now
        )
    return await _aged(session, instruction, today=now.date())


async def _partial_wanted(
    session: AsyncSession,
    instruction: SettlementInstruction,
    *,
    partial_allowed: bool | None,
    partial_indicator: PartialIndicator | None,
) -> PartialIndicator | None:
    """The indicator a PATCH asks for (None: it asks for none). ``partial_allowed`` true keeps
    an indicator that allows partials already, else takes the one from data unless that is
    NPAR, else PART."""
    if partial_indicator is not None:
        return partial_indicator
    if partial_allowed is None:
        return None
    if not partial_allowed:
        return PartialIndicator.NPAR
    if instruction.partial_indicator != PartialIndicator.NPAR:
        return PartialIndicator(instruction.partial_indicator)
    mic = (await get_instrument_ref(session, isin=instruction.isin)).mic
    pair = (instruction.counterparty_lei, mic)
    markets = await markets_by_mic(session, mics=[mic])
    from_data = (await _partial_defaults(session, [pair], markets))[pair]
    return PartialIndicator.PART if from_data == PartialIndicator.NPAR else from_data


async def _facts_at_csd(
    session: AsyncSession, instruction: SettlementInstruction
) -> InstructionFacts | None:
    """The facts of the instruction's message when the depository settles it (None when it
    does not, or the instruction has no SSI yet); a 409 when they cannot be written."""
    found = await csd_facts(session, [(instruction, instruction.counterparty_ssi)])
    facts = found.get(instruction.id)
    return None if facts is None else writable_or_conflict(facts, instruction.id)


async def amend_instruction(
    session: AsyncSession,
    *,
    instruction_id: str,
    version: int,
    priority: int | None = None,
    partial_allowed: bool | None = None,
    partial_indicator: PartialIndicator | None = None,
    actor: Actor,
    now: datetime,
) -> Aged:
    """Change the priority (runs take lower numbers first, then older instructions) and/or
    whether and how it may settle in part. Audited as ``reprioritised`` when only the priority
    changes, else ``amended``; 409 once settled or cancelled."""
    instruction = await lock_instruction(session, instruction_id)
    check_version(
        current=instruction.version,
        expected=version,
        what=f"settlement instruction '{instruction_id}'",
    )
    if instruction.status in (_S.SETTLED, _S.CANCELLED):
        raise Conflict(
            f"Settlement instruction '{instruction_id}' is {instruction.status}: there is "
            "nothing left to settle, so nothing to amend."
        )
    indicator = await _partial_wanted(
        session,
        instruction,
        partial_allowed=partial_allowed,
        partial_indicator=partial_indicator,
    )
    action = "reprioritised" if indicator is None else "amended"
    async with audited(
        session, instruction, entity_type=ENTITY, action=action, actor=actor, now=now
    ):
        if priority is not None:
            instruction.priority = priority
        if indicator is not None:
            _set_partial(instruction, indicator)
        _bump(instruction, now)
    facts = await _facts_at_csd(session, instruction)
    if facts is not None:
        # The depository holds the old priority: its message is cancelled and sent anew.
        await outbound.replace(
            session, instruction_id=instruction.id, facts=facts, actor=actor, now=now
        )
    return await _aged(session, instruction, today=now.date())


# At the depository: re-sending what it holds no live message for ---------------------------


@dataclass(frozen=True)
class Resent:
    sent: int  # new messages queued (or, writing nothing, that would be)
    unsendable: list[str]  # instructions whose message cannot be written (ids)


async def resend_at_csd(
    session: AsyncSession,
    *,
    instructions: Sequence[SettlementInstruction],
    write: bool,
    actor: Actor,
    now: datetime,
) -> Resent:
    """For each of these instructions the depository settles (open, not in repair nor held)
    that has no live message there (never instructed, or rejected and repaired since), queue
    a new one; with ``write`` False only count them."""
    messages = await outbound.messages_of_many(
        session, instruction_ids=[i.id for i in instructions]
    )
    wanting = [
        i for i in instructions if outbound.needs_new(messages[i.id], changed_at=i.updated_at)
    ]
    facts = await csd_facts(session, [(i, i.counterparty_ssi) for i in wanting])
    sendable = {i: f for i, f in facts.items() if unsendable(f) is None}
    blocked = [i.id for i in wanting if i.id not in sendable]
    if write:
        await outbound.instruct_many(session, facts=sendable, actor=actor, now=now)
    return Resent(len(sendable), blocked)


# Moved by the CSD's advices --------------------------------------------------------------------


def status_at_csd(instruction: SettlementInstruction) -> InstructionStatus:
    """The state the instruction is in at the CSD: for a held one, the state it was held in."""
    if instruction.status == _S.ON_HOLD:
        assert instruction.held_from is not None  # a hold always records it
        return _S(instruction.held_from)
    return _S(instruction.status)


def advance_at_csd(instruction: SettlementInstruction, event: InstructionEvent) -> None:
    """Apply ``event`` through the transition table; a held instruction stays on hold with the
    event applied to ``held_from``, unless that leaves nothing to hold (settled in full)."""
    after = next_state(TRANSITIONS, status_at_csd(instruction), event)
    if instruction.status == _S.ON_HOLD and after in HOLDABLE:
        instruction.held_from = after.value
        return
    instruction.status = after.value
    instruction.held_from = None


def hold_at_csd(instruction: SettlementInstruction, *, held_by: HeldBy, reason: str) -> None:
    """The CSD reports it on hold: ``on_hold`` with who holds it and why. A hold by operations
    stays theirs (the CSD's reason is only in the status history)."""
    current = _S(instruction.status)
    if current == _S.ON_HOLD:
        if instruction.held_by not in (None, HeldBy.OPERATIONS):
            instruction.held_by = held_by.value
            instruction.hold_reason = reason
        return
    instruction.status = next_state(TRANSITIONS, current, InstructionEvent.HELD).value
    instruction.held_from = current.value
    instruction.held_by = held_by.value
    instruction.hold_reason = reason


def release_at_csd(instruction: SettlementInstruction) -> None:
    """The CSD no longer reports a hold: back to the state it was held in. A hold by operations
    (or one from before holds had an owner) is theirs to release, never an advice's."""
    if instruction.status != _S.ON_HOLD or instruction.held_by in (None, HeldBy.OPERATIONS):
        return
    assert instruction.held_from is not None  # a hold always records it
    instruction.status = next_state(
        RELEASES, _S(instruction.held_from), InstructionEvent.RELEASED
    ).value
    _unhold(instruction)


def reject_at_csd(instruction: SettlementInstruction, *, reasons: list[dict[str, str]]) -> None:
    """The CSD rejected the instruction message: to ``repair`` with its reasons (``{"code",
    "detail"}``), for operations to repair and the instruction to be sent again."""
    release_at_csd(instruction)
    advance_at_csd(instruction, InstructionEvent.REJECTED)
    instruction.repair_reasons = reasons


async def cancel_at_csd(
    session: AsyncSession, instruction: SettlementInstruction, *, actor: Actor, now: datetime
) -> None:
    """The CSD cancelled it (CAND): ``cancelled`` and what it showed as due withdrawn, as
    ``cancel_instruction`` does but without instructing the CSD (it did it), unless it is
    cancelled already; 409 once something settled."""
    if instruction.status == _S.CANCELLED:
        return
    if instruction.settled_quantity or instruction.settled_amount:
        raise Conflict(
            f"Settlement instruction '{instruction.id}' has settled "
            f"{instruction.settled_quantity} and {instruction.settled_amount} already: the "
            "CSD's cancellation cannot undo that; nothing was changed."
        )
    instruction.status = next_state(
        TRANSITIONS, _S(instruction.status), InstructionEvent.CANCELLED
    ).value
    _unhold(instruction)
    await withdraw(session, instruction, reason="cancelled by the CSD", actor=actor, now=now)


async def settle_at_csd(
    session: AsyncSession,
    instruction: SettlementInstruction,
    *,
    quantity: Decimal,
    amount: Decimal,
    settled_on: date,
    in_full: bool,
    actor: Actor,
    now: datetime,
) -> None:
    """What the CSD confirms settled (unsigned, as advised): posted to the journal, added to
    the settled totals, and the instruction moved on (409 for one not at the CSD)."""
    left_quantity, left_amount = signed(instruction)
    part_quantity = quantity.copy_sign(left_quantity) if quantity else ZERO
    part_amount = amount.copy_sign(left_amount) if amount else ZERO
    event = InstructionEvent.SETTLED if in_full else InstructionEvent.PARTIALLY_SETTLED
    advance_at_csd(instruction, event)
    if instruction.status != _S.ON_HOLD:
        _unhold(instruction)
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
    if in_full:
        instruction.fail_reason = None


@asynccontextmanager
async def audited_if_changed(
    session: AsyncSession,
    instruction: SettlementInstruction,
    *,
    action: str,
    actor: Actor,
    now: datetime,
) -> AsyncIterator[None]:
    """Audit what the block does to the instruction, versioned, only if it changes anything:
    an advice that tells nothing new leaves it as it was."""
    before = row_snapshot(instruction)
    yield
    if row_snapshot(instruction) != before:
        _bump(instruction, now)
        await record_change(
            session,
            actor=actor,
            entity_type=ENTITY,
            entity_id=instruction.id,
            action=action,
            before=before,
            after=row_snapshot(instruction),
            now=now,
        )


# Status history --------------------------------------------------------------------------------


def hold_status(held_by: HeldBy | None) -> str:
    """A hold event's status: ``held_by_csd`` ... or ``released``."""
    return "released" if held_by is None else f"held_by_{held_by.value}"


def status_event(
    instruction: SettlementInstruction,
    *,
    block: str,
    status: str,
    reasons: list[dict[str, Any]],
    sender: str,
    now: datetime,
    advice_id: str | None = None,
) -> InstructionStatusEvent:
    return InstructionStatusEvent(
        id=new_id("ise"),
        instruction_id=instruction.id,
        advice_id=advice_id,
        block=block,
        status=status,
        reasons=reasons,
        sender=sender,
        received_at=now,
    )


async def record_status_events(
    session: AsyncSession, events: Sequence[InstructionStatusEvent]
) -> None:
    """Append to instructions' status histories (what an advice said, holds and releases)."""
    await repository.add_events(session, events)


async def status_history(
    session: AsyncSession, *, instruction_id: str, page: PageRequest
) -> tuple[Sequence[InstructionStatusEvent], str | None]:
    """Every event of one instruction's status history, oldest first (404 if unknown)."""
    await get_instruction(session, instruction_id=instruction_id)
    return await repository.events_page(session, instruction_id=instruction_id, page=page)


# Reading ---------------------------------------------------------------------------------------


async def get_instruction(session: AsyncSession, *, instruction_id: str) -> SettlementInstruction:
    instruction = await repository.get(session, instruction_id)
    if instruction is None:
        raise NotFound(f"No settlement instruction '{instruction_id}'.")
    return instruction


async def instruction_as_of(
    session: AsyncSession, *, instruction_id: str, as_of: datetime
) -> dict[str, Any]:
    """The instruction as it stood at ``as_of``, rebuilt from its audit trail (every change of
    an instruction records its whole row as the after image)."""
    return await state_as_of(
        session,
        SettlementInstruction,
        entity_type=ENTITY,
        entity_id=instruction_id,
        as_of=as_of,
        title="settlement instruction",
    )


async def find_instruction(
    session: AsyncSession, *, instruction_id: str, as_of: datetime | None, now: datetime
) -> Aged:
    """The instruction now, or with ``as_of`` as it stood then (failing as of that day)."""
    if as_of is not None:
        snapshot = await instruction_as_of(session, instruction_id=instruction_id, as_of=as_of)
        return await _aged(session, snapshot, today=as_of.date())
    instruction = await get_instruction(session, instruction_id=instruction_id)
    return await _aged(session, instruction, today=now.date())


async def list_instructions(
    session: AsyncSession,
    *,
    page: PageRequest,
    today: date,
    status: InstructionStatus | None = None,
    intended_settlement_date: date | None = None,
    isin: str | None = None,
    counterparty_lei: str | None = None,
    obligation_id: str | None = None,
    failing: bool = False,
    older_than_days: int | None = None,
) -> tuple[list[Aged], str | None]:
    """``failing``: only instructions failing today (open past their date); ``older_than_days``:
    only those due more than that many calendar days ago."""
    rows, cursor = await repository.page_of(
        session,
        page=page,
        status=status,
        intended_settlement_date=intended_settlement_date,
        isin=isin,
        counterparty_lei=counterparty_lei,
        obligation_id=obligation_id,
        failing_on=today if failing else None,
        intended_before=None
        if older_than_days is None
        else today - timedelta(days=older_than_days),
    )
    ages = await days_failing(session, rows, today=today)
    return [Aged(row, ages[row.id]) for row in rows], cursor


async def _aged(
    session: AsyncSession, instruction: SettlementInstruction | dict[str, Any], *, today: date
) -> Aged:
    ages = await days_failing(session, [instruction], today=today)
    return Aged(instruction, ages[_field(instruction, "id")])


def _field(row: SettlementInstruction | dict[str, Any], name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def days_failing(
    session: AsyncSession,
    instructions: Sequence[SettlementInstruction | dict[str, Any]],
    *,
    today: date,
) -> dict[str, int]:
    """Per instruction id (rows or audit snapshots): business days of its market's settlement
    calendar in (intended settlement date, today] while it is open, else 0."""
    late = [
        row
        for row in instructions
        if _field(row, "status") in OPEN
        and _as_date(_field(row, "intended_settlement_date")) < today
    ]
    found = {_field(row, "id"): 0 for row in instructions}
    if not late:
        return found
    reference = await load_reference(
        session, isins={_field(row, "isin") for row in late}, mics=(), books=(), leis=()
    )
    for row in late:
        calendar = reference.settlement_calendar(reference.instruments[_field(row, "isin")].mic)
        found[_field(row, "id")] = calendar.business_days_after(
            _as_date(_field(row, "intended_settlement_date")), today
        )
    return found


async def fails_report(session: AsyncSession, *, today: date) -> dict[str, Any]:
    """Every failing instruction counted by age bucket, fail reason and counterparty, with the
    cash left unsettled per currency."""
    tally = FailsTally()
    for rows in await repository.failing_in_chunks(session, today=today):
        ages = await days_failing(session, rows, today=today)
        for row in rows:
            tally.add(
                Fail(
                    days_failing=ages[row.id],
                    fail_reason=row.fail_reason,
                    counterparty_lei=row.counterparty_lei,
                    currency=row.currency,
                    unsettled=row.amount - row.settled_amount,
                )
            )
    return {"as_of": today.isoformat(), **tally.report()}


@dataclass(frozen=True, slots=True)
class DueInstruction:
    """An instruction as settlement efficiency counts it: due on its intended settlement date,
    and whether it settled in full on that very day."""

    intended_settlement_date: date
    market: str  # the MIC of its instrument's market
    counterparty_lei: str
    currency: str
    amount: Decimal
    settled_on_time: bool


async def instructions_due(
    session: AsyncSession, *, start: date, end: date
) -> list[DueInstruction]:
    """Every instruction not cancelled whose intended settlement date is in [start, end],
    oldest first: on time when fully settled with a settlement (value) date equal to it."""
    rows = await repository.due_between(session, start=start, end=end)
    instruments = (
        await load_reference(session, isins={row.isin for row in rows}, mics=(), books=(), leis=())
    ).instruments
    return [
        DueInstruction(
            intended_settlement_date=row.intended_settlement_date,
            market=instruments[row.isin].mic,
            counterparty_lei=row.counterparty_lei,
            currency=row.currency,
            amount=row.amount,
            settled_on_time=row.status == InstructionStatus.SETTLED
            and row.settled_on == row.intended_settlement_date,
        )
        for row in rows
    ]


async def buy_in_candidates(session: AsyncSession, *, as_of: date) -> list[Candidate]:
    """Every instruction failing on ``as_of`` for more business days than the extension period
    of its instrument's class in force at its intended settlement date, furthest past first.
    Cash-only instructions (PFOD) have no securities to buy in."""
    periods = await extension_periods(session)
    candidates: list[Candidate] = []
    for rows in await repository.failing_in_chunks(session, today=as_of):
        securities = [row for row in rows if row.delivery_type != DeliveryType.PFOD.value]
        ages = await days_failing(session, securities, today=as_of)
        reference = await load_reference(
            session, isins={row.isin for row in securities}, mics=(), books=(), leis=()
        )
        past: list[tuple[SettlementInstruction, str, int]] = []
        for row in securities:
            csdr_class = reference.instruments[row.isin].csdr_class
            extension = periods.in_force(csdr_class, row.intended_settlement_date)
            if extension is not None and is_candidate(ages[row.id], extension):
                past.append((row, csdr_class, extension))
        trade_ids = await trades.trade_ids(
            session, obligation_ids=[row.obligation_id for row, _, _ in past]
        )
        candidates += [
            _candidate(row, csdr_class, extension, ages[row.id], trade_ids)
            for row, csdr_class, extension in past
        ]
    return in_report_order(candidates)


def _candidate(
    row: SettlementInstruction,
    csdr_class: str,
    extension: int,
    days: int,
    trade_ids: Mapping[str, list[str]],
) -> Candidate:
    return Candidate(
        instruction_id=row.id,
        obligation_id=row.obligation_id,
        trade_ids=tuple(trade_ids.get(row.obligation_id, ())),
        isin=row.isin,
        csdr_class=csdr_class,
        counterparty_lei=row.counterparty_lei,
        direction=direction(row.delivery_type),
        quantity_due=row.quantity - row.settled_quantity,
        currency=row.currency,
        amount_due=row.amount - row.settled_amount,
        intended_settlement_date=row.intended_settlement_date,
        days_failing=days,
        extension_days=extension,
        fail_reason=row.fail_reason,
    )


async def failing_instructions(session: AsyncSession, *, today: date) -> list[dict[str, Any]]:
    """For reports: every instruction failing on ``today`` (past its intended settlement date,
    not settled, not cancelled), in id order, as plain values."""
    names = (
        "id",
        "delivery_type",
        "isin",
        "quantity",
        "settled_quantity",
        "amount",
        "settled_amount",
        "currency",
        "counterparty_lei",
        "status",
        "fail_reason",
        "intended_settlement_date",
    )
    return [
        {name: getattr(row, name) for name in names}
        for rows in await repository.failing_in_chunks(session, today=today)
        for row in rows
    ]


async def count_by_status(session: AsyncSession, *, settlement_date: date) -> dict[str, int]:
    """The instructions intended to settle on the date, per status (statuses with none left
    out): what the end-of-day cycle checks after clearing."""
    return await repository.count_by_status(session, settlement_date=settlement_date)


# Penalties -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PenaltyFacts:
    """What the CSDR penalties of an instruction depend on, as it stands now."""

    instruction_id: str
    isin: str
    delivery_type: str
    quantity: Decimal
    amount: Decimal
    currency: str
    counterparty_lei: str
    intended_settlement_date: date
    status: str
    held_from: str | None
    held_by: str | None
    fail_reason: str | None
    settled_on: date | None
    settled_quantity: Decimal
    settled_amount: Decimal
    created_at: datetime
    # When the depository first advised it matched; None: pre-matched (internal market, CCP)
    # or never matched (``status`` says which).
    matched_at: datetime | None

    @property
    def matched(self) -> bool:
        """Matched now: at the depository, or pre-matched since it was made."""
        state = self.held_from if self.status == _S.ON_HOLD else self.status
        return state not in (_S.PENDING, _S.REPAIR, _S.CANCELLED)

    @property
    def we_deliver(self) -> bool:
        return direction(self.delivery_type) == "we_deliver"


async def penalty_facts(
    session: AsyncSession, *, day: date, ids: Sequence[str] = ()
) -> list[PenaltyFacts]:
    """Instructions that may owe or be owed a penalty for ``day`` (``repository``), and those
    named by ``ids`` whatever their state, in id order."""
    rows = await repository.penalty_candidates(session, day=day, ids=ids)
    matched = await repository.first_matched(session, [row.id for row in rows])
    return [
        PenaltyFacts(
            instruction_id=row.id,
            isin=row.isin,
            delivery_type=row.delivery_type,
            quantity=row.quantity,
            amount=row.amount,
            currency=row.currency,
            counterparty_lei=row.counterparty_lei,
            intended_settlement_date=row.intended_settlement_date,
            status=row.status,
            held_from=row.held_from,
            held_by=row.held_by,
            fail_reason=row.fail_reason,
            settled_on=row.settled_on,
            settled_quantity=row.settled_quantity,
            settled_amount=row.settled_amount,
            created_at=row.created_at,
            matched_at=matched.get(row.id),
        )
        for row in rows
    ]
