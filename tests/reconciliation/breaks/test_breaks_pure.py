"""The pure parts of the workflow: the lifecycle table, the bucket ranges and the write-off
lines."""

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.core.calendars import BusinessCalendar
from app.core.errors import InvalidTransition
from app.core.states import next_state
from app.reconciliation.breaks.buckets import SinceRange, since_range
from app.reconciliation.breaks.calendars import payment_calendar, weekdays
from app.reconciliation.breaks.kinds import (
    NOT_WRITABLE_OFF,
    BreakKind,
    WriteOffLine,
    write_off_lines,
)
from app.reconciliation.breaks.states import BREAK_TRANSITIONS, BreakEvent, BreakStatus
from app.reconciliation.matching.ageing import AgeingBucket, ageing

ALLOWED = [
    ("open", "explained", "explained"),
    ("open", "write_off_proposed", "write_off_proposed"),
    ("write_off_proposed", "write_off_approved", "written_off"),
    ("write_off_proposed", "write_off_rejected", "open"),
    ("open", "matched", "closed"),
    ("explained", "matched", "closed"),
    ("open", "superseded", "closed"),
    ("open", "resolved", "closed"),
    ("closed", "found_again", "open"),
]


def test_the_lifecycle_allows_exactly_these_moves() -> None:
    moves = []
    for status, event in itertools.product(BreakStatus, BreakEvent):
        try:
            moves.append((status.value, event.value, next_state(BREAK_TRANSITIONS, status, event)))
        except InvalidTransition:
            continue
    assert sorted(moves) == sorted((s, e, BreakStatus(t)) for s, e, t in ALLOWED)


USD = BusinessCalendar(["FED"]).is_business_day
TODAY = date(2026, 11, 30)  # a Monday after Thanksgiving


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        (AgeingBucket.UP_TO_1, SinceRange(date(2026, 11, 27), None)),
        (AgeingBucket.FROM_2_TO_5, SinceRange(date(2026, 11, 20), date(2026, 11, 26))),
        (AgeingBucket.FROM_6_TO_30, SinceRange(date(2026, 10, 15), date(2026, 11, 19))),
        (AgeingBucket.OVER_30, SinceRange(None, date(2026, 10, 14))),
    ],
)
def test_each_bucket_is_a_range_of_since_days(bucket: AgeingBucket, expected: SinceRange) -> None:
    assert since_range(bucket, TODAY, USD) == expected


@pytest.mark.parametrize("calendar", [USD, weekdays, payment_calendar("EUR")])
@pytest.mark.parametrize("today", [date(2026, 11, 30), date(2026, 11, 28), date(2026, 12, 28)])
def test_the_range_holds_exactly_the_days_whose_age_is_in_the_bucket(
    calendar: Callable[[date], bool], today: date
) -> None:
    for bucket in AgeingBucket:
        found = since_range(bucket, today, calendar)
        for offset in range(-3, 80):
            since = today - timedelta(days=offset)
            inside = (found.earliest is None or since >= found.earliest) and (
                found.latest is None or since <= found.latest
            )
            assert inside == (ageing(since, today, calendar)[1] is bucket), (bucket, since)


@pytest.mark.parametrize(
    ("kind", "amount", "ours"),
    [
        (BreakKind.MISSING_IN_BOOK, "125.40", "125.40"),
        (BreakKind.AMOUNT_DIFFERENCE, "-0.05", "-0.05"),
        (BreakKind.BALANCE, "10.00", "10.00"),
        (BreakKind.MISSING_AT_BANK, "-80.00", "80.00"),
        (BreakKind.HOLDINGS, "-100", "-100"),
    ],
)
def test_a_write_off_makes_the_book_agree_with_the_outside_world(
    kind: BreakKind, amount: str, ours: str
) -> None:
    assert write_off_lines(kind, account="CASH-USD", asset="USD", amount=Decimal(amount)) == (
        WriteOffLine("CASH-USD", "USD", Decimal(ours)),
        WriteOffLine("write-offs", "USD", -Decimal(ours)),
    )


def test_only_value_date_and_integrity_breaks_cannot_be_written_off() -> None:
    assert set(NOT_WRITABLE_OFF) == {BreakKind.VALUE_DATE_DIFFERENCE, BreakKind.INTEGRITY}


def test_a_currency_without_a_calendar_ages_by_weekdays() -> None:
    assert payment_calendar("NOK") is weekdays
    assert payment_calendar(None) is weekdays
    assert payment_calendar("USD")(date(2026, 11, 26)) is False
    assert payment_calendar("EUR")(date(2026, 11, 26)) is True
