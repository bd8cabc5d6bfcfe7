"""What every run answers first; a run type's API model adds its counts and report."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.core.runs.framework import lease
from app.core.runs.models import RunColumns
from app.core.runs.states import RunStatus


class LeaseOut(BaseModel):
    """Who works through a run, and until when its lease holds."""

    worker: str | None = Field(
        default=None, description="The worker that last worked through the run (host and pid)."
    )
    heartbeat_at: datetime | None = Field(
        default=None, description="When that worker last reported it was alive."
    )
    stalled_after: datetime | None = Field(
        default=None,
        description=(
            "While `running`: when the worker's lease runs out. Past it, the worker is taken "
            "for dead and `POST .../resume` takes the run over."
        ),
    )


def lease_of(run: RunColumns) -> dict[str, Any]:
    """A stored run's ``LeaseOut`` fields."""
    running = run.status == RunStatus.RUNNING and run.heartbeat_at is not None
    return {
        "worker": run.worker,
        "heartbeat_at": run.heartbeat_at,
        "stalled_after": run.heartbeat_at + lease() if running and run.heartbeat_at else None,
    }


class RunOut(LeaseOut):
    id: str | None = Field(description="Null for a dry run.")
    settlement_date: date
    status: str = Field(description="`running`, `completed`, `failed`, or `dry_run`.")
    dry_run: bool
    total: int = Field(
        description="What was due when the run started, and what became due while it ran."
    )
    processed: int
