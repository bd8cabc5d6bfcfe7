"""API models of buy-in extension periods."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.json_types import JsonInt
from app.core.moments import IsoDate
from app.reference.buy_in_periods.periods import DEFAULT
from app.reference.fields import FROM_ORM
from app.reference.instruments.schemas import CsdrClass


def _class_or_default(value: str) -> str:
    if value != DEFAULT and value not in {member.value for member in CsdrClass}:
        classes = ", ".join(member.value for member in CsdrClass)
        raise ValueError(f"is one of {classes}, or {DEFAULT}")
    return value


class ExtensionPeriodIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"csdr_class": "illiquid_share", "business_days": 7, "effective_from": "2027-01-01"}
            ]
        },
    )
    csdr_class: Annotated[str, AfterValidator(_class_or_default)] = Field(
        examples=["illiquid_share", "default"],
        description="An instrument class, or `default` for every class without its own.",
    )
    business_days: JsonInt = Field(
        ge=0, le=60, description="Business days after the intended settlement date."
    )
    effective_from: IsoDate = Field(
        description="From this intended settlement date on; earlier ones keep the period before it."
    )


class ExtensionPeriodOut(ExtensionPeriodIn):
    model_config = FROM_ORM
    id: str
    csdr_class: str
    created_at: datetime
