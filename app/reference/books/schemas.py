"""API models of books."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.reference.fields import FROM_ORM, Code, Name


class BookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "FI-RATES", "name": "Rates / government bonds"}]},
    )
    code: Code = Field(examples=["EQ-FLOW"])
    name: Name


class BookPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Rates: government and supranational bonds"}]},
    )
    name: Name | None = None


class BookOut(BaseModel):
    model_config = FROM_ORM
    code: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
