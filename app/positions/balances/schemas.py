"""API models of positions and cash balances."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.money import DecimalStr


class Basis(StrEnum):
    TRADE_DATE = "trade_date"
    SETTLEMENT_DATE = "settlement_date"


class PositionOut(BaseModel):
    basis: Basis
    ledger_account: str
    book: str | None = Field(description="Trade-date basis: the book.")
    account: str | None = Field(description="Settlement-date basis: the safekeeping account.")
    isin: str
    quantity: DecimalStr = Field(description="Negative when short.")
    pending: DecimalStr | None = Field(
        description="Settlement-date basis: expected deliveries (+) and receipts not yet settled."
    )
    currency: str | None = Field(description="The instrument's currency.")
    average_cost: DecimalStr | None = Field(
        description="Trade-date basis: weighted average price, in the instrument's price terms "
        "(percent of nominal for bonds); null when flat."
    )
    cost: DecimalStr | None = Field(
        description="Trade-date basis: the cost basis (negative for a short: what it brought in)."
    )
    realized_pnl: DecimalStr | None = Field(description="Trade-date basis: realised on sells.")
    as_of: date = Field(description="The effective day of the answer.")
    known_at: datetime | None = Field(description="The booking moment the answer is for, if any.")


class CashBalanceOut(BaseModel):
    ledger_account: str
    account: str
    currency: str
    settled: DecimalStr
    pending: DecimalStr = Field(description="Expected movements not yet settled or voided.")
    projected: DecimalStr = Field(description="Settled plus pending.")
    as_of: date = Field(description="The effective day of the answer.")
    known_at: datetime | None = Field(description="The booking moment the answer is for, if any.")
