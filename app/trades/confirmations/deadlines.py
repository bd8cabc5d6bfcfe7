"""Affirmation deadlines: a market's local cutoff time on trade date as a UTC instant. Pure, no I/O.

A market's ``affirmation_cutoff`` is an "HH:MM" wall-clock time on the trade date in the market's
IANA time zone (``Market.timezone``). Where the zone changes its offset on that day, the wall time
may not name exactly one instant, and the rule here is:

* Nonexistent time (spring-forward gap, e.g. 02:30 in New York on 2026-03-08, where clocks jump
  from 02:00 EST to 03:00 EDT): the cutoff is the first valid instant after the gap, i.e. the
  transition itself (03:00 EDT = 07:00Z), not the wall time read with either offset.
* Ambiguous time (fall-back overlap, e.g. 01:30 in New York on 2026-11-01, which happens first in
  EDT and again an hour later in EST): the cutoff is the EARLIER occurrence (``fold=0``,
  01:30 EDT = 05:30Z). The stricter deadline: a trade affirmed in time under it is in time under
  either reading.

Both cases, and every ordinary day, follow one rule: the cutoff is the first instant at which the
market's clock reads the cutoff wall time or later.

The clock is never read here: callers pass ``now`` (see ``app.core.clock``).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Same shape as the reference-data schema's LocalTime: two-digit hour 00-23, two-digit minute.
# ASCII digits only ("\d" would accept other scripts' digits); fullmatch rejects a trailing "\n".
_LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_SECOND = timedelta(seconds=1)
_ZERO = timedelta(0)


@dataclass(frozen=True)
class Deadline:
    """Where ``now`` stands against an affirmation cutoff."""

    cutoff: datetime  # UTC-aware instant of the affirmation cutoff
    overdue: bool  # now >= cutoff: the cutoff instant itself is already too late
    time_left: timedelta  # cutoff - now, never negative (zero when overdue)
    overdue_by: timedelta  # now - cutoff, zero when not overdue


def _parse_local_time(local_time: str) -> time:
    match = _LOCAL_TIME.fullmatch(local_time)
    if match is None:
        raise ValueError(f"local time must be 'HH:MM' (00:00 to 23:59), got {local_time!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    # Unknown key (ZoneInfoNotFoundError), malformed or non-TZif key (ValueError), a directory of
    # the zone database such as "America" (IsADirectoryError, an OSError).
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{timezone!r} is not an IANA time zone") from None


def _end_of_gap(zone: ZoneInfo, *, after_offset: timedelta, lo: datetime, hi: datetime) -> datetime:
    """The first instant in (lo, hi] whose offset in ``zone`` is ``after_offset``.

    ``lo`` is still before the transition and ``hi`` already after it. Offsets change on whole
    seconds and both bounds are whole seconds apart, so bisecting on seconds lands on it exactly.
    """
    while hi - lo > _SECOND:
        mid = lo + (hi - lo) // _SECOND // 2 * _SECOND
        if mid.astimezone(zone).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid
    return hi


def affirmation_cutoff(*, trade_date: date, local_time: str, timezone: str) -> datetime:
    """``local_time`` ("HH:MM") on ``trade_date`` in ``timezone``, as a UTC-aware instant.

    A time in a spring-forward gap resolves to the first valid instant after the gap; a time in a
    fall-back overlap to its earlier occurrence (see the module docstring). Raises ValueError for a
    malformed local time, an unknown time zone, or a date too close to the calendar's ends.
    """
    wall = datetime.combine(trade_date, _parse_local_time(local_time))
    zone = _zone(timezone)
    try:
        first = wall.replace(tzinfo=zone, fold=0)  # offset in force before any transition
        second = wall.replace(tzinfo=zone, fold=1)  # offset in force after it
        earlier, later = first.astimezone(UTC), second.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{trade_date} {local_time} {timezone} is out of range") from None
    if earlier <= later:
        # Equal: an ordinary time. Earlier < later: an overlap, and fold=0 is its first occurrence.
        return earlier
    # Gap (PEP 495: fold=0 reads the wall time with the pre-transition offset, fold=1 with the
    # post-transition one, so in a gap the fold=1 instant comes first). The transition is in
    # (later, earlier]; the cutoff is the transition instant, the first wall time after the gap.
    after_offset = second.utcoffset()
    assert after_offset is not None  # a ZoneInfo always has an offset
    return _end_of_gap(zone, after_offset=after_offset, lo=later, hi=earlier)


def deadline(*, trade_date: date, local_time: str, timezone: str, now: datetime) -> Deadline:
    """Where ``now`` (aware, in any zone) stands against the cutoff; a naive ``now`` is refused."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    cutoff = affirmation_cutoff(trade_date=trade_date, local_time=local_time, timezone=timezone)
    remaining = cutoff - now.astimezone(UTC)
    overdue = remaining <= _ZERO
    return Deadline(
        cutoff=cutoff,
        overdue=overdue,
        time_left=_ZERO if overdue else remaining,
        overdue_by=-remaining if overdue else _ZERO,
    )


def is_near(d: Deadline, *, within: timedelta) -> bool:
    """Not yet overdue, with at most ``within`` left (an overdue deadline is never "near")."""
    return not d.overdue and d.time_left <= within
