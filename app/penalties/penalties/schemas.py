"""API models of penalties and of the monthly penalties report."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.money import DecimalStr


class PenaltyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    instruction_id: str
    day: date = Field(description="The business day penalised.")
    kind: str = Field(description="`settlement_fail` or `late_matching_fail`.")
    payer: str = Field(description="`us` (we fail, we pay) or `counterparty` (owed to us).")
    counterparty_lei: str
    isin: str
    reason: str = Field(description="`lack_of_securities` or `lack_of_cash`: which rate applies.")
    fail_reason: str | None = Field(description="The instruction's fail reason (LACK, CLAC...).")
    quantity: DecimalStr = Field(description="Failed quantity (late matching: the original).")
    reference_price: DecimalStr | None
    basis: DecimalStr = Field(description="Quantity x reference price (or the failed cash).")
    rate: DecimalStr
    rate_divisor: int = Field(description="1, or 365 for the annual central-bank cash rate.")
    amount: DecimalStr = Field(description="basis x rate / rate_divisor, half-even to minor units.")
    currency: str
    status: str = Field(description="`active` or `reversed`.")
    run_id: str | None
    journal_entry_id: str
    reversal_entry_id: str | None
    reversal_reason: str | None
    reversed_at: datetime | None
    created_at: datetime
    version: int


class PenaltyReverseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "CSD confirmed settlement on the day (late MT545)"}]
        },
    )

    reason: str = Field(min_length=1, max_length=200)


class MonthlyGroupOut(BaseModel):
    currency: str
    penalties: int
    payable: DecimalStr = Field(description="What we owe.")
    receivable: DecimalStr = Field(description="What is owed to us.")
    net: DecimalStr = Field(description="receivable - payable.")


class MonthlyCounterpartyOut(MonthlyGroupOut):
    counterparty_lei: str


class MonthlyPenaltiesOut(BaseModel):
    month: str = Field(examples=["2026-12"])
    counterparties: list[MonthlyCounterpartyOut]
    totals: list[MonthlyGroupOut]
