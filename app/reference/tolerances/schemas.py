"""API models of matching tolerances."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from app.core.identifiers import Currency
from app.core.money import NonNegativeDecimalStr
from app.reference.fields import FROM_ORM

Allowance = NonNegativeDecimalStr


class MatchingToleranceFields(BaseModel):
    price_abs: Allowance = Field(
        default=Decimal(0), examples=["0.01"], description="Deal-price difference allowed."
    )
    net_amount_abs: Allowance | None = Field(
        default=None, examples=["25.00"], description="Settlement-amount difference allowed."
    )
    net_amount_bps: Allowance | None = Field(
        default=None,
        examples=["1"],
        description="Settlement-amount difference allowed, in basis points of our amount. "
        "With both amount allowances, a difference within either matches.",
    )


class MatchingToleranceIn(MatchingToleranceFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "currency": "GBP",
                    "price_abs": "0.0001",
                    "net_amount_abs": "0.05",
                    "net_amount_bps": "0.1",
                }
            ]
        },
    )
    currency: Currency


class MatchingTolerancePatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"net_amount_abs": "0.10"}]}
    )
    price_abs: Allowance | None = None
    net_amount_abs: Allowance | None = None
    net_amount_bps: Allowance | None = None


class MatchingToleranceOut(MatchingToleranceFields):
    model_config = FROM_ORM
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
