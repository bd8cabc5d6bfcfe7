"""What an affirmation deadline run answers."""

from pydantic import BaseModel, Field

from app.trades.deadline_runs.models import AffirmationDeadlineRun


class DeadlineRunOut(BaseModel):
    flagged: int = Field(description="Trades that passed their cutoff unconfirmed since last run.")
    trade_ids: list[str]

    @classmethod
    def of(cls, run: AffirmationDeadlineRun) -> "DeadlineRunOut":
        return cls(flagged=run.flagged, trade_ids=run.report["trade_ids"])
