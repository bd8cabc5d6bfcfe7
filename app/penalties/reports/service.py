"""The depository's penalty reports: each read report compared with our penalties of the days
it names (by our instruction's reference, its SEME), kept with every difference, audited. The
same sender and message id again replays the first answer (other content: refused)."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited
from app.core.auth import Actor
from app.core.errors import Conflict
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.penalties.calculation import Party, PenaltyKind
from app.penalties.penalties import service as penalties
from app.penalties.reports import repository
from app.penalties.reports.model import PenaltyReport
from app.penalties.reports.models import PenaltyReportRow
from app.penalties.reports.reconcile import (
    Comparison,
    DifferenceKind,
    OurPenalty,
    Side,
    reconcile,
)
from app.settlement.outbound import service as outbound

REPORT_ENTITY = "penalty_report"
# The API's names of the reconciliation's differences.
KINDS = {
    DifferenceKind.MISSING_AT_DEPOSITORY: "missing_at_depository",
    DifferenceKind.MISSING_IN_OURS: "missing_in_ours",
    DifferenceKind.AMOUNT: "amount_differs",
    DifferenceKind.PAYER: "payer_differs",
    DifferenceKind.CURRENCY: "currency_differs",
    DifferenceKind.DAYS: "days_differ",
    DifferenceKind.REMOVED: "removed",
}


@dataclass(frozen=True)
class Received:
    report: PenaltyReportRow
    replayed: bool  # the same message was received before: this is its first answer


def report_days(report: PenaltyReport) -> list[date]:
    """The business days a report covers: every day its lines penalise or were computed on."""
    days = {day for line in report.lines for day in line.days}
    days |= {line.computed_on for line in report.lines if line.computed_on is not None}
    return sorted(days)


async def receive_report(
    session: AsyncSession,
    *,
    report: PenaltyReport,
    content: bytes,
    source: str,
    sender: str,
    actor: Actor,
    now: datetime,
) -> Received:
    """Compare ``report`` (read from ``content``, ``source`` ``json`` or the semt.044 version)
    with our active penalties of its days and keep it with every difference. Its message id is
    the header's ``BizMsgIdr``, else the report's id."""
    message_id = report.message_id or report.report_id
    digest = hashlib.sha256(content).hexdigest()
    await repository.lock_message_id(session, sender=sender, message_id=message_id)
    existing = await repository.by_message_id(session, sender=sender, message_id=message_id)
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(
                f"Message '{message_id}' from {sender} was received before with other content "
                f"(penalty report {existing.id})."
            )
        return Received(existing, replayed=True)
    days = report_days(report)
    ours = await _ours(session, days)
    result = reconcile(ours, report.lines)
    instructions = await _instructions(session, ours, result.differing)
    row = PenaltyReportRow(
        id=new_id("prp"),
        sender=sender,
        message_id=message_id,
        report_id=report.report_id,
        report_date=report.report_date,
        source=source,
        content=content.decode("utf-8", errors="replace"),
        sha256=digest,
        days=[day.isoformat() for day in days],
        lines=len(report.lines),
        matched=len(result.matched),
        differing=len(result.differing),
        differences=[
            difference_json(comparison, kind, instructions.get(comparison.reference))
            for comparison in result.differing
            for kind in comparison.differences
        ],
        received_at=now,
        received_by=actor.key_id,
    )
    async with audited(
        session,
        row,
        entity_type=REPORT_ENTITY,
        action="received",
        actor=actor,
        now=now,
        created=True,
        exclude=frozenset({"content"}),  # the body is the row's own; its sha256 stands for it
    ):
        await repository.add(session, row)
    return Received(row, replayed=False)


async def _ours(session: AsyncSession, days: Sequence[date]) -> list[OurPenalty]:
    """Our active penalties of these days, each under its instruction's SEME (an instruction
    never sent to a depository: under its id)."""
    rows = await penalties.active_on(session, days=days)
    references = await outbound.references_of(
        session, instruction_ids=sorted({row.instruction_id for row in rows})
    )
    return [
        OurPenalty(
            penalty_id=row.id,
            reference=references.get(row.instruction_id, row.instruction_id),
            instruction_id=row.instruction_id,
            day=row.day,
            kind=PenaltyKind(row.kind),
            amount=row.amount,
            currency=row.currency,
            payer=Party(row.payer),
            status=row.status,
        )
        for row in rows
    ]


async def _instructions(
    session: AsyncSession, ours: Sequence[OurPenalty], differing: Sequence[Comparison]
) -> dict[str, str]:
    """The instruction of each reference: ours, else the one we sent that SEME for."""
    known = {line.reference: line.instruction_id for line in ours}
    unknown = sorted({c.reference for c in differing} - set(known))
    if unknown:
        known |= await outbound.instructions_of_references(session, references=unknown)
    return known


def _side(side: Side | None, penalty_ids: Sequence[str]) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "amount": str(side.amount),
        "currency": side.currency,
        "payer": None if side.payer is None else side.payer.value,
        "days": [day.isoformat() for day in side.days],
        "penalty_ids": list(penalty_ids),
    }


def difference_json(
    comparison: Comparison, kind: DifferenceKind, instruction_id: str | None
) -> dict[str, Any]:
    """One difference as kept and answered (``schemas.DifferenceOut``)."""
    amount = comparison.amount_difference if kind == DifferenceKind.AMOUNT else None
    return {
        "kind": KINDS[kind],
        "reference": comparison.reference,
        "instruction_id": instruction_id,
        "day": comparison.day.isoformat(),
        "penalty_kind": comparison.kind.value,
        "ours": _side(comparison.our_side, [line.penalty_id for line in comparison.ours]),
        "theirs": _side(comparison.their_side, [line.penalty_id for line in comparison.theirs]),
        "difference": None if amount is None else str(amount),
    }


async def get_report(session: AsyncSession, *, report_id: str) -> PenaltyReportRow:
    return await repository.get(session, report_id)


async def list_reports(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[PenaltyReportRow], str | None]:
    return await repository.page_of(session, page)
