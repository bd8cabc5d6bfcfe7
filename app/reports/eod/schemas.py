"""API models of end-of-day runs."""

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.moments import IsoDate
from app.core.runs.schemas import LeaseOut, lease_of
from app.reports.eod.models import EodRun


class EodRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"date": "2026-12-04"}]}
    )

    date: IsoDate = Field(
        description="The business date to close: a day that has come, a business day of at "
        "least one market's settlement calendar."
    )


class EodStepOut(BaseModel):
    name: str = Field(description="The step, in the order the cycle runs them.")
    status: str = Field(description="`pending`, `running`, `completed`, `failed` or `skipped`.")
    child_runs: dict[str, str] = Field(
        description="The runs the step started or took as its own (key: the step, or the "
        "account for reconciliation), each at its own route (`/clearing-runs/{id}`, ...)."
    )
    summary: dict[str, Any] = Field(description="What the step did, in counts.")
    error: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class EodRunOut(LeaseOut):
    id: str
    date: dt.date
    status: str = Field(description="`running`, `completed` or `failed` (resume it).")
    total: int = Field(description="Steps in the cycle.")
    processed: int = Field(description="Steps done (completed or skipped).")
    steps: list[EodStepOut]
    report: dict[str, Any] = Field(
        description="The day's report summary (fails, buy-in candidates, unaffirmed trades)."
    )
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    note: str | None = Field(
        default=None, description="Why nothing was started: the day's run already exists."
    )

    @classmethod
    def of(cls, run: EodRun, *, note: str | None = None) -> "EodRunOut":
        return cls(
            **lease_of(run),
            id=run.id,
            date=run.business_date,
            status=run.status,
            total=run.total,
            processed=run.processed,
            steps=[EodStepOut.model_validate(step) for step in run.steps],
            report=run.report,
            error=run.error,
            created_at=run.created_at,
            finished_at=run.finished_at,
            note=note,
        )
