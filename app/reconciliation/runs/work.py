"""A reconciliation run's work: one account and one value date, in one transaction (a resumed
run does it all again, and finds done what was committed). Write-offs decided since
the last run settle first. A cash account: matching, the statements' integrity, the balance; a
safekeeping account: the holdings."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.reconciliation.breaks import service as breaks
from app.reconciliation.runs import cash, checks, repository
from app.reconciliation.runs.context import RunContext
from app.reconciliation.runs.models import ReconciliationRun

CASH, SECURITIES = "cash", "securities"


async def reconcile(run: RunContext, account_kind: str) -> dict[str, Any]:
    """Everything the run finds, as its report (written unless a dry run)."""
    report: dict[str, Any] = {"account_kind": account_kind}
    if account_kind == CASH:
        report["cash"] = await cash.reconcile(run)
        report["integrity"] = await checks.integrity(run)
        report["balance"] = await checks.balance(run)
    else:
        report["holdings"] = await checks.holdings_of(run)
    report["breaks"] = run.tally.report()
    return report


async def prepare(session: AsyncSession, run: ReconciliationRun) -> None:
    return None


async def reconcile_chunk(
    session: AsyncSession, row: ReconciliationRun, carried: None, /, *, actor: Actor, now: datetime
) -> bool:
    """The whole run in one chunk; False: nothing is left to do."""
    await repository.lock_account(session, row.account)
    kind = str(row.report.get("account_kind", CASH))
    # Write-offs decided since the last run first: an approved one is no longer open.
    settled = await breaks.refresh_write_offs(session, account=row.account, actor=actor, now=now)
    run = RunContext(session, row.account, row.value_date, row.id, actor, now, write=True)
    report = await reconcile(run, kind) | {"write_offs_decided": settled}
    done = report.get("cash", {})
    row.total = row.processed = done.get("lines", 0) + done.get("movements", 0)
    row.matched = sum(done.get("matches", {}).values())
    row.breaks_opened = run.tally.total("opened", "reopened")
    row.breaks_closed = run.tally.total("closed")
    row.report = report
    return False


async def dry_run(
    session: AsyncSession, *, account: str, day: date, kind: str, actor: Actor, now: datetime
) -> dict[str, Any]:
    """The report a run would give now, writing nothing."""
    run = RunContext(session, account, day, None, actor, now, write=False)
    return await reconcile(run, kind)
