"""What every run answers first; a run type's API model adds its counts and report."""

from datetime import date

from pydantic import BaseModel, Field


class RunOut(BaseModel):
    id: str | None = Field(description="Null for a dry run.")
    settlement_date: date
    status: str = Field(description="`running`, `completed`, `failed`, or `dry_run`.")
    dry_run: bool
    total: int = Field(description="What was due when the run started.")
    processed: int
