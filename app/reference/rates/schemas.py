"""API models of CSDR penalty rates."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from app.core.identifiers import CURRENCIES_WITH_MINOR_UNITS, validate_currency
from app.core.moments import IsoDate
from app.core.money import NonNegativeDecimalStr
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


# The same rule as a pattern: an instrument class, or cash: and an ISO 4217 code.
_PENALTY_KEY_PATTERN = (
    f"^({'|'.join(member.value for member in CsdrClass)}"
    f"|cash:({'|'.join(CURRENCIES_WITH_MINOR_UNITS)}))$"
)
PenaltyKey = Annotated[
    str,
    AfterValidator(_penalty_key),
    WithJsonSchema({"type": "string", "pattern": _PENALTY_KEY_PATTERN}),
]


class PenaltyRateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"csdr_class": "liquid_share", "rate": "0.0001", "effective_from": "2026-01-01"}
            ]
        },
    )
    csdr_class: PenaltyKey = Field(
        examples=["liquid_share", "cash:EUR"],
        description="An instrument class, or `cash:<currency>` for the lack-of-cash rate.",
    )
    rate: NonNegativeDecimalStr = Field(
        examples=["0.0001"],
        description="Per business day of fail: a fraction (1 bp = 0.0001); cash: annual rate.",
    )
    effective_from: IsoDate


class PenaltyRateOut(PenaltyRateIn):
    model_config = FROM_ORM
    id: str
    csdr_class: str
    created_at: datetime
