"""Settlement instructions: created from obligations, enriched from SSIs, repaired, read."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, entity_state_as_of, record_change, record_changes
from app.core.auth import Actor
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest, fetch_page
from app.core.snapshots import jsonable, row_snapshot
from app.core.states import next_state
from app.reference.instruments.service import get_instrument_ref
from app.reference.markets.service import markets_by_mic
from app.reference.ssis.service import ssis_of
from app.settlement.enrichment import RepairReason, SsiFacts, choose_ssi
from app.settlement.fails import is_failing_filter
from app.settlement.models import SettlementInstruction
from app.settlement.movements import expect
from app.settlement.states import (
    TRANSITIONS,
    DeliveryType,
    InstructionEvent,
    InstructionStatus,
)
from app.trades import service as trades

ENTITY = "settlement_instruction"
DEFAULT_PRIORITY = 50
ZERO = Decimal(0)


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
    after = next_state(TRANSITIONS, InstructionStatus.REPAIR, InstructionEvent.ENRICHED)
    if pre_matched:
        after = next_state(TRANSITIONS, after, InstructionEvent.MATCHED)
    return after


async def _settles_internally(session: AsyncSession, mics: Iterable[str]) -> set[str]:
    markets = await markets_by_mic(session, mics=set(mics))
    return {mic for mic, market in markets.items() if market.internal_settlement}


def _pre_matched(ccp: bool, mic: str, internal: set[str]) -> bool:
    """A CCP's instructions are pre-matched at the CSD; on a market that settles internally the
    system matches both sides itself. Others wait for a sese.024 status advice."""
    return ccp or mic in internal


def _reasons(reason: RepairReason) -> list[dict[str, str]]:
    return [{"code": reason.code, "detail": reason.detail}]


async def create_instructions(
    session: AsyncSession,
    *,
    obligations: Sequence[ObligationToInstruct],
    actor: Actor,
    now: datetime,
) -> dict[str, SettlementInstruction]:
    """One instruction per obligation that moves something, enriched from the counterparty's
    SSI; without exactly one fitting SSI it waits in ``repair``, saying what is missing.
    Returns the instructions by obligation id."""
    ssis = await ssis_of(session, leis=(o.counterparty_lei for o in obligations))
    existing = await _instructions_of(session, [o.obligation_id for o in obligations])
    internal = await _settles_internally(session, (o.mic for o in obligations))
    created: dict[str, SettlementInstruction] = {}
    for obligation in obligations:
        kind = delivery_type(obligation.net_quantity, obligation.net_amount)
        if kind is None or obligation.obligation_id in existing:
            continue
        chosen = choose_ssi(
            _ssi_facts(ssis[obligation.counterparty_lei]),
            counterparty=obligation.counterparty_lei,
            mic=obligation.mic,
            currency=obligation.currency,
        )
        repair = isinstance(chosen, RepairReason)
        instruction = SettlementInstruction(
            id=new_id("si"),
            obligation_id=obligation.obligation_id,
            delivery_type=kind.value,
            isin=obligation.isin,
            quantity=abs(obligation.net_quantity),
            amount=abs(obligation.net_amount),
            credit_debit=(
                None
                if obligation.net_amount == 0
                else "CRDT"
                if obligation.net_amount > 0
                else "DBIT"
            ),
            currency=obligation.currency,
            securities_account=obligation.securities_account,
            cash_account=obligation.cash_account,
            counterparty_lei=obligation.counterparty_lei,
            ccp=obligation.ccp,
            counterparty_ssi=None if isinstance(chosen, RepairReason) else chosen.as_instructed(),
            intended_settlement_date=obligation.settlement_date,
            priority=DEFAULT_PRIORITY,
            partial_allowed=False,
            status=(
                InstructionStatus.REPAIR
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
        session.add(instruction)
        created[obligation.obligation_id] = instruction
    await session.flush()
    await expect(session, list(created.values()), actor=actor, now=now)
    await record_changes(
        session,
        [
            Change(ENTITY, i.id, "created", None, jsonable(row_snapshot(i)))
            for i in created.values()
        ],
        actor=actor,
        now=now,
    )
    return {**existing, **created}


async def _instructions_of(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> dict[str, SettlementInstruction]:
    """Instructions already made for these obligations (a resumed run makes none twice)."""
    found: dict[str, SettlementInstruction] = {}
    for start in range(0, len(obligation_ids), 500):
        rows = await session.scalars(
            select(SettlementInstruction).where(
                SettlementInstruction.obligation_id.in_(obligation_ids[start : start + 500])
            )
        )
        found.update({row.obligation_id: row for row in rows.all()})
    return found


async def lock_instruction(session: AsyncSession, instruction_id: str) -> SettlementInstruction:
    await session.flush()
    instruction = await session.get(
        SettlementInstruction, instruction_id, with_for_update=True, populate_existing=True
    )
    if instruction is None:
        raise NotFound(f"No settlement instruction '{instruction_id}'.")
    return instruction


async def enrich(
    session: AsyncSession, *, instruction_id: str, actor: Actor, now: datetime
) -> SettlementInstruction:
    """Try the SSIs again for an instruction in repair (after operations fixed them). It stays
    in repair, with the reason brought up to date, until exactly one SSI fits."""
    instruction = await lock_instruction(session, instruction_id)
    status = next_state(
        TRANSITIONS, InstructionStatus(instruction.status), InstructionEvent.ENRICHED
    )
    ssis = await ssis_of(session, leis=[instruction.counterparty_lei])
    instrument = await get_instrument_ref(session, isin=instruction.isin)
    chosen = choose_ssi(
        _ssi_facts(ssis[instruction.counterparty_lei]),
        counterparty=instruction.counterparty_lei,
        mic=instrument.mic,
        currency=instruction.currency,
    )
    before = row_snapshot(instruction)
    if isinstance(chosen, RepairReason):
        instruction.repair_reasons = _reasons(chosen)
    else:
        internal = await _settles_internally(session, [instrument.mic])
        if _pre_matched(instruction.ccp, instrument.mic, internal):
            status = next_state(TRANSITIONS, status, InstructionEvent.MATCHED)
        instruction.counterparty_ssi = chosen.as_instructed()
        instruction.repair_reasons = []
        instruction.status = status.value
    instruction.version += 1
    instruction.updated_at = now
    if not isinstance(chosen, RepairReason):
        await trades.mark_instructed(
            session, obligation_ids=[instruction.obligation_id], actor=actor, now=now
        )
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=instruction.id,
        action="enriched" if not isinstance(chosen, RepairReason) else "enrichment_failed",
        before=before,
        after=row_snapshot(instruction),
        now=now,
    )
    return instruction


async def get_instruction(session: AsyncSession, *, instruction_id: str) -> SettlementInstruction:
    instruction = await session.get(SettlementInstruction, instruction_id)
    if instruction is None:
        raise NotFound(f"No settlement instruction '{instruction_id}'.")
    return instruction


async def instruction_as_of(
    session: AsyncSession, *, instruction_id: str, as_of: datetime
) -> dict[str, Any]:
    """The instruction as it stood at ``as_of``, rebuilt from its audit trail (every change of
    an instruction records its whole row as the after image)."""
    snapshot = await entity_state_as_of(
        session, entity_type=ENTITY, entity_id=instruction_id, as_of=as_of
    )
    if snapshot is None:
        await get_instruction(session, instruction_id=instruction_id)
        raise NotFound(
            f"Settlement instruction '{instruction_id}' did not exist yet at {as_of.isoformat()}."
        )
    return snapshot


async def list_instructions(
    session: AsyncSession,
    *,
    page: PageRequest,
    status: InstructionStatus | None = None,
    intended_settlement_date: date | None = None,
    isin: str | None = None,
    counterparty_lei: str | None = None,
    obligation_id: str | None = None,
    failing_on: date | None = None,
    intended_before: date | None = None,
) -> tuple[Sequence[SettlementInstruction], str | None]:
    """``failing_on``: only instructions failing on that day (open past their date);
    ``intended_before``: only those due before that day (their age)."""
    statement = select(SettlementInstruction)
    if failing_on is not None:
        statement = statement.where(*is_failing_filter(failing_on))
    if intended_before is not None:
        statement = statement.where(
            SettlementInstruction.intended_settlement_date < intended_before
        )
    filters = {
        SettlementInstruction.status: status.value if status else None,
        SettlementInstruction.intended_settlement_date: intended_settlement_date,
        SettlementInstruction.isin: isin,
        SettlementInstruction.counterparty_lei: counterparty_lei,
        SettlementInstruction.obligation_id: obligation_id,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    return await fetch_page(session, statement, SettlementInstruction.id, page)
