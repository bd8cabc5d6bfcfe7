"""Partial settlement terms (app.reference.partial), pure: which indicator an instruction gets
and whether a moment falls in a market's partial settlement windows.

Daylight saving in 2026: Paris goes to CEST (UTC+2) on Sun 29 March at 01:00 UTC and back to
CET (UTC+1) on Sun 25 October at 01:00 UTC; New York goes to EDT (UTC-4) on Sun 8 March at
07:00 UTC and back to EST (UTC-5) on Sun 1 November at 06:00 UTC.
"""

from datetime import UTC, datetime

import pytest

from app.reference.partial import PartialIndicator, default_indicator, in_window

PARIS, NEW_YORK = "Europe/Paris", "America/New_York"
AFTERNOON = [{"from": "14:00", "to": "14:15"}]
OVERNIGHT = [{"from": "22:00", "to": "02:00"}]
SKIPPED_HOUR = [{"from": "02:00", "to": "03:00"}]
NY_OPEN = [{"from": "09:30", "to": "10:00"}]
T2S_LIKE = [
    {"from": "08:00", "to": "08:15"},
    {"from": "14:00", "to": "14:15"},
    {"from": "15:45", "to": "16:00"},
]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "windows", "timezone", "inside"),
    [
        pytest.param("2026-11-25T13:05:00", [], PARIS, True, id="no-windows-any-time"),
        pytest.param("2026-11-25T03:00:00", [], NEW_YORK, True, id="no-windows-at-night-too"),
        # Boundaries: from inclusive, to exclusive (CET: 14:00 local is 13:00 UTC).
        pytest.param("2026-11-25T13:00:00", AFTERNOON, PARIS, True, id="at-from"),
        pytest.param("2026-11-25T13:14:59", AFTERNOON, PARIS, True, id="just-before-to"),
        pytest.param("2026-11-25T13:15:00", AFTERNOON, PARIS, False, id="at-to"),
        pytest.param("2026-11-25T12:59:59", AFTERNOON, PARIS, False, id="just-before-from"),
        # The same local window moves in UTC with daylight saving.
        pytest.param("2026-03-27T13:05:00", AFTERNOON, PARIS, True, id="cet-before-spring"),
        pytest.param("2026-03-30T13:05:00", AFTERNOON, PARIS, False, id="cest-an-hour-late"),
        pytest.param("2026-03-30T12:05:00", AFTERNOON, PARIS, True, id="cest-after-spring"),
        pytest.param("2026-10-23T12:05:00", AFTERNOON, PARIS, True, id="cest-before-autumn"),
        pytest.param("2026-10-26T12:05:00", AFTERNOON, PARIS, False, id="cet-an-hour-early"),
        pytest.param("2026-10-26T13:05:00", AFTERNOON, PARIS, True, id="cet-after-autumn"),
        # The hour clocks skip never opens; the hour they repeat is open twice.
        pytest.param("2026-03-29T00:30:00", SKIPPED_HOUR, PARIS, False, id="spring-01:30"),
        pytest.param("2026-03-29T01:30:00", SKIPPED_HOUR, PARIS, False, id="spring-03:30"),
        pytest.param("2026-10-25T00:30:00", SKIPPED_HOUR, PARIS, True, id="autumn-02:30-cest"),
        pytest.param("2026-10-25T01:30:00", SKIPPED_HOUR, PARIS, True, id="autumn-02:30-cet"),
        # A window over midnight.
        pytest.param("2026-11-25T21:30:00", OVERNIGHT, PARIS, True, id="overnight-22:30"),
        pytest.param("2026-11-26T00:30:00", OVERNIGHT, PARIS, True, id="overnight-01:30"),
        pytest.param("2026-11-26T01:00:00", OVERNIGHT, PARIS, False, id="overnight-at-to"),
        pytest.param("2026-11-25T20:59:00", OVERNIGHT, PARIS, False, id="overnight-21:59"),
        # New York changes a few weeks before Paris: the local window still decides.
        pytest.param("2026-03-06T13:45:00", NY_OPEN, NEW_YORK, False, id="est-08:45"),
        pytest.param("2026-03-06T14:45:00", NY_OPEN, NEW_YORK, True, id="est-09:45"),
        pytest.param("2026-03-10T13:45:00", NY_OPEN, NEW_YORK, True, id="edt-09:45"),
        pytest.param("2026-11-02T14:45:00", NY_OPEN, NEW_YORK, True, id="est-again-09:45"),
        # Several windows: any of them.
        pytest.param("2026-11-25T14:50:00", T2S_LIKE, PARIS, True, id="third-of-three"),
        pytest.param("2026-11-25T07:10:00", T2S_LIKE, PARIS, True, id="first-of-three"),
        pytest.param("2026-11-25T14:00:00", T2S_LIKE, PARIS, False, id="between-windows"),
    ],
)
def test_a_moment_is_in_a_window_by_the_markets_wall_clock(
    moment: str, windows: list[dict[str, str]], timezone: str, inside: bool
) -> None:
    assert in_window(utc(moment), windows, timezone) is inside


def test_a_moment_in_another_offset_is_compared_as_the_same_instant() -> None:
    moment = datetime.fromisoformat("2026-11-25T08:05:00-05:00")  # 14:05 in Paris

    assert in_window(moment, AFTERNOON, PARIS) is True


@pytest.mark.parametrize(
    ("counterparty", "market", "expected"),
    [
        (None, "NPAR", PartialIndicator.NPAR),
        (None, "PART", PartialIndicator.PART),
        ("PARQ", "PART", PartialIndicator.PARQ),
        ("NPAR", "PART", PartialIndicator.NPAR),
        ("PARC", "NPAR", PartialIndicator.PARC),
    ],
)
def test_an_instruction_takes_its_counterpartys_indicator_else_its_markets(
    counterparty: str | None, market: str, expected: PartialIndicator
) -> None:
    assert default_indicator(counterparty=counterparty, market=market) is expected
