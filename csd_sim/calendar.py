"""The simulator's business days: Monday to Friday, less the scenario's holidays."""

from collections.abc import Collection
from datetime import date, timedelta


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(day: date, days: int, holidays: Collection[date]) -> date:
    """The business day ``days`` business days after ``day`` (``day`` itself for 0)."""
    moved = day
    for _ in range(days):
        moved += timedelta(days=1)
        while not is_business_day(moved, holidays):
            moved += timedelta(days=1)
    return moved
