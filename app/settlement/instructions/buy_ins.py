"""Buy-in candidates: failing instructions past the extension period of their instrument's
class, in the report's order, as JSON items or CSV lines. Pure: plain values in, plain values out.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal
from app.core.reporting import csv_line

WE_DELIVER = "we_deliver"
WE_RECEIVE = "we_receive"
_DELIVERING = {"DVP", "DFP"}

CSV_COLUMNS = (
    "instruction_id",
    "obligation_id",
    "trade_ids",
    "isin",
    "csdr_class",
    "counterparty_lei",
    "direction",
    "quantity_due",
    "currency",
    "amount_due",
    "intended_settlement_date",
    "days_failing",
    "extension_days",
    "days_past_extension",
    "fail_reason",
)


def direction(delivery_type: str) -> str:
    return WE_DELIVER if delivery_type in _DELIVERING else WE_RECEIVE


@dataclass(frozen=True)
class Candidate:
    instruction_id: str
    obligation_id: str
    trade_ids: tuple[str, ...]
    isin: str
    csdr_class: str
    counterparty_lei: str
    direction: str
    quantity_due: Decimal
    currency: str
    amount_due: Decimal
    intended_settlement_date: date
    days_failing: int
    extension_days: int
    # Who fails, as far as we know it: the reason the run or the depository gave (LACK, MONY...).
    fail_reason: str | None

    @property
    def days_past_extension(self) -> int:
        return self.days_failing - self.extension_days

    def out(self) -> dict[str, Any]:
        return {
            "instruction_id": self.instruction_id,
            "obligation_id": self.obligation_id,
            "trade_ids": list(self.trade_ids),
            "isin": self.isin,
            "csdr_class": self.csdr_class,
            "counterparty_lei": self.counterparty_lei,
            "direction": self.direction,
            "quantity_due": format_decimal(self.quantity_due),
            "currency": self.currency,
            "amount_due": format_decimal(self.amount_due),
            "intended_settlement_date": self.intended_settlement_date.isoformat(),
            "days_failing": self.days_failing,
            "extension_days": self.extension_days,
            "days_past_extension": self.days_past_extension,
            "fail_reason": self.fail_reason,
        }


def is_candidate(days_failing: int, extension_days: int | None) -> bool:
    """Past the extension period: failing more business days than it allows."""
    return extension_days is not None and days_failing > extension_days


def in_report_order(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Furthest past the extension first, then by instruction id."""
    return sorted(candidates, key=lambda c: (-c.days_past_extension, c.instruction_id))


def csv_lines(candidates: Iterable[Candidate]) -> Iterator[str]:
    """A header row, then one row per candidate; trade ids space-separated, an unknown fail
    reason empty."""
    yield csv_line(CSV_COLUMNS)
    for candidate in candidates:
        item = candidate.out()
        item["trade_ids"] = " ".join(candidate.trade_ids)
        item["fail_reason"] = candidate.fail_reason or ""
        yield csv_line(item[column] for column in CSV_COLUMNS)
