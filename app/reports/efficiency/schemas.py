"""What the settlement efficiency report answers (shares as 4-place decimals, null when
nothing was due)."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.money import DecimalStr


class ValueOut(BaseModel):
    currency: str
    due: DecimalStr
    settled_on_time: DecimalStr
    rate: DecimalStr | None = Field(description="Value settled on time / value due.")


class GroupOut(BaseModel):
    due: int = Field(description="Instructions due (not cancelled).")
    settled_on_time: int = Field(description="Fully settled on their intended date.")
    rate_by_count: DecimalStr | None = Field(
        description="settled_on_time / due, 4 places; null when nothing was due."
    )
    values: list[ValueOut] = Field(description="By cash value, per currency.")


class DayOut(GroupOut):
    date: date


class MarketOut(GroupOut):
    market: str = Field(description="MIC of the instrument's market.")


class CounterpartyOut(GroupOut):
    counterparty_lei: str


class EfficiencyOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_date: date = Field(alias="from")
    to: date
    total: GroupOut
    by_day: list[DayOut] = Field(description="Every TARGET business day in range, oldest first.")
    by_market: list[MarketOut]
    by_counterparty: list[CounterpartyOut]
