"""A break's age is the business days after the day it counts from, up to and including today;
weekends and holidays add nothing. Buckets: "0-1", "2-5", "6-30", "over_30"."""

from datetime import date

import pytest

from app.core.calendars import BusinessCalendar
from app.reconciliation.matching import AgeingBucket, ageing
from app.reconciliation.matching.ageing import bucket_of

TARGET = BusinessCalendar(["XECB"]).is_business_day  # euro settlement: TARGET holidays


def weekdays(day: date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(
    ("since", "today", "expected"),
    [
        (date(2026, 12, 7), date(2026, 12, 7), (0, "0-1")),  # today
        (date(2026, 12, 8), date(2026, 12, 7), (0, "0-1")),  # from a day still to come
        (date(2026, 12, 4), date(2026, 12, 7), (1, "0-1")),  # Friday to Monday
        (date(2026, 12, 5), date(2026, 12, 7), (1, "0-1")),  # Saturday to Monday
        (date(2026, 12, 4), date(2026, 12, 8), (2, "2-5")),  # Friday to Tuesday
        (date(2026, 11, 30), date(2026, 12, 7), (5, "2-5")),  # Monday to Monday
        (date(2026, 11, 30), date(2026, 12, 8), (6, "6-30")),
        # Good Friday (3 April) and Easter Monday (6 April) 2026: Thursday to Tuesday is 1 day.
        (date(2026, 4, 2), date(2026, 4, 7), (1, "0-1")),
        # Christmas Day (Friday 25 December) and New Year's Day (Friday 1 January 2027).
        (date(2026, 12, 24), date(2026, 12, 28), (1, "0-1")),
        (date(2026, 12, 24), date(2027, 1, 4), (5, "2-5")),
        (date(2026, 4, 30), date(2026, 5, 4), (1, "0-1")),  # Labour Day, Friday 1 May
    ],
)
def test_age_in_target_business_days(since: date, today: date, expected: tuple[int, str]) -> None:
    assert ageing(since, today, TARGET) == expected


def test_thirty_business_days_is_the_last_day_of_6_30() -> None:
    since = date(2026, 6, 1)  # a Monday; six weeks of weekdays later is 30 business days
    assert ageing(since, date(2026, 7, 13), weekdays) == (30, AgeingBucket.FROM_6_TO_30)
    assert ageing(since, date(2026, 7, 14), weekdays) == (31, AgeingBucket.OVER_30)


def test_a_calendar_of_every_day_counts_calendar_days() -> None:
    assert ageing(date(2026, 1, 1), date(2026, 12, 31), lambda _day: True) == (364, "over_30")


@pytest.mark.parametrize(
    ("age", "bucket"),
    [(0, "0-1"), (1, "0-1"), (2, "2-5"), (5, "2-5"), (6, "6-30"), (30, "6-30"), (31, "over_30")],
)
def test_bucket_edges(age: int, bucket: str) -> None:
    assert bucket_of(age) == bucket
