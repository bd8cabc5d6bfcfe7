"""The trade blotter over HTTP."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.money import DecimalStr


class BlotterTradeOut(BaseModel):
    id: str
    external_id: str
    status: str
    book: str
    counterparty_lei: str
    counterparty_of_record: str | None = Field(description="The CCP after novation, else null.")
    isin: str
    side: str
    quantity: DecimalStr
    price: DecimalStr
    currency: str
    gross_amount: DecimalStr
    commission: DecimalStr
    fees: DecimalStr
    accrued_interest: DecimalStr | None
    net_amount: DecimalStr
    trade_date: date
    settlement_date: date
    venue: str


class BlotterOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    items: list[BlotterTradeOut]
