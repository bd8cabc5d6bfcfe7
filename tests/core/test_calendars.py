"""Business days: financial calendars of the holidays package, their unions, closed days."""

from datetime import date, timedelta

import pytest

from app.core import calendars
from app.core.calendars import (
    MAX_SPAN_DAYS,
    BusinessCalendar,
    supported_calendars,
    validate_calendar_code,
)

NYSE = BusinessCalendar(["XNYS"])
US_SETTLEMENT = BusinessCalendar(["XNYS", "FED"])
TARGET = BusinessCalendar(["XECB"])


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("day", "nyse_open", "us_settlement_open", "name"),
    [
        ("2026-11-25", True, True, None),  # the Wednesday before Thanksgiving
        ("2026-11-26", False, False, "Thanksgiving Day"),
        ("2026-11-27", True, True, None),
        ("2026-10-12", True, False, "Columbus Day"),  # Fed closed, NYSE trades
        ("2026-11-11", True, False, "Veterans Day"),  # Fed closed, NYSE trades
        ("2026-12-25", False, False, "Christmas Day"),
        ("2026-11-28", False, False, None),  # Saturday
        ("2026-11-29", False, False, None),  # Sunday
    ],
)
def test_us_settlement_is_the_union_of_nyse_and_federal_reserve_holidays(
    day: str, nyse_open: bool, us_settlement_open: bool, name: str | None
) -> None:
    assert NYSE.is_business_day(d(day)) is nyse_open
    assert US_SETTLEMENT.is_business_day(d(day)) is us_settlement_open
    assert US_SETTLEMENT.holiday_name(d(day)) == name


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2026-04-03", "Good Friday"),
        ("2026-04-06", "Easter Monday"),
        ("2026-05-01", "Labour Day"),
        ("2026-12-25", "Christmas Day"),
        ("2026-12-26", "Christmas Holiday"),  # a Saturday in 2026, closed either way
        ("2025-12-26", "Christmas Holiday"),  # a Friday in 2025
        ("2027-01-01", "New Year's Day"),
        ("2027-03-26", "Good Friday"),
        ("2027-03-29", "Easter Monday"),
    ],
)
def test_target2_closing_days(day: str, name: str) -> None:
    assert TARGET.is_business_day(d(day)) is False
    assert TARGET.holiday_name(d(day)) == name


@pytest.mark.parametrize("day", ["2026-12-24", "2026-12-28", "2026-12-31", "2027-01-04"])
def test_target2_is_open_around_christmas_on_weekdays_that_are_not_holidays(day: str) -> None:
    assert TARGET.is_business_day(d(day)) is True
    assert TARGET.holiday_name(d(day)) is None


@pytest.mark.parametrize(
    ("calendar", "start", "count", "expected"),
    [
        (US_SETTLEMENT, "2026-11-25", 0, "2026-11-25"),
        (US_SETTLEMENT, "2026-11-25", 1, "2026-11-27"),  # across Thanksgiving
        (US_SETTLEMENT, "2026-11-24", 2, "2026-11-27"),
        (US_SETTLEMENT, "2026-11-20", 1, "2026-11-23"),  # Friday -> Monday
        (US_SETTLEMENT, "2026-11-27", 1, "2026-11-30"),  # across the weekend
        (US_SETTLEMENT, "2026-11-28", 1, "2026-11-30"),  # from a Saturday
        (US_SETTLEMENT, "2026-10-09", 1, "2026-10-13"),  # weekend and Columbus Day
        (NYSE, "2026-10-09", 1, "2026-10-12"),  # NYSE trades on Columbus Day
        (US_SETTLEMENT, "2026-11-10", 1, "2026-11-12"),  # across Veterans Day
        (NYSE, "2026-11-10", 1, "2026-11-11"),
        (TARGET, "2026-12-23", 2, "2026-12-28"),  # 24th, then Christmas and the weekend
        (TARGET, "2026-12-31", 1, "2027-01-04"),  # New Year and the weekend
        (TARGET, "2026-04-02", 1, "2026-04-07"),  # Good Friday to Easter Monday
        (US_SETTLEMENT, "2026-11-25", 5, "2026-12-03"),
    ],
)
def test_add_business_days(
    calendar: BusinessCalendar, start: str, count: int, expected: str
) -> None:
    assert calendar.add_business_days(d(start), count) == d(expected)


def test_add_business_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match=r"^count must not be negative$"):
        US_SETTLEMENT.add_business_days(d("2026-11-25"), -1)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-11-25", "2026-11-25"),
        ("2026-11-26", "2026-11-27"),
        ("2026-11-28", "2026-11-30"),
        ("2026-10-10", "2026-10-13"),
    ],
)
def test_next_business_day_is_the_day_itself_or_the_first_open_one(
    start: str, expected: str
) -> None:
    assert US_SETTLEMENT.next_business_day(d(start)) == d(expected)


def test_closed_days_as_data_close_a_calendar_day() -> None:
    storm = d("2026-11-24")
    calendar = BusinessCalendar(["XNYS", "FED"], closed_days=[storm])
    assert US_SETTLEMENT.is_business_day(storm) is True
    assert calendar.is_business_day(storm) is False
    assert calendar.holiday_name(storm) == "closed (added as data)"
    assert calendar.add_business_days(d("2026-11-23"), 1) == d("2026-11-25")
    assert calendar.add_business_days(d("2026-11-23"), 2) == d("2026-11-27")
    assert calendar.business_days_after(d("2026-11-20"), d("2026-11-30")) == 4


def test_a_calendar_holiday_keeps_its_own_name_when_also_closed_as_data() -> None:
    thanksgiving = d("2026-11-26")
    calendar = BusinessCalendar(["XNYS"], closed_days=[thanksgiving])
    assert calendar.holiday_name(thanksgiving) == "Thanksgiving Day"


def test_business_days_lists_the_open_days_of_a_range_inclusive() -> None:
    days = list(US_SETTLEMENT.business_days(d("2026-11-20"), d("2026-12-01")))
    assert days == [
        d("2026-11-20"),
        d("2026-11-23"),
        d("2026-11-24"),
        d("2026-11-25"),
        d("2026-11-27"),
        d("2026-11-30"),
        d("2026-12-01"),
    ]
    assert list(US_SETTLEMENT.business_days(d("2026-11-26"), d("2026-11-26"))) == []
    assert list(US_SETTLEMENT.business_days(d("2026-11-27"), d("2026-11-20"))) == []


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-20", "2026-11-30", 5),  # 23, 24, 25, 27, 30
        ("2026-11-25", "2026-11-27", 1),  # Thanksgiving does not age a fail
        ("2026-11-25", "2026-11-26", 0),
        ("2026-11-25", "2026-11-25", 0),
        ("2026-11-27", "2026-11-25", 0),  # end before start
        ("2026-11-26", "2026-11-27", 1),  # the end counts, the start does not
        ("2026-10-09", "2026-10-16", 4),  # Columbus Day is not a settlement day
    ],
)
def test_business_days_after_counts_the_half_open_interval(
    start: str, end: str, expected: int
) -> None:
    assert US_SETTLEMENT.business_days_after(d(start), d(end)) == expected


def test_business_days_after_on_nyse_alone_counts_columbus_day() -> None:
    assert NYSE.business_days_after(d("2026-10-09"), d("2026-10-16")) == 5


def test_a_range_longer_than_the_span_limit_is_refused() -> None:
    start = d("2020-01-01")
    at_limit = start + timedelta(days=MAX_SPAN_DAYS)
    assert MAX_SPAN_DAYS == 3660
    assert len(list(NYSE.business_days(start, at_limit))) > 2400
    with pytest.raises(ValueError, match=r"^a range is at most 3660 days$"):
        list(NYSE.business_days(start, at_limit + timedelta(days=1)))
    with pytest.raises(ValueError, match=r"^a range is at most 3660 days$"):
        NYSE.business_days_after(start - timedelta(days=1), at_limit + timedelta(days=1))


@pytest.mark.parametrize("codes", [["NOPE"], ["XNYS", "nyse!"], ["xnys"]])
def test_an_unknown_calendar_code_is_refused(codes: list[str]) -> None:
    with pytest.raises(ValueError, match="is not a financial calendar of the holidays package"):
        BusinessCalendar(codes)


def test_a_calendar_needs_at_least_one_code() -> None:
    with pytest.raises(ValueError, match=r"^a business calendar needs at least one calendar code$"):
        BusinessCalendar([])


def test_validate_calendar_code_returns_known_codes_unchanged() -> None:
    assert validate_calendar_code("XNYS") == "XNYS"
    assert validate_calendar_code("FED") == "FED"
    assert {"XNYS", "FED", "XECB", "XPAR", "XETR"} <= supported_calendars()
    with pytest.raises(ValueError, match=r"^'ZZZZ' is not a financial calendar"):
        validate_calendar_code("ZZZZ")


def test_calendar_keeps_its_codes_and_closed_days() -> None:
    calendar = BusinessCalendar(["XNYS", "FED"], closed_days=[d("2026-11-24"), d("2026-11-24")])
    assert calendar.codes == ("XNYS", "FED")
    assert calendar.closed_days == frozenset({d("2026-11-24")})


def test_a_calendar_remembers_a_bounded_number_of_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendars, "_REMEMBERED_DAYS", 10)
    calendar = BusinessCalendar(["XNYS"])
    days = [d("2026-11-01") + timedelta(days=n) for n in range(40)]
    answers = [calendar.is_business_day(day) for day in days]

    assert len(calendar._business_days) <= 10
    # Forgetting changes no answer.
    assert [calendar.is_business_day(day) for day in days] == answers
    assert answers[25] is False  # 2026-11-26, Thanksgiving
    assert answers.count(True) == 28  # 29 weekdays, less Thanksgiving
