"""API models for reconciliation runs and their reports."""

import datetime as dt
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.core.runs.schemas import LeaseOut, lease_of
from app.reconciliation.runs.models import ReconciliationRun


class ReconciliationRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"account": "CASH-EUR", "date": "2026-11-25", "dry_run": False}]
        },
    )

    account: str = Field(min_length=1, max_length=40, description="A cash or safekeeping account.")
    date: dt.date = Field(description="The value date reconciled.")
    dry_run: StrictBool = Field(default=False, description="Answer the report, write nothing.")


_REPORT = (
    "`cash` (a cash account): lines and movements seen, matches per rule, items matched, the "
    "searches that gave up; `integrity`; `balance` (statement, book, difference; null without a "
    "statement); `holdings` (a safekeeping account); `breaks`: opened, kept, reopened and "
    "closed per kind."
)


class ReconciliationRunOut(LeaseOut):
    id: str | None = Field(description="Null for a dry run.")
    account: str
    date: dt.date
    status: str = Field(description="`running`, `completed`, `failed`, or `dry_run`.")
    dry_run: bool
    total: int = Field(description="Statement lines and book movements the run matched.")
    processed: int
    matched: int = Field(description="Matches made.")
    breaks_opened: int = Field(description="Breaks opened or reopened.")
    breaks_closed: int
    report: dict[str, Any] | None = Field(description=_REPORT)
    error: str | None = None
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: ReconciliationRun) -> "ReconciliationRunOut":
        return cls(
            **lease_of(run),
            id=run.id,
            account=run.account,
            date=run.value_date,
            status=run.status,
            dry_run=False,
            total=run.total,
            processed=run.processed,
            matched=run.matched,
            breaks_opened=run.breaks_opened,
            breaks_closed=run.breaks_closed,
            report=run.report if "breaks" in run.report else None,
            error=run.error,
            created_at=run.created_at,
            finished_at=run.finished_at,
        )

    @classmethod
    def dry(cls, account: str, day: dt.date, report: dict[str, Any]) -> "ReconciliationRunOut":
        """What a run would report now; nothing was written."""
        cash = report.get("cash") or {}
        seen = cash.get("lines", 0) + cash.get("movements", 0)
        breaks = report["breaks"]
        return cls(
            id=None,
            account=account,
            date=day,
            status="dry_run",
            dry_run=True,
            total=seen,
            processed=seen,
            matched=sum(cash.get("matches", {}).values()),
            breaks_opened=sum(breaks["opened"].values()) + sum(breaks["reopened"].values()),
            breaks_closed=sum(breaks["closed"].values()),
            report=report,
            created_at=None,
            finished_at=None,
        )
