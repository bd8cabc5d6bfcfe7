"""API models of adjustments."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.moments import IsoDate
from app.core.money import DecimalStr
from app.core.text import PRINTABLE_PATTERN, PrintableStr
from app.positions.adjustments.states import AdjustmentStatus
from app.positions.journal.schemas import PostingOut


class AdjustmentKind(StrEnum):
    OPENING = "opening"
    CORRECTION = "correction"
    WRITE_OFF = "write_off"


# Looked up in the database: no control characters (PostgreSQL refuses NUL with a 500).
AccountRef = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE_PATTERN)
]
AssetRef = Annotated[str, StringConstraints(min_length=3, max_length=12, pattern=PRINTABLE_PATTERN)]


class AdjustmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: AccountRef = Field(
        description="One of our accounts (`SEC-DTC`, `CASH-EUR`) or a ledger account code "
        "(`book:EQ-FLOW`, `counterparty:<LEI>`, `suspense`, ...)."
    )
    asset: AssetRef = Field(description="An ISIN or an ISO 4217 currency.")
    amount: DecimalStr = Field(
        description="Signed, debit positive: +100 on a safekeeping account is 100 more held "
        "there; a book's long position is a credit (-100 for a long of 100)."
    )
    cost: DecimalStr | None = Field(
        default=None,
        description="Only on a book's securities line, and required there: the cost basis the "
        "line brings, in the instrument's currency.",
    )


_EXAMPLE: dict[str, Any] = {
    "kind": "opening",
    "reason": "Opening inventory migrated from the legacy stock record",
    "lines": [
        {"account": "SEC-EB", "asset": "DE0001102614", "amount": "5000000"},
        {"account": "CASH-EUR", "asset": "EUR", "amount": "25000000.00"},
    ],
}


class AdjustmentIn(BaseModel):
    """A manual entry, posted only when a second operations key approves it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    kind: AdjustmentKind = Field(
        description="`opening` lines are offset per asset against `opening-equity`; "
        "`correction` and `write_off` lines must balance per asset themselves."
    )
    reason: Annotated[PrintableStr, StringConstraints(min_length=1, max_length=500)]
    value_date: IsoDate | None = Field(
        default=None, description="Defaults to today; a past date still counts from today."
    )
    lines: list[AdjustmentLineIn] = Field(min_length=1, max_length=500)


class AdjustmentLineOut(BaseModel):
    account: str
    asset: str
    amount: DecimalStr
    cost: DecimalStr | None = None


class AdjustmentOut(BaseModel):
    id: str
    kind: AdjustmentKind
    status: AdjustmentStatus
    reason: str
    value_date: date
    lines: list[AdjustmentLineOut] = Field(description="As proposed.")
    postings: list[PostingOut] = Field(description="What approval posts, offsets included.")
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    rejection_reason: str | None
    entry_id: str | None
    version: int


class RejectIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Wrong book: the break belongs to FI-RATES"}]},
    )

    reason: Annotated[PrintableStr, StringConstraints(min_length=1, max_length=500)]
