"""The clearing report: trades and gross value in, obligations and net value out, and the
netting efficiency, per counterparty of record (each CCP) and currency. Pure: no database."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.clearing.netting import Direction, Net, NettingKey, efficiency
from app.core.money import format_decimal

_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LeftOut:
    trade_id: str
    reason: str


MAX_LISTED_EXCEPTIONS = 100


def build_report(nets: Mapping[NettingKey, Net], exceptions: Sequence[LeftOut]) -> dict[str, Any]:
    groups: dict[tuple[str, str, str], list[Net]] = {}
    for key, item in nets.items():
        groups.setdefault((key.netting_set.value, key.counterparty, key.currency), []).append(item)
    rows = []
    for (netting_set, counterparty, currency), items in sorted(groups.items()):
        measured = efficiency(items)
        rows.append(
            {
                "netting_set": netting_set,
                "counterparty_lei": counterparty,
                "currency": currency,
                "trades": measured.trades,
                "gross_value": format_decimal(measured.gross_value),
                "obligations": measured.obligations,
                "net_value": format_decimal(measured.net_value),
                "efficiency_by_value": format_decimal(measured.by_value.quantize(_PLACES)),
                "efficiency_by_count": format_decimal(measured.by_count.quantize(_PLACES)),
            }
        )
    return {
        "trades": sum(item.trade_count for item in nets.values()),
        "obligations": sum(1 for item in nets.values() if item.direction is not Direction.NONE),
        "by_counterparty": rows,
        "exceptions_count": len(exceptions),
        "exceptions": [
            {"trade_id": e.trade_id, "reason": e.reason} for e in exceptions[:MAX_LISTED_EXCEPTIONS]
        ],
    }
