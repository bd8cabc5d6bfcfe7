"""Business days from the ``holidays`` package's financial calendars plus closed days kept as data.

A settlement calendar can be the union of several (US securities settle at DTC, closed on
Federal Reserve holidays even when NYSE trades: ``["XNYS", "FED"]``).
"""

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

import holidays

MAX_SPAN_DAYS = 3660
# The days one calendar remembers; then it starts afresh. A calendar lives as long as the
# reference data it was made from, and clients name what days they like.
_REMEMBERED_DAYS = 20_000


@cache
def supported_calendars() -> frozenset[str]:
    return frozenset(holidays.list_supported_financial())


@cache
def _holiday_calendar(code: str) -> Any:
    return holidays.financial_holidays(code)


def validate_calendar_code(code: str) -> str:
    if code not in supported_calendars():
        raise ValueError(f"'{code}' is not a financial calendar of the holidays package")
    return code


class BusinessCalendar:
    def __init__(self, codes: Sequence[str], closed_days: Iterable[date] = ()) -> None:
        if not codes:
            raise ValueError("a business calendar needs at least one calendar code")
        self.codes = tuple(validate_calendar_code(code) for code in codes)
        self.closed_days = frozenset(closed_days)
        self._calendars = [_holiday_calendar(code) for code in self.codes]
        # A batch of trades asks about the same few days thousands of times; the holidays
        # package's lookup is slow enough to show in a batch's profile.
        self._business_days: dict[date, bool] = {}

    def is_business_day(self, day: date) -> bool:
        known = self._business_days.get(day)
        if known is None:
            if len(self._business_days) >= _REMEMBERED_DAYS:
                self._business_days.clear()
            known = self._business_days[day] = not (
                day.weekday() >= 5
                or day in self.closed_days
                or any(day in calendar for calendar in self._calendars)
            )
        return known

    def holiday_name(self, day: date) -> str | None:
        for calendar in self._calendars:
            name = calendar.get(day)
            if name:
                return str(name)
        return "closed (added as data)" if day in self.closed_days else None

    def add_business_days(self, day: date, count: int) -> date:
        """``count`` business days after ``day`` (which itself need not be one)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        while count:
            current += timedelta(days=1)
            if self.is_business_day(current):
                count -= 1
        return current

    def next_business_day(self, day: date) -> date:
        """``day`` itself when it is a business day, else the first one after it."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def business_days(self, start: date, end: date) -> Iterator[date]:
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValueError(f"a range is at most {MAX_SPAN_DAYS} days")
        day = start
        while day <= end:
            if self.is_business_day(day):
                yield day
            day += timedelta(days=1)

    def business_days_after(self, start: date, end: date) -> int:
        """How many business days lie in (start, end]: the days a fail has aged."""
        if end <= start:
            return 0
        return sum(1 for _ in self.business_days(start + timedelta(days=1), end))
