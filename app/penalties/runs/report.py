"""A penalty run's report: what it booked per kind, payer and currency, what it reversed and
why, and its exceptions. Pure: plain values in, plain values out."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal

MAX_LISTED = 100


@dataclass(frozen=True)
class Booked:
    kind: str
    payer: str
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class Reversed:
    penalty_id: str
    day: date
    reason: str


def build_report(
    *,
    examined: int,
    booked: Sequence[Booked],
    reversed_: Sequence[Reversed],
    exceptions: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Booked penalties summed per kind, payer and currency; the reversals and exceptions (the
    first ``MAX_LISTED`` of each listed)."""
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
            {"penalty_id": r.penalty_id, "day": r.day.isoformat(), "reason": r.reason}
            for r in reversed_[:MAX_LISTED]
        ],
        "exceptions_count": len(exceptions),
        "exceptions": list(exceptions[:MAX_LISTED]),
    }
