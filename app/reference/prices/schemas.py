"""API models of closing prices."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, field_validator

from app.core.identifiers import Isin
from app.core.money import DecimalStr
from app.reference.fields import FROM_ORM


class PriceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"isin": "US46625H1005", "date": "2026-11-24", "price": "312.40"}]
        },
    )
    isin: Isin
    date: date
    price: DecimalStr

    @field_validator("price")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be positive")
        return value


class PriceOut(BaseModel):
    model_config = FROM_ORM
    isin: str
    date: date
    price: DecimalStr
    created_at: datetime
