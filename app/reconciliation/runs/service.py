"""Reconciliation runs on the run framework: one account (cash or safekeeping) and one value
date, started, worked through by ``work.reconcile_chunk``, dry run, queries."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.errors import FieldProblem, NotFound, ValidationFailed
from app.core.runs import framework
from app.core.runs.framework import RunType
from app.reconciliation.runs import work
from app.reconciliation.runs.models import ReconciliationRun
from app.reference.accounts import service as accounts

RECONCILIATION_RUN: RunType[ReconciliationRun, None] = RunType(
    entity="reconciliation_run",
    title="reconciliation run",
    model=ReconciliationRun,
    id_prefix="rcn",
    path="/api/v1/reconciliation-runs",
    prepare=work.prepare,
    chunk=work.reconcile_chunk,
    record=record_change,
    past=row_as_of,
)


async def account_kind(session: AsyncSession, account: str) -> str:
    """``cash`` or ``securities``: 404 for an account we do not have."""
    found = (await accounts.accounts_by_code(session, codes=[account])).get(account)
    if found is None:
        raise NotFound(f"No account '{account}'.")
    if found.kind not in (work.CASH, work.SECURITIES):
        problem = f"account {account} is a {found.kind} account: neither cash nor securities"
        raise ValidationFailed(
            f"{problem[0].upper()}{problem[1:]}.", errors=[FieldProblem("account", problem)]
        )
    return found.kind


async def dry_run(
    session: AsyncSession, *, account: str, day: date, actor: Actor, now: datetime
) -> dict[str, Any]:
    kind = await account_kind(session, account)
    return await work.dry_run(session, account=account, day=day, kind=kind, actor=actor, now=now)


async def start_run(
    session: AsyncSession, *, account: str, day: date, actor: Actor, now: datetime
) -> ReconciliationRun:
    """A run for the account and day (the framework's ``process`` does the work)."""
    kind = await account_kind(session, account)
    return await framework.start(
        session,
        RECONCILIATION_RUN,
        total=0,
        report={"account_kind": kind},
        actor=actor,
        now=now,
        account=account,
        value_date=day,
        matched=0,
        breaks_opened=0,
        breaks_closed=0,
    )
