"""Affirmation deadlines, no database; every expected instant is worked out by hand in a comment.

US DST in 2026: clocks spring forward Sun 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z) and fall back
Sun 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z). EU: Sun 2026-03-29 01:00Z (CET +1 -> CEST +2) and
Sun 2026-10-25 01:00Z (CEST +2 -> CET +1).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.trades.confirmations.deadlines import Deadline, affirmation_cutoff, deadline, is_near

NY = "America/New_York"
PARIS = "Europe/Paris"
SECOND = timedelta(seconds=1)
ZERO = timedelta(0)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def us_cutoff(trade_date: date, local_time: str = "21:00") -> datetime:
    return affirmation_cutoff(trade_date=trade_date, local_time=local_time, timezone=NY)


# Ordinary days and the weeks around each change ---------------------------------------------


@pytest.mark.parametrize(
    ("trade_date", "expected"),
    [
        # Tue, EST (UTC-5): 21:00 + 5 h = 26:00 -> 02:00Z the next day.
        (date(2026, 11, 24), utc(2026, 11, 25, 2)),
        # Wed, EDT (UTC-4): 21:00 + 4 h = 25:00 -> 01:00Z the next day.
        (date(2026, 7, 15), utc(2026, 7, 16, 1)),
        # Fri before the spring-forward, still EST: 02:00Z Saturday.
        (date(2026, 3, 6), utc(2026, 3, 7, 2)),
        # The switch day itself: 21:00 is long after 03:00, so EDT: 01:00Z Monday.
        (date(2026, 3, 8), utc(2026, 3, 9, 1)),
        # Mon after the switch, EDT: 01:00Z Tuesday -- an hour earlier in UTC than the Friday.
        (date(2026, 3, 9), utc(2026, 3, 10, 1)),
        # Fri before the fall-back, still EDT: 01:00Z Saturday.
        (date(2026, 10, 30), utc(2026, 10, 31, 1)),
        # The fall-back day itself: 21:00 is after 01:00 EST, so EST: 02:00Z Monday.
        (date(2026, 11, 1), utc(2026, 11, 2, 2)),
        # Mon after the fall-back, EST: 02:00Z Tuesday -- an hour later in UTC than the Friday.
        (date(2026, 11, 2), utc(2026, 11, 3, 2)),
    ],
)
def test_us_equities_cutoff_21_00_new_york(trade_date: date, expected: datetime) -> None:
    cutoff = us_cutoff(trade_date)
    assert cutoff == expected
    assert cutoff.utcoffset() == ZERO


@pytest.mark.parametrize(
    ("trade_date", "expected"),
    [
        # Fri, CET (UTC+1): 19:00 - 1 h = 18:00Z.
        (date(2026, 3, 27), utc(2026, 3, 27, 18)),
        # Sun 2026-03-29, the switch day: by 19:00 it is CEST (UTC+2): 17:00Z.
        (date(2026, 3, 29), utc(2026, 3, 29, 17)),
        # Mon, CEST: 17:00Z.
        (date(2026, 3, 30), utc(2026, 3, 30, 17)),
        # Fri, CEST: 17:00Z.
        (date(2026, 10, 23), utc(2026, 10, 23, 17)),
        # Sun 2026-10-25, the switch day: by 19:00 it is CET (UTC+1): 18:00Z.
        (date(2026, 10, 25), utc(2026, 10, 25, 18)),
        # Mon, CET: 18:00Z.
        (date(2026, 10, 26), utc(2026, 10, 26, 18)),
    ],
)
def test_paris_cutoff_19_00_across_both_changes(trade_date: date, expected: datetime) -> None:
    cutoff = affirmation_cutoff(trade_date=trade_date, local_time="19:00", timezone=PARIS)
    assert cutoff == expected


def test_result_is_in_utc_whatever_the_market() -> None:
    cutoff = affirmation_cutoff(trade_date=date(2026, 7, 15), local_time="15:00", timezone="UTC")
    assert cutoff == utc(2026, 7, 15, 15)
    assert cutoff.tzinfo is UTC


def test_midnight_and_last_minute_of_the_day() -> None:
    # 00:00 EST = 05:00Z the same day; 23:59 EST = 04:59Z the next day.
    assert us_cutoff(date(2026, 11, 24), "00:00") == utc(2026, 11, 24, 5)
    assert us_cutoff(date(2026, 11, 24), "23:59") == utc(2026, 11, 25, 4, 59)


# Nonexistent and ambiguous wall times ----------------------------------------------------------


def test_time_in_spring_forward_gap_resolves_to_first_instant_after_it() -> None:
    # 2026-03-08 New York: 01:59:59 EST is followed by 03:00:00 EDT; 02:30 never happens. The first
    # valid instant after the gap is 03:00 EDT = 03:00 + 4 h = 07:00Z (= 02:00 EST + 5 h).
    assert us_cutoff(date(2026, 3, 8), "02:30") == utc(2026, 3, 8, 7)
    # Every minute of the gap resolves to that same instant, 02:00 (first missing) to 02:59.
    assert us_cutoff(date(2026, 3, 8), "02:00") == utc(2026, 3, 8, 7)
    assert us_cutoff(date(2026, 3, 8), "02:59") == utc(2026, 3, 8, 7)
    # Either side of the gap is ordinary: 01:59 EST = 06:59Z, 03:00 EDT = 07:00Z.
    assert us_cutoff(date(2026, 3, 8), "01:59") == utc(2026, 3, 8, 6, 59)
    assert us_cutoff(date(2026, 3, 8), "03:00") == utc(2026, 3, 8, 7)


def test_time_in_fall_back_overlap_resolves_to_earlier_occurrence() -> None:
    # 2026-11-01 New York: 01:30 happens twice, first in EDT (01:30 + 4 h = 05:30Z), then an hour
    # later in EST (01:30 + 5 h = 06:30Z). The rule takes the earlier: 05:30Z.
    assert us_cutoff(date(2026, 11, 1), "01:30") == utc(2026, 11, 1, 5, 30)
    # The overlap is 01:00-01:59: 01:00 first occurs in EDT at 05:00Z. 02:00 is EST only: 07:00Z.
    assert us_cutoff(date(2026, 11, 1), "01:00") == utc(2026, 11, 1, 5)
    assert us_cutoff(date(2026, 11, 1), "02:00") == utc(2026, 11, 1, 7)


def test_paris_gap_and_overlap() -> None:
    # 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z; "02:30" resolves to 03:00 CEST = 01:00Z.
    cutoff = affirmation_cutoff(trade_date=date(2026, 3, 29), local_time="02:30", timezone=PARIS)
    assert cutoff == utc(2026, 3, 29, 1)
    # 2026-10-25: 02:30 first in CEST (00:30Z), again in CET (01:30Z); the earlier: 00:30Z.
    cutoff = affirmation_cutoff(trade_date=date(2026, 10, 25), local_time="02:30", timezone=PARIS)
    assert cutoff == utc(2026, 10, 25, 0, 30)


def test_half_hour_gap_lord_howe() -> None:
    # Australia/Lord_Howe moves 30 minutes: 2026-10-04 02:00 LHST (+10:30) -> 02:30 LHDT (+11),
    # at 2026-10-03T15:30Z. "02:15" is in the gap: 02:30 LHDT - 11 h = 15:30Z on the 3rd.
    cutoff = affirmation_cutoff(
        trade_date=date(2026, 10, 4), local_time="02:15", timezone="Australia/Lord_Howe"
    )
    assert cutoff == utc(2026, 10, 3, 15, 30)


def test_whole_day_gap_apia() -> None:
    # Samoa skipped 2011-12-30: 2011-12-29 23:59:59 at -10 was followed by 2011-12-31 00:00 at +14.
    # A 21:00 cutoff on the missing day resolves to 2011-12-31 00:00 +14 = 2011-12-30T10:00Z
    # (= 2011-12-29 24:00 at -10).
    cutoff = affirmation_cutoff(
        trade_date=date(2011, 12, 30), local_time="21:00", timezone="Pacific/Apia"
    )
    assert cutoff == utc(2011, 12, 30, 10)


ZONES = [NY, PARIS, "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata", "America/Sao_Paulo"]


def check_first_instant_rule(trade_date: date, hour: int, minute: int, zone: str) -> None:
    """The cutoff is the first instant at which the zone's clock reads the wall time or later."""
    local_time = f"{hour:02d}:{minute:02d}"
    cutoff = affirmation_cutoff(trade_date=trade_date, local_time=local_time, timezone=zone)
    wall = datetime(trade_date.year, trade_date.month, trade_date.day, hour, minute)
    tz = ZoneInfo(zone)

    def clock(instant: datetime) -> datetime:
        return instant.astimezone(tz).replace(tzinfo=None, fold=0)

    assert cutoff.tzinfo is UTC
    assert clock(cutoff) >= wall
    assert clock(cutoff - SECOND) < wall
    # Every instant the clock reads exactly `wall`: one per offset the zone used around that day.
    nearby = (wall.replace(tzinfo=UTC) + timedelta(hours=h) for h in range(-48, 49))
    offsets = {instant.astimezone(tz).utcoffset() for instant in nearby}
    readings = [
        instant
        for offset in offsets
        if offset is not None
        for instant in [(wall - offset).replace(tzinfo=UTC)]
        if clock(instant) == wall
    ]
    if readings:  # the wall time exists (twice in an overlap): the earliest reading
        assert cutoff == min(readings)
    # else: a gap, and the two asserts above make the cutoff the instant the clock jumps past it


@given(
    trade_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(ZONES),
)
def test_cutoff_is_first_instant_the_local_clock_reads_the_cutoff_or_later(
    trade_date: date, hour: int, minute: int, zone: str
) -> None:
    check_first_instant_rule(trade_date, hour, minute, zone)


# Days on which the zone's offset changes, one per kind of change.
TRANSITION_DAYS = [
    (NY, date(2026, 3, 8)),  # gap 02:00-02:59
    (NY, date(2026, 11, 1)),  # overlap 01:00-01:59
    (PARIS, date(2026, 3, 29)),
    (PARIS, date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),  # 30-minute gap
    ("Australia/Lord_Howe", date(2026, 4, 5)),  # 30-minute overlap
    ("Pacific/Apia", date(2011, 12, 30)),  # the whole day is missing
    ("America/Sao_Paulo", date(2018, 11, 4)),  # gap at midnight: 00:00-00:59 never happened
    ("America/Sao_Paulo", date(2019, 2, 16)),  # overlap 23:00-23:59
]


@pytest.mark.parametrize(("zone", "trade_date"), TRANSITION_DAYS)
def test_first_instant_rule_every_minute_of_transition_days(zone: str, trade_date: date) -> None:
    for hour in range(24):
        for minute in range(60):
            check_first_instant_rule(trade_date, hour, minute, zone)


# Where now stands --------------------------------------------------------------------------------

# Trade date 2026-11-24, cutoff 21:00 EST = 2026-11-25T02:00Z.
CUTOFF = utc(2026, 11, 25, 2)


def us_deadline(now: datetime) -> Deadline:
    return deadline(trade_date=date(2026, 11, 24), local_time="21:00", timezone=NY, now=now)


def test_exactly_at_the_cutoff_is_overdue_by_zero() -> None:
    assert us_deadline(CUTOFF) == Deadline(
        cutoff=CUTOFF, overdue=True, time_left=ZERO, overdue_by=ZERO
    )


def test_one_second_before_the_cutoff() -> None:
    assert us_deadline(CUTOFF - SECOND) == Deadline(
        cutoff=CUTOFF, overdue=False, time_left=SECOND, overdue_by=ZERO
    )


def test_one_second_after_the_cutoff() -> None:
    assert us_deadline(CUTOFF + SECOND) == Deadline(
        cutoff=CUTOFF, overdue=True, time_left=ZERO, overdue_by=SECOND
    )


def test_microsecond_before_the_cutoff_is_not_overdue() -> None:
    d = us_deadline(CUTOFF - timedelta(microseconds=1))
    assert not d.overdue
    assert d.time_left == timedelta(microseconds=1)


def test_hours_either_side() -> None:
    # 2026-11-24T12:00Z is 07:00 EST: 14 h to go. 2026-11-26T02:00Z: a day late.
    assert us_deadline(utc(2026, 11, 24, 12)).time_left == timedelta(hours=14)
    late = us_deadline(utc(2026, 11, 26, 2))
    assert late.overdue
    assert late.overdue_by == timedelta(days=1)
    assert late.time_left == ZERO


def test_now_in_any_zone_is_the_same_instant() -> None:
    # 21:00 EST on the trade date is the cutoff itself; 11:00 next morning in Tokyo (+9) is 02:00Z.
    at_cutoff_ny = datetime(2026, 11, 24, 21, tzinfo=ZoneInfo(NY))
    at_cutoff_tokyo = datetime(2026, 11, 25, 11, tzinfo=ZoneInfo("Asia/Tokyo"))
    for now in (at_cutoff_ny, at_cutoff_tokyo):
        assert us_deadline(now) == Deadline(
            cutoff=CUTOFF, overdue=True, time_left=ZERO, overdue_by=ZERO
        )
    # 20:00 EST: an hour to go, whatever zone now is given in.
    assert us_deadline(datetime(2026, 11, 24, 20, tzinfo=ZoneInfo(NY))).time_left == timedelta(
        hours=1
    )


def test_second_occurrence_of_an_ambiguous_cutoff_is_an_hour_late() -> None:
    # Cutoff "01:30" on 2026-11-01 is the first 01:30 (EDT, 05:30Z). The second 01:30 (fold=1, EST)
    # is 06:30Z: an hour past it, although the wall clock reads the same.
    second = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo(NY), fold=1)
    d = deadline(trade_date=date(2026, 11, 1), local_time="01:30", timezone=NY, now=second)
    assert d.cutoff == utc(2026, 11, 1, 5, 30)
    assert d.overdue
    assert d.overdue_by == timedelta(hours=1)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        us_deadline(datetime(2026, 11, 25, 2))


def test_deadline_is_immutable() -> None:
    d = us_deadline(CUTOFF)
    with pytest.raises(AttributeError):
        d.overdue = False  # type: ignore[misc]


# Near the cutoff ---------------------------------------------------------------------------------


def test_is_near() -> None:
    hour = timedelta(hours=1)
    # 01:00Z: exactly an hour left -- near, the bound is inclusive.
    assert is_near(us_deadline(CUTOFF - hour), within=hour)
    # 00:59:59Z: an hour and a second left -- not yet.
    assert not is_near(us_deadline(CUTOFF - hour - SECOND), within=hour)
    # One second left: near.
    assert is_near(us_deadline(CUTOFF - SECOND), within=hour)
    # At or after the cutoff it is overdue, never "near", however wide the window.
    assert not is_near(us_deadline(CUTOFF), within=hour)
    assert not is_near(us_deadline(CUTOFF + SECOND), within=timedelta(days=365))
    # A zero window is never near before the cutoff.
    assert not is_near(us_deadline(CUTOFF - SECOND), within=ZERO)


# Refused input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "local_time",
    [
        "25:00",  # no such hour
        "24:00",  # end of day is not a time of day
        "21:60",  # no such minute
        "9:5",  # not zero-padded
        "9:05",
        "",
        "21",
        "21:00:00",  # seconds are not part of the format
        " 21:00",
        "21:00\n",
        "21.00",
        "\uff12\uff11:\uff10\uff10",  # full-width digits
        "-1:00",
    ],
)
def test_malformed_local_time_is_refused(local_time: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        us_cutoff(date(2026, 11, 24), local_time)
    with pytest.raises(ValueError, match="HH:MM"):
        deadline(trade_date=date(2026, 11, 24), local_time=local_time, timezone=NY, now=CUTOFF)


@pytest.mark.parametrize(
    "timezone",
    [
        "Mars/Olympus_Mons",  # unknown
        "",
        "America",  # a directory of the zone database, not a zone
        "America/New_York ",
        "EST5EDT/",
        "../etc/passwd",
        "/etc/localtime",
        "zone.tab",  # a file in the database that is not a zone
        "New\x00York",
    ],
)
def test_unknown_time_zone_is_refused(timezone: str) -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        affirmation_cutoff(trade_date=date(2026, 11, 24), local_time="21:00", timezone=timezone)


def test_date_at_the_calendars_edge_is_a_value_error() -> None:
    # 0001-01-01 00:00 in Tokyo (+9) would be before datetime.min in UTC.
    with pytest.raises(ValueError, match="out of range"):
        affirmation_cutoff(trade_date=date(1, 1, 1), local_time="00:00", timezone="Asia/Tokyo")
