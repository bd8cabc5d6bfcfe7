"""API models for clearing runs and their reports."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.clearing.netting import NettingSet
from app.clearing.runs.models import ClearingRun
from app.core.moments import IsoDate
from app.core.money import DecimalStr
from app.core.runs.schemas import RunOut, lease_of


class ClearingRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"settlement_date": "2026-11-27", "dry_run": False}]},
    )

    settlement_date: IsoDate
    dry_run: StrictBool = Field(default=False, description="Answer the report, write nothing.")


class NettingRowOut(BaseModel):
    netting_set: NettingSet
    counterparty_lei: str = Field(description="The CCP, or the bilateral counterparty.")
    currency: str
    trades: int
    gross_value: DecimalStr = Field(description="Sum of the trades' net amounts.")
    obligations: int = Field(description="Obligations that move something.")
    net_value: DecimalStr = Field(description="Sum of the obligations' absolute net amounts.")
    efficiency_by_value: DecimalStr = Field(description="1 - net value / gross value.")
    efficiency_by_count: DecimalStr = Field(description="1 - obligations / trades.")


class LeftOutOut(BaseModel):
    trade_id: str
    reason: str


class ClearingReportOut(BaseModel):
    trades: int
    obligations: int
    by_counterparty: list[NettingRowOut]
    exceptions_count: int = Field(description="Trades left for a later run, with the reason.")
    exceptions: list[LeftOutOut] = Field(description="The first 100 of them.")


class ClearingRunOut(RunOut):
    total: int = Field(description="Confirmed trades due when the run started.")
    obligations: int
    instructions: int
    report: ClearingReportOut | None = Field(description="When the run ends (or a dry run).")
    error: str | None = None
    note: str | None = Field(default=None, description="Why nothing was done, when so.")
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: ClearingRun, *, note: str | None = None) -> "ClearingRunOut":
        return cls(
            **lease_of(run),
            id=run.id,
            settlement_date=run.settlement_date,
            status=run.status,
            dry_run=False,
            total=run.total,
            processed=run.processed,
            obligations=run.obligations,
            instructions=run.instructions,
            report=ClearingReportOut.model_validate(run.report) if run.report else None,
            error=run.error,
            note=note,
            created_at=run.created_at,
            finished_at=run.finished_at,
        )

    @classmethod
    def dry(cls, settlement_date: date, report: dict[str, Any]) -> "ClearingRunOut":
        """What a run would report now; nothing was written."""
        seen = report["trades"] + report["exceptions_count"]
        return cls(
            id=None,
            settlement_date=settlement_date,
            status="dry_run",
            dry_run=True,
            total=seen,
            processed=seen,
            obligations=report["obligations"],
            instructions=0,
            report=ClearingReportOut.model_validate(report),
            created_at=None,
            finished_at=None,
        )

    @classmethod
    def idle(cls, settlement_date: date, note: str) -> "ClearingRunOut":
        """No run for the date yet, and nothing to clear."""
        return cls(
            id=None,
            settlement_date=settlement_date,
            status="completed",
            dry_run=False,
            total=0,
            processed=0,
            obligations=0,
            instructions=0,
            report=None,
            note=note,
            created_at=None,
            finished_at=None,
        )
