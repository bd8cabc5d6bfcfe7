"""What the breaks report answers: open breaks by age and by account, then each break."""

from datetime import date

from pydantic import BaseModel, Field

from app.core.money import DecimalStr
from app.reconciliation.breaks.schemas import BreakOut
from app.reconciliation.matching.ageing import AgeingBucket


class AmountOut(BaseModel):
    currency: str
    amount: DecimalStr


class BucketOut(BaseModel):
    bucket: AgeingBucket
    count: int
    amounts: list[AmountOut]


class AccountOut(BaseModel):
    account: str
    count: int
    amounts: list[AmountOut]


class BreaksReportOut(BaseModel):
    as_of: date = Field(description="The day ages count to.")
    open: int = Field(description="Open breaks.")
    by_age: list[BucketOut] = Field(description="Every ageing bucket, youngest first.")
    by_account: list[AccountOut]
    items: list[BreakOut] = Field(description="The open breaks, oldest first.")
