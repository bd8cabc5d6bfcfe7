"""API models of books."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.reference.fields import FROM_ORM, STRICT, Code, Name


class BookIn(BaseModel):
    model_config = STRICT
    code: Code = Field(examples=["EQ-FLOW"])
    name: Name


class BookPatch(BaseModel):
    model_config = STRICT
    name: Name | None = None


class BookOut(BaseModel):
    model_config = FROM_ORM
    code: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
