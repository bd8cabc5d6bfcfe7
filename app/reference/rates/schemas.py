"""API models of CSDR penalty rates."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.core.identifiers import validate_currency
from app.core.money import DecimalStr
from app.reference.fields import FROM_ORM
from app.reference.instruments.schemas import CsdrClass

_CASH_RATE = re.compile(r"^cash:([A-Z]{3})$")


def _penalty_key(value: str) -> str:
    match = _CASH_RATE.match(value)
    if match:
        validate_currency(match.group(1))
        return value
    if value not in {member.value for member in CsdrClass}:
        classes = ", ".join(member.value for member in CsdrClass)
        raise ValueError(f"is one of {classes}, or cash:<currency>")
    return value


class PenaltyRateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"csdr_class": "liquid_share", "rate": "0.0001", "effective_from": "2026-01-01"}
            ]
        },
    )
    csdr_class: Annotated[str, AfterValidator(_penalty_key)] = Field(
        examples=["liquid_share", "cash:EUR"],
        description="An instrument class, or `cash:<currency>` for the lack-of-cash rate.",
    )
    rate: DecimalStr = Field(
        examples=["0.0001"],
        description="Per business day of fail: a fraction (1 bp = 0.0001); cash: annual rate.",
    )
    effective_from: date

    @field_validator("rate")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class PenaltyRateOut(PenaltyRateIn):
    model_config = FROM_ORM
    id: str
    csdr_class: str
    created_at: datetime
