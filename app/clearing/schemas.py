"""API models for clearing runs and obligations."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.clearing.netting import Direction, NettingSet
from app.core.money import DecimalStr


class ClearingRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"settlement_date": "2026-11-27", "dry_run": False}]},
    )

    settlement_date: date
    dry_run: bool = Field(default=False, description="Answer the report, write nothing.")


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


class ClearingRunOut(BaseModel):
    id: str | None = Field(description="Null for a dry run.")
    settlement_date: date
    status: str = Field(description="`running`, `completed`, `failed`, or `dry_run`.")
    dry_run: bool
    total: int = Field(description="Confirmed trades due when the run started.")
    processed: int
    obligations: int
    instructions: int
    report: ClearingReportOut | None = Field(description="When the run ends (or a dry run).")
    error: str | None = None
    note: str | None = Field(default=None, description="Why nothing was done, when so.")
    created_at: datetime | None
    finished_at: datetime | None


class ObligationOut(BaseModel):
    id: str
    run_id: str
    netting_set: NettingSet
    counterparty_lei: str
    securities_account: str
    cash_account: str
    isin: str
    currency: str
    settlement_date: date
    net_quantity: DecimalStr = Field(description="Positive: we receive the securities.")
    net_amount: DecimalStr = Field(description="Positive: we receive the cash.")
    gross_quantity: DecimalStr
    gross_amount: DecimalStr
    trade_count: int
    direction: Direction
    trade_ids: list[str]
    created_at: datetime
