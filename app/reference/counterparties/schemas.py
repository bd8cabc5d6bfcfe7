"""API models of counterparties."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from app.core.identifiers import Bic, Lei
from app.reference.fields import FROM_ORM, STRICT, Name


class Netting(StrEnum):
    NONE = "none"
    BILATERAL = "bilateral"


class CounterpartyFields(BaseModel):
    name: Name
    bic: Bic | None = None
    netting: Netting = Netting.NONE


class CounterpartyIn(CounterpartyFields):
    model_config = STRICT
    lei: Lei


class CounterpartyPatch(BaseModel):
    model_config = STRICT
    name: Name | None = None
    bic: Bic | None = None
    netting: Netting | None = None


class CounterpartyOut(CounterpartyFields):
    model_config = FROM_ORM
    lei: str
    version: int
    created_at: datetime
    updated_at: datetime
