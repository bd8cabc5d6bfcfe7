"""API models for matches."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.money import DecimalStr
from app.reconciliation.matches.states import MatchStatus

Id = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class ManualMatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "statement_entry_ids": ["ste_01jdx0r0000000000000000001"],
                    "movement_ids": ["je_01jdx0r0000000000000000002"],
                    "comment": "The bank paid the fee net of the settlement",
                }
            ]
        },
    )

    statement_entry_ids: list[Id] = Field(max_length=500, description="Stored statement entries.")
    movement_ids: list[Id] = Field(max_length=500, description="The book's journal entries.")
    comment: Text | None = None


class UnmatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Wrong payment: the bank confirmed its end-to-end id"}]
        },
    )

    reason: Text


class MatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account: str
    value_date: date
    rule: str = Field(description="The rule that made it, or `manual`.")
    status: MatchStatus
    statement_entry_ids: list[str]
    movement_ids: list[str]
    currency: str
    amount_difference: DecimalStr = Field(description="The lines' sum less the movements'.")
    value_date_difference: int = Field(description="Widest gap in days, bank's date later > 0.")
    run_id: str | None
    comment: str | None
    created_at: datetime
    created_by: str
    unmatched_at: datetime | None
    unmatched_by: str | None
    unmatch_reason: str | None
    version: int
