"""API models of counterparties."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.core.identifiers import Bic, Lei
from app.reference.fields import FROM_ORM, Name
from app.reference.partial import PartialIndicator


class Netting(StrEnum):
    NONE = "none"
    BILATERAL = "bilateral"


_PARTIAL_SETTLEMENT = (
    "The partial indicator (`NPAR`, `PART`, `PARQ`, `PARC`) instructions with this "
    "counterparty get; null: their market's `partial_settlement`."
)


class CounterpartyFields(BaseModel):
    name: Name
    bic: Bic | None = None
    netting: Netting = Netting.NONE
    partial_settlement: PartialIndicator | None = Field(
        default=None, description=_PARTIAL_SETTLEMENT
    )


class CounterpartyIn(CounterpartyFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "lei": "O2RNE8IBXP4R0TD8PU41",
                    "name": "Société Générale SA",
                    "bic": "SOGEFRPP",
                    "netting": "none",
                    "partial_settlement": "PARC",
                }
            ]
        },
    )
    lei: Lei


class CounterpartyPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"netting": "bilateral"}]}
    )
    name: Name | None = None
    bic: Bic | None = None
    netting: Netting | None = None
    partial_settlement: PartialIndicator | None = Field(
        default=None, description=_PARTIAL_SETTLEMENT
    )


class CounterpartyOut(CounterpartyFields):
    model_config = FROM_ORM
    lei: str
    version: int
    created_at: datetime
    updated_at: datetime
