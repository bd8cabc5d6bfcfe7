"""What every run answers first; a run type's API model adds its counts and report."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.core.runs.framework import stalled_after
from app.core.runs.models import RunColumns


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
    return {
        "worker": run.worker,
        "heartbeat_at": run.heartbeat_at,
        "stalled_after": stalled_after(run),
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
