"""Partial settlement terms as reference data, the way T2S has them. Pure: no database.

The partial indicator an instruction carries: ``NPAR`` never settles partially, ``PART`` may,
``PARQ`` may when the quantity a partial would settle reaches the instrument's quantity
threshold, ``PARC`` may when the cash it would settle reaches the market's cash threshold for
the instruction's currency. An instruction takes its counterparty's indicator, else its
market's. A market settles partially only inside its partial settlement windows (local times
of its time zone), or at any time when it has none.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class PartialIndicator(StrEnum):
    NPAR = "NPAR"  # no partial settlement
    PART = "PART"  # partial settlement allowed
    PARQ = "PARQ"  # allowed at or above a quantity threshold
    PARC = "PARC"  # allowed at or above a cash threshold


def default_indicator(*, counterparty: str | None, market: str) -> PartialIndicator:
    """The indicator a new instruction gets: the counterparty's, else its market's."""
    return PartialIndicator(counterparty or market)


def _local_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_window(moment: datetime, windows: Iterable[Mapping[str, str]], timezone: str) -> bool:
    """Whether ``moment`` (timezone-aware) falls in one of ``windows`` (``{"from": "HH:MM",
    "to": "HH:MM"}``, local times in ``timezone``; from inclusive, to exclusive; a window whose
    ``to`` is earlier than its ``from`` runs over midnight). No windows: any moment is in.

    Wall-clock time decides, so a window keeps its local hours across daylight saving changes:
    on the night clocks go forward a window inside the skipped hour never opens, and on the
    night they go back one inside the repeated hour is open twice."""
    windows = list(windows)
    if not windows:
        return True
    local = moment.astimezone(ZoneInfo(timezone)).time().replace(tzinfo=None)
    for window in windows:
        start, end = _local_time(window["from"]), _local_time(window["to"])
        if start <= end:
            if start <= local < end:
                return True
        elif local >= start or local < end:
            return True
    return False
