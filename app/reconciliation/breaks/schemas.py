"""API models of breaks."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.money import DecimalStr
from app.core.text import PrintableNonBlank, at_most
from app.reconciliation.breaks.kinds import BreakKind
from app.reconciliation.breaks.states import BreakStatus
from app.reconciliation.matching.ageing import AgeingBucket

# Printable text, surrounding spaces removed, not blank.
Owner = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    at_most(200),
    PrintableNonBlank,
]
CommentText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    at_most(2000),
    PrintableNonBlank,
]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=400),
    at_most(400),
    PrintableNonBlank,
]


class Resolution(StrEnum):
    EXPLAINED = "explained"
    WRITE_OFF = "write_off"


class AssignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"owner": "cash-desk:ana"}]}
    )

    owner: Owner = Field(
        description="Who works the break: a person or a desk.", examples=["cash-desk:ana"]
    )


class CommentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Commerzbank says the credit is a fee refund; awaiting their advice"}
            ]
        },
    )

    text: CommentText


class ResolveIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"resolution": "explained", "note": "Bank fee, booked by the bank in error"},
                {"resolution": "write_off", "note": "Unrecoverable 0.37 EUR rounding"},
            ]
        },
    )

    resolution: Resolution = Field(
        description="`explained` ends the break; `write_off` proposes an adjustment that a "
        "second operations key approves on `/adjustments/{id}/approve`."
    )
    note: Note


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    text: str
    created_at: datetime
    created_by: str


class BreakOut(BaseModel):
    id: str
    kind: BreakKind
    status: BreakStatus
    account: str
    currency: str | None
    isin: str | None
    amount: DecimalStr = Field(description="Signed from our side: the outside world less the book.")
    since: date = Field(description="The day its age counts from.")
    value_date: date = Field(description="The day of the reconciliation that found it.")
    age_days: int = Field(description="Business days in (since, today] on the account's calendar.")
    ageing_bucket: AgeingBucket
    owner: str | None
    detail: str
    statement_id: str | None
    statement_entry_ids: list[str]
    movement_ids: list[str]
    found_by_run: str | None
    resolution: str | None
    resolution_note: str | None
    closed_by: str | None = Field(
        description="What ended it: the write-off's journal entry, or the match that closed it."
    )
    adjustment_id: str | None
    adjustment_status: str | None = Field(
        description="The write-off adjustment's status now: `approved` on a break still "
        "`write_off_proposed` becomes `written_off` at the next action on the account's breaks "
        "or reconciliation run."
    )
    comments: list[CommentOut]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    version: int
