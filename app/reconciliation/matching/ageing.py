"""How old a break is, in business days, and its ageing bucket.

The age is the number of business days after the day the break counts from, up to and including
today: a break from today is 0 days old, one from Friday is 1 day old on Monday (the weekend adds
nothing), and a holiday adds nothing either. The buckets are ``"0-1"``, ``"2-5"``,
``"6-30"`` and ``"over_30"`` business days."""

from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum


class AgeingBucket(StrEnum):
    UP_TO_1 = "0-1"
    FROM_2_TO_5 = "2-5"
    FROM_6_TO_30 = "6-30"
    OVER_30 = "over_30"


_BUCKETS = (
    (1, AgeingBucket.UP_TO_1),
    (5, AgeingBucket.FROM_2_TO_5),
    (30, AgeingBucket.FROM_6_TO_30),
)


def bucket_of(age_days: int) -> AgeingBucket:
    for upper, bucket in _BUCKETS:
        if age_days <= upper:
            return bucket
    return AgeingBucket.OVER_30


def ageing(
    since: date, today: date, is_business_day: Callable[[date], bool]
) -> tuple[int, AgeingBucket]:
    """Business days in (since, today] and their bucket; 0 when ``today`` is not after ``since``."""
    days = (today - since).days
    age = sum(1 for offset in range(1, days + 1) if is_business_day(since + timedelta(offset)))
    return age, bucket_of(age)
