"""The settlement exposure report over HTTP."""

from datetime import date

from pydantic import BaseModel, Field

from app.core.money import DecimalStr

CSV_COLUMNS = (
    "counterparty_lei",
    "currency",
    "unsettled_trades",
    "unpriced_trades",
    "replacement_cost",
    "failing_instructions",
    "unpriced_instructions",
    "principal_at_risk",
    "missing_prices",
)


class CounterpartyExposureOut(BaseModel):
    counterparty_lei: str
    currency: str
    unsettled_trades: int = Field(description="Trades neither settled nor cancelled.")
    unpriced_trades: int = Field(description="Of those, trades with no price to mark them.")
    replacement_cost: DecimalStr = Field(
        description="Sum over the priced trades: purchases (mark - price) x quantity, sales "
        "(price - mark) x quantity, each when positive (bonds: / 100)."
    )
    failing_instructions: int
    unpriced_instructions: int = Field(
        description="Failing free deliveries with securities out and no price to value them."
    )
    principal_at_risk: DecimalStr = Field(
        description="Value of legs already given on failing instructions: settled quantity x "
        "mark of free deliveries (DFP) still open; zero for DVP/RVP (legs move together)."
    )
    missing_prices: list[str] = Field(description="ISINs with no price on or before as_of.")


class MarkOut(BaseModel):
    isin: str
    date: date
    price: DecimalStr


class ExposureReportOut(BaseModel):
    as_of: date
    counterparties: list[CounterpartyExposureOut]
    missing_prices: list[str] = Field(
        description="Every ISIN that could not be marked: reported, never valued at zero."
    )
    marks: list[MarkOut] = Field(description="The prices used: the latest on or before as_of.")
