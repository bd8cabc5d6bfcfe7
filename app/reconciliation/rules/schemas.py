"""API models of reconciliation rules. The bounds keep a run's work bounded: at most 10 items
in a group, 60 candidates searched and 10,000,000 search nodes per item, 31 days apart."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from app.core.identifiers import Currency
from app.core.json_types import JsonInt
from app.core.money import NonNegativeDecimalStr
from app.core.text import Printable
from app.reconciliation.matching.values import RuleKind

Allowance = NonNegativeDecimalStr
RuleName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
Description = Annotated[str, StringConstraints(max_length=500), Printable]


class RuleFields(BaseModel):
    description: Description = Field(default="", examples=["Our end-to-end id, same day, exact"])
    priority: JsonInt = Field(
        ge=0, le=1_000_000, examples=[10], description="Lower first; equal ones by name."
    )
    kind: RuleKind = Field(
        description="`exact_reference`: a shared reference; `amount_date_counterparty`: the "
        "one line and the one movement that fit each other and nothing else; `one_to_many`: "
        "one statement line for the sum of several book movements; `many_to_one`: the mirror."
    )
    enabled: StrictBool = True
    amount_tolerance: dict[Currency, Allowance] = Field(
        default_factory=dict,
        examples=[{"EUR": "0.01", "USD": "0.01"}],
        description="Amount difference allowed per currency: exactly at it matches.",
    )
    default_amount_tolerance: Allowance = Field(
        default=Decimal(0), examples=["0"], description="For currencies not listed."
    )
    value_date_days: JsonInt = Field(
        default=0, ge=0, le=31, description="Calendar days value dates may lie apart."
    )
    counterparty_must_agree: StrictBool = Field(
        default=False,
        description="Both sides name the same counterparty (case, spaces, punctuation aside).",
    )
    max_group_size: JsonInt = Field(default=5, ge=2, le=10, description="Group kinds: most items.")
    max_candidates: JsonInt = Field(
        default=30,
        ge=2,
        le=60,
        description="More candidates than this: noted, not searched (and a reference that "
        "more items share is not followed).",
    )
    search_budget: JsonInt = Field(
        default=100_000, ge=1, le=10_000_000, description="Group kinds: nodes searched per item."
    )


class RuleIn(RuleFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "amount-date-counterparty",
                    "description": "Amount within a cent, value date within a day",
                    "priority": 20,
                    "kind": "amount_date_counterparty",
                    "enabled": True,
                    "amount_tolerance": {"EUR": "0.01", "USD": "0.01"},
                    "default_amount_tolerance": "0",
                    "value_date_days": 1,
                    "counterparty_must_agree": True,
                }
            ]
        },
    )
    name: RuleName = Field(examples=["exact-reference"])


class RuleReplacement(RuleFields):
    """The whole rule but its name: what is left out takes its default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "description": "Same amount within a cent, value date within two days",
                    "priority": 20,
                    "kind": "amount_date_counterparty",
                    "enabled": True,
                    "amount_tolerance": {"EUR": "0.01", "USD": "0.01"},
                    "default_amount_tolerance": "0",
                    "value_date_days": 2,
                    "counterparty_must_agree": True,
                }
            ]
        },
    )


class RuleOut(RuleFields):
    model_config = ConfigDict(from_attributes=True)
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
