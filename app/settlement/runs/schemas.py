"""API models for settlement runs."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.core.moments import IsoDate
from app.core.money import DecimalStr
from app.core.runs.schemas import RunOut, lease_of
from app.settlement.runs.models import SettlementRun


class SettlementRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"settlement_date": "2026-11-25", "dry_run": False}]},
    )

    settlement_date: IsoDate = Field(description="Today or earlier: what is due by then settles.")
    dry_run: StrictBool = Field(default=False, description="Answer the report, write nothing.")


class FailRowOut(BaseModel):
    reason: str = Field(description="`LACK` (securities) or `MONY` (cash).")
    currency: str
    instructions: int
    unsettled_amount: DecimalStr = Field(description="The cash left unsettled.")


class AgeCountOut(BaseModel):
    bucket: str = Field(description="Business days failing: `1`, `2-3`, `4-7`, `8-15`, `16+`.")
    instructions: int


class AtCsdOut(BaseModel):
    instructions: int = Field(
        default=0,
        description="Due by the date on a `csd` market and open at the depository (pending, "
        "matched or partially settled): the run does not settle them, the depository's "
        "confirmations do.",
    )
    failing: int = Field(default=0, description="Of them, past their intended settlement date.")
    failing_by_age: list[AgeCountOut] = Field(default_factory=list)
    resent: int = Field(
        default=0,
        description="New messages queued: instructions the depository held none for (never "
        "sent, or rejected and repaired since).",
    )
    not_sendable: int = Field(
        default=0, description="Their message cannot be written (see the instruction)."
    )
    not_sendable_ids: list[str] = Field(default_factory=list, description="The first 100.")


class SettlementReportOut(BaseModel):
    settled: int
    partially_settled: int
    failed: int = Field(description="Settled nothing; they recycle to the next run.")
    market_closed: int = Field(description="Due, but their market does not settle that day.")
    trades_netted_out: int = Field(
        default=0,
        description="Trades settled with no instruction: their obligation netted out to nothing.",
    )
    fails: list[FailRowOut]
    held: int = Field(description="Due but on hold: skipped, not failed.")
    held_ids: list[str] = Field(description="The first 100 of them.")
    at_csd: AtCsdOut = Field(
        default_factory=AtCsdOut,
        description="Instructions of `csd` markets: counted and aged, re-sent where needed; "
        "never settled by the run.",
    )


class SettlementRunOut(RunOut):
    total: int = Field(
        description="Matched instructions due when the run started, on `internal` markets."
    )
    settled: int
    partially_settled: int
    failed: int
    report: SettlementReportOut
    error: str | None = None
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: SettlementRun) -> "SettlementRunOut":
        return cls(
            **lease_of(run),
            id=run.id,
            settlement_date=run.settlement_date,
            status=run.status,
            dry_run=False,
            total=run.total,
            processed=run.processed,
            settled=run.settled,
            partially_settled=run.partially_settled,
            failed=run.failed,
            report=SettlementReportOut.model_validate(run.report),
            error=run.error,
            created_at=run.created_at,
            finished_at=run.finished_at,
        )

    @classmethod
    def dry(cls, settlement_date: date, report: dict[str, Any]) -> "SettlementRunOut":
        """What a run would report now; nothing was written."""
        return cls(
            id=None,
            settlement_date=settlement_date,
            status="dry_run",
            dry_run=True,
            total=report["total"],
            processed=report["total"],
            settled=report["settled"],
            partially_settled=report["partially_settled"],
            failed=report["failed"],
            report=SettlementReportOut.model_validate(report),
            created_at=None,
            finished_at=None,
        )
