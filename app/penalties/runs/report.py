"""A penalty run's report: what it booked per kind, payer and currency, what it reversed and
why, and its exceptions. Pure: plain values in, plain values out."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal

MAX_LISTED = 100


def build_report(
    *,
    examined: int,
    booked: Sequence[Any],
    reversed_: Sequence[tuple[Any, str]],
    exceptions: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """``booked``: objects with ``kind``, ``payer``, ``currency``, ``amount``; ``reversed_``:
    (penalty, reason) pairs."""
    groups: dict[tuple[str, str, str], list[Decimal]] = {}
    for penalty in booked:
        groups.setdefault((penalty.kind, penalty.payer, penalty.currency), []).append(
            penalty.amount
        )
    return {
        "instructions_examined": examined,
        "booked": len(booked),
        "by_kind": [
            {
                "kind": kind,
                "payer": payer,
                "currency": currency,
                "penalties": len(amounts),
                "amount": format_decimal(sum(amounts, Decimal(0))),
            }
            for (kind, payer, currency), amounts in sorted(groups.items())
        ],
        "reversed": len(reversed_),
        "reversals": [
            {"penalty_id": penalty.id, "day": penalty.day.isoformat(), "reason": reason}
            for penalty, reason in reversed_[:MAX_LISTED]
        ],
        "exceptions_count": len(exceptions),
        "exceptions": list(exceptions[:MAX_LISTED]),
    }
