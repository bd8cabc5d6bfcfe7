"""API models for settlement instructions."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.money import DecimalStr
from app.settlement.states import DeliveryType, InstructionStatus


class CounterpartySsiOut(BaseModel):
    id: str
    place_of_settlement: str = Field(description="The CSD's BIC.")
    agent_bic: str
    account: str


class RepairReasonOut(BaseModel):
    code: str = Field(description="`SSI_MISSING` or `SSI_AMBIGUOUS`.")
    detail: str


class InstructionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    obligation_id: str
    delivery_type: DeliveryType
    isin: str
    quantity: DecimalStr
    amount: DecimalStr
    credit_debit: str | None = Field(description="`CRDT` we receive the cash, `DBIT` we pay.")
    currency: str
    securities_account: str
    cash_account: str
    counterparty_lei: str
    counterparty_ssi: CounterpartySsiOut | None
    intended_settlement_date: date
    priority: int
    partial_allowed: bool
    status: InstructionStatus
    repair_reasons: list[RepairReasonOut]
    settled_quantity: DecimalStr
    settled_amount: DecimalStr
    fail_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
