"""Ageing buckets as ranges of the day a break counts from. Pure: no database.

The age of a break is the number of business days in (since, today] (``matching.ageing``). It
never grows as ``since`` moves later, so each bucket is one range of ``since`` days: filtering
by bucket is a date range per calendar, and a page of breaks stays a plain keyset page."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from app.reconciliation.matching.ageing import AgeingBucket

# (fewest, most) business days of each bucket; None: no upper bound.
BUCKET_DAYS: dict[AgeingBucket, tuple[int, int | None]] = {
    AgeingBucket.UP_TO_1: (0, 1),
    AgeingBucket.FROM_2_TO_5: (2, 5),
    AgeingBucket.FROM_6_TO_30: (6, 30),
    AgeingBucket.OVER_30: (31, None),
}

# Beyond any run of closed days a real calendar has (31 business days and their holidays).
_SEARCH_DAYS = 400


@dataclass(frozen=True, slots=True)
class SinceRange:
    earliest: date | None  # inclusive; None: unbounded
    latest: date | None  # inclusive; None: unbounded


def _business_day_back(today: date, count: int, is_business_day: Callable[[date], bool]) -> date:
    """The ``count``-th business day on or before ``today`` (count >= 1)."""
    day = today
    for _ in range(_SEARCH_DAYS):
        if is_business_day(day):
            count -= 1
            if count == 0:
                return day
        day -= timedelta(days=1)
    raise ValueError(f"no {count} business days in the {_SEARCH_DAYS} days before {today}")


def since_range(
    bucket: AgeingBucket, today: date, is_business_day: Callable[[date], bool]
) -> SinceRange:
    """The ``since`` days whose age today falls in ``bucket``.

    An age of at most ``n`` days means ``since`` is on or after the (n+1)-th business day back
    from today; an age of at least ``m`` days (m >= 1) means ``since`` is before the m-th."""
    fewest, most = BUCKET_DAYS[bucket]
    earliest = None if most is None else _business_day_back(today, most + 1, is_business_day)
    latest = (
        None
        if fewest == 0
        else _business_day_back(today, fewest, is_business_day) - timedelta(days=1)
    )
    return SinceRange(earliest, latest)
