"""API models for settlement instructions."""

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from app.core.money import DecimalStr
from app.settlement.states import DeliveryType, InstructionStatus


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable instant
        raise ValueError("is out of range once converted to UTC") from None


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A timestamp with an offset, kept in UTC (as ``app.trades.schemas.UtcDateTime``)."""


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
