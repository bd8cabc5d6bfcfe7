"""API models of market calendars."""

from datetime import date

from pydantic import BaseModel


class BusinessDaysOut(BaseModel):
    mic: str
    calendars: list[str]
    business_days: list[date]
