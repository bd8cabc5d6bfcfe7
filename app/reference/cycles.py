"""Effective-dated settlement cycles (pure): which cycle applies on a trade date."""

from collections.abc import Sequence
from datetime import date
from typing import Any


def cycle_days_on(steps: Sequence[dict[str, Any]], trade_date: date) -> int | None:
    """Days of the last step whose ``from`` is on or before ``trade_date``; None before the first.

    Steps are stored as JSON: ``[{"from": "2024-05-28", "days": 1}, ...]`` in ascending order.
    """
    days: int | None = None
    for step in steps:
        if date.fromisoformat(step["from"]) <= trade_date:
            days = int(step["days"])
        else:
            break
    return days
