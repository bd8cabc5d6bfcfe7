"""The steps of the end-of-day cycle, as a table of (name, callable), in the order they run.

Each step is given a ``StepContext`` and answers a ``StepOutcome`` (its summary). A step that
starts a batch run records the child run's id on the end-of-day run (``remember``) in the
transaction that starts it, before the child does any work: after a crash or a failure, the
step goes on with that child (resumed or processed further) instead of starting another, so
nothing is done twice. Domains are reached only through their services."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clearing.runs import service as clearing_runs
from app.core.auth import Actor
from app.core.clock import Clock
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.core.runs.states import RunStatus
from app.penalties.runs import service as penalty_runs
from app.reconciliation.runs import service as reconciliation_runs
from app.reconciliation.statements import service as statements
from app.reference.calendars import service as calendars
from app.settlement.instructions import service as instructions
from app.settlement.outbound import service as outbound
from app.settlement.runs import service as settlement_runs
from app.trades.confirmations import service as confirmations
from app.trades.deadline_runs import service as deadline_runs

Remember = Callable[[AsyncSession, str, str], Awaitable[None]]


@dataclass(frozen=True)
class StepContext:
    """What a step is given: where to work, for which day, as whom, and the child runs it
    recorded on an earlier attempt (``{key: run id}``)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    day: date
    actor: Actor
    clock: Clock
    child_runs: Mapping[str, str]
    remember: Remember  # (session, key, child run id): recorded in that session's transaction


@dataclass(frozen=True)
class StepOutcome:
    summary: dict[str, Any]
    skipped: bool = False
    # Runs of the day the step found done and took as its own (not started by it).
    adopted: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[StepContext], Awaitable[StepOutcome]]


async def _child(
    ctx: StepContext,
    kind: RunType[Any, Any],
    key: str,
    start: Callable[[AsyncSession], Awaitable[Any]],
) -> Any:
    """The step's child run under ``key``, worked through to its end: started once (its id
    recorded with the start), resumed if it had failed, processed further if a crash
    interrupted it. The finished run; a failure of the child is raised."""
    run_id = ctx.child_runs.get(key)
    if run_id is None:
        async with ctx.sessionmaker() as session:
            started = await start(session)
            await ctx.remember(session, key, started.id)
            await session.commit()
            run_id = started.id
    async with ctx.sessionmaker() as session:
        run = await framework.get(session, kind, run_id)
        if run.status == RunStatus.FAILED:
            await framework.resume(session, kind, run_id=run_id, actor=ctx.actor, now=ctx.clock())
            await session.commit()
        done = run.status == RunStatus.COMPLETED
    if not done:
        await framework.process(
            ctx.sessionmaker, kind, run_id=run_id, actor=ctx.actor, clock=ctx.clock
        )
    async with ctx.sessionmaker() as session:
        return await framework.get(session, kind, run_id)


async def affirmation_deadlines(ctx: StepContext) -> StepOutcome:
    """Flag every trade past its market's affirmation cutoff, unconfirmed (once each)."""
    run = await _child(
        ctx,
        deadline_runs.DEADLINE_RUN,
        "affirmation_deadlines",
        lambda session: deadline_runs.start_run(session, actor=ctx.actor, now=ctx.clock()),
    )
    return StepOutcome({"looked_at": run.processed, "flagged": run.flagged})


CLEARED = ("trades", "cleared", "obligations", "instructions")


def _clearing_summary(run: Any) -> dict[str, Any]:
    return {
        "trades": run.total,
        "cleared": run.processed,
        "obligations": run.obligations,
        "instructions": run.instructions,
    }


async def clearing(ctx: StepContext) -> StepOutcome:
    """Clear the confirmed trades due on the day (what is left: late confirmations) and on the
    next settlement day (the earliest day after it that is a business day on any market's
    settlement calendar: today's T+1 trades, yesterday's T+2), so that their instructions reach
    the depository before their intended settlement date. A clearing run per date, recorded
    under the date; the totals and a summary per date. Skipped when neither has anything left
    to clear."""
    async with ctx.sessionmaker() as session:
        following = await calendars.next_settlement_day(session, after=ctx.day)
    totals: dict[str, Any] = dict.fromkeys(CLEARED, 0)
    per_date: dict[str, dict[str, Any]] = {}
    adopted: dict[str, str] = {}
    skipped = True
    for day in [ctx.day] if following is None else [ctx.day, following]:
        outcome = await _clear(ctx, day)
        per_date[day.isoformat()] = outcome.summary
        adopted |= outcome.adopted
        skipped = skipped and outcome.skipped
        if not outcome.skipped:
            for name in CLEARED:
                totals[name] += outcome.summary[name]
    return StepOutcome({**totals, "dates": per_date}, skipped=skipped, adopted=adopted)


async def _clear(ctx: StepContext, day: date) -> StepOutcome:
    """One date's clearing run, its child run recorded under the date (skipped, taking the
    date's last run as it is, when nothing is left to clear)."""
    kind, key = clearing_runs.CLEARING_RUN, day.isoformat()
    if key not in ctx.child_runs:
        async with ctx.sessionmaker() as session:
            idle = await clearing_runs.nothing_to_clear(session, settlement_date=day)
        if idle is not None:
            last = idle.last_run
            adopted = {} if last is None else {key: last.id}
            summary = {"note": idle.note, **({} if last is None else _clearing_summary(last))}
            return StepOutcome(summary, skipped=True, adopted=adopted)
    run = await _child(
        ctx,
        kind,
        key,
        lambda session: clearing_runs.start_run(
            session, settlement_date=day, actor=ctx.actor, now=ctx.clock()
        ),
    )
    return StepOutcome(_clearing_summary(run))


async def instructions_and_messages(ctx: StepContext) -> StepOutcome:
    """Clearing creates each obligation's instruction and queues its outbound message (sese.023
    / MT54x) in the same transaction, and the settlement run re-sends what a depository
    rejected: this step starts nothing and records what the day has, for the summary. The
    instructions intended for the day per status, and the outbound queue per status."""
    async with ctx.sessionmaker() as session:
        due = await instructions.count_by_status(session, settlement_date=ctx.day)
        messages = await outbound.count_by_status(session)
    return StepOutcome(
        {
            "instructions": sum(due.values()),
            "instructions_by_status": dict(sorted(due.items())),
            "outbound_messages_by_status": dict(sorted(messages.items())),
        }
    )


def _settlement_summary(run: Any) -> dict[str, Any]:
    at_csd = run.report.get("at_csd", {})
    return {
        "due": run.total,
        "settled": run.settled,
        "partially_settled": run.partially_settled,
        "failed": run.failed,
        "held": run.report.get("held", 0),
        "at_csd": at_csd.get("instructions", 0),
        "failing_at_csd": at_csd.get("failing", 0),
        "failing_at_csd_by_age": at_csd.get("failing_by_age", []),
    }


async def settlement(ctx: StepContext) -> StepOutcome:
    """Settle what is due on internal markets (all or nothing, partials where allowed, the rest
    failing with its reason) and age the fails of instructions at the depository. A settlement
    run already completed for the day is taken as the step's own, not run again."""
    kind, key = settlement_runs.SETTLEMENT_RUN, "settlement"
    if key not in ctx.child_runs:
        async with ctx.sessionmaker() as session:
            last = await framework.latest(session, kind, settlement_date=ctx.day)
        if last is not None and last.status == RunStatus.COMPLETED:
            return StepOutcome(_settlement_summary(last), adopted={key: last.id})
    run = await _child(
        ctx,
        kind,
        key,
        lambda session: settlement_runs.start_run(
            session, settlement_date=ctx.day, actor=ctx.actor, now=ctx.clock()
        ),
    )
    return StepOutcome(_settlement_summary(run))


async def penalties(ctx: StepContext) -> StepOutcome:
    """CSDR cash penalties for the day: settlement fails and late matching, both ways, each
    posted to the journal, and the re-examination that reverses what a late confirmation
    showed settled. A penalty run books nothing twice, so it runs even when one ran already
    today (a price loaded since lets it book what was missing)."""
    run = await _child(
        ctx,
        penalty_runs.PENALTY_RUN,
        "penalties",
        lambda session: penalty_runs.start_run(
            session, day=ctx.day, actor=ctx.actor, now=ctx.clock()
        ),
    )
    return StepOutcome(
        {
            "looked_at": run.processed,
            "booked": run.booked,
            "reversed": run.reversed,
            "exceptions": run.exceptions,
        }
    )


async def reconciliation(ctx: StepContext) -> StepOutcome:
    """Reconcile every account whose end-of-day statement for the day was received and that no
    completed run has reconciled for the day yet; skipped when no statement came."""
    kind = reconciliation_runs.RECONCILIATION_RUN
    async with ctx.sessionmaker() as session:
        accounts = await statements.accounts_with_statement(session, day=ctx.day)
    if not accounts:
        return StepOutcome({"accounts": 0, "note": f"No statement received for {ctx.day}."}, True)
    totals = {"accounts": len(accounts), "matched": 0, "breaks_opened": 0, "breaks_closed": 0}
    adopted: dict[str, str] = {}
    for account in accounts:
        run = None
        if account not in ctx.child_runs:
            async with ctx.sessionmaker() as session:
                last = await framework.latest(session, kind, account=account, value_date=ctx.day)
            if last is not None and last.status == RunStatus.COMPLETED:
                run, adopted[account] = last, last.id
        if run is None:
            run = await _child(ctx, kind, account, _reconciliation_start(ctx, account))
        for name in ("matched", "breaks_opened", "breaks_closed"):
            totals[name] += getattr(run, name)
    return StepOutcome(totals, adopted=adopted)


def _reconciliation_start(
    ctx: StepContext, account: str
) -> Callable[[AsyncSession], Awaitable[Any]]:
    async def start(session: AsyncSession) -> Any:
        return await reconciliation_runs.start_run(
            session, account=account, day=ctx.day, actor=ctx.actor, now=ctx.clock()
        )

    return start


async def reports(ctx: StepContext) -> StepOutcome:
    """The day's report summary, through the reports' own services: fails by age bucket,
    buy-in candidates and unaffirmed trades past their cutoff. Kept as the run's report."""
    async with ctx.sessionmaker() as session:
        fails = await instructions.fails_report(session, today=ctx.day)
        candidates = await instructions.buy_in_candidates(session, as_of=ctx.day)
        unaffirmed = await confirmations.unaffirmed_trades(
            session, now=ctx.clock(), within=timedelta(0)
        )
    return StepOutcome(
        {
            "fails": fails["instructions"],
            "fails_unsettled": fails["unsettled"],
            "fails_by_age": [
                {"bucket": row["bucket"], "instructions": row["instructions"]}
                for row in fails["by_age"]
            ],
            "buy_in_candidates": len(candidates),
            "unaffirmed": len(unaffirmed),
        }
    )


STEPS: tuple[Step, ...] = (
    Step("affirmation_deadlines", affirmation_deadlines),
    Step("clearing", clearing),
    Step("instructions", instructions_and_messages),
    Step("settlement", settlement),
    Step("penalties", penalties),
    Step("reconciliation", reconciliation),
    Step("reports", reports),
)
REPORT_STEP = "reports"


def by_name(steps: tuple[Step, ...] = STEPS) -> dict[str, Step]:
    return {step.name: step for step in steps}
