"""API models for penalty runs and their reports."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.core.moments import IsoDate
from app.core.money import DecimalStr
from app.core.runs.schemas import RunOut, lease_of
from app.penalties.runs.models import PenaltyRun


class PenaltyRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"date": "2026-11-27", "dry_run": False}]},
    )

    day: IsoDate = Field(alias="date", description="The business day penalised.")
    dry_run: StrictBool = Field(default=False, description="Answer the report, write nothing.")


class BookedGroupOut(BaseModel):
    kind: str = Field(description="`settlement_fail` or `late_matching_fail`.")
    payer: str = Field(description="`us` or `counterparty`.")
    currency: str
    penalties: int
    amount: DecimalStr


class ReversalOut(BaseModel):
    penalty_id: str
    day: date
    reason: str


class PenaltyExceptionOut(BaseModel):
    instruction_id: str
    isin: str
    day: date
    kind: str
    problem: str = Field(
        description="`missing_price` (load it and run the day again), `missing_rate`, or "
        "`unknown_failing_party`."
    )
    detail: str


class PenaltyReportOut(BaseModel):
    instructions_examined: int
    booked: int
    by_kind: list[BookedGroupOut]
    reversed: int
    reversals: list[ReversalOut] = Field(description="The first 100.")
    exceptions_count: int
    exceptions: list[PenaltyExceptionOut] = Field(description="The first 100.")


class PenaltyRunOut(RunOut):
    booked: int
    reversed: int
    exceptions: int
    report: PenaltyReportOut | None = Field(description="When the run ends (or a dry run).")
    error: str | None = None
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: PenaltyRun) -> "PenaltyRunOut":
        return cls(
            **lease_of(run),
            id=run.id,
            settlement_date=run.settlement_date,
            status=run.status,
            dry_run=False,
            total=run.total,
            processed=run.processed,
            booked=run.booked,
            reversed=run.reversed,
            exceptions=run.exceptions,
            report=PenaltyReportOut.model_validate(run.report) if run.report else None,
            error=run.error,
            created_at=run.created_at,
            finished_at=run.finished_at,
        )

    @classmethod
    def dry(cls, day: date, report: dict[str, Any]) -> "PenaltyRunOut":
        """What a run would report now; nothing was written."""
        return cls(
            id=None,
            settlement_date=day,
            status="dry_run",
            dry_run=True,
            total=report["instructions_examined"],
            processed=report["instructions_examined"],
            booked=report["booked"],
            reversed=report["reversed"],
            exceptions=report["exceptions_count"],
            report=PenaltyReportOut.model_validate(report),
            created_at=None,
            finished_at=None,
        )
