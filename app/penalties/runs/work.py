"""A penalty run's work: one chunk assesses the day, reverses what the facts no longer support,
then books what is due and not booked yet (the active-penalty unique index makes a repeat, or
two runs at once, book nothing twice)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.penalties.penalties import service as penalties
from app.penalties.runs.assess import Assessment, assess
from app.penalties.runs.models import PenaltyRun
from app.penalties.runs.report import Booked, Reversed, build_report


async def prepare(session: AsyncSession, run: PenaltyRun) -> None:
    """Nothing is carried from one chunk to the next: a run is one chunk."""
    return


async def penalise_chunk(
    session: AsyncSession, run: PenaltyRun, carried: None, /, *, actor: Actor, now: datetime
) -> bool:
    """Assess the run's day and write what it found; False: nothing left to do."""
    if run.processed:
        return False
    found = await assess(session, day=run.settlement_date)
    # Reversed first: a penalty booked again takes the place of the one it replaces.
    await penalties.reverse_many(session, found.reversals, actor=actor, now=now)
    booked = await penalties.book(session, found.new, run_id=run.id, actor=actor, now=now)
    run.total = run.processed = found.examined
    run.booked = len(booked)
    run.reversed = len(found.reversals)
    run.exceptions = len(found.exceptions)
    run.report = build_report(
        examined=found.examined,
        booked=[Booked(p.kind, p.payer, p.currency, p.amount) for p in booked],
        reversed_=_reversed(found),
        exceptions=found.exceptions,
    )
    return False


def _reversed(found: Assessment) -> list[Reversed]:
    return [Reversed(penalty.id, penalty.day, reason) for penalty, reason in found.reversals]


async def dry_run(session: AsyncSession, *, day: date) -> dict[str, Any]:
    """What a run would report now, writing nothing (and locking nothing)."""
    found = await assess(session, day=day, lock=False)
    return build_report(
        examined=found.examined,
        booked=[
            Booked(n.line.kind.value, n.line.payer.value, n.line.currency, n.line.amount)
            for n in found.new
        ],
        reversed_=_reversed(found),
        exceptions=found.exceptions,
    )
