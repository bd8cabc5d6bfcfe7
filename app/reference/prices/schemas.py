"""API models of closing prices."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from app.core.identifiers import Isin
from app.core.moments import IsoDate
from app.core.money import PositiveDecimalStr
from app.reference.fields import FROM_ORM


class PriceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"isin": "US46625H1005", "date": "2026-11-24", "price": "312.40"}]
        },
    )
    isin: Isin
    date: IsoDate
    price: PositiveDecimalStr


class PriceOut(BaseModel):
    model_config = FROM_ORM
    isin: str
    date: date
    price: PositiveDecimalStr
    created_at: datetime
