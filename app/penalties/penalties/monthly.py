"""The monthly penalties report, netted per counterparty and currency as the depository reports
them; reversed penalties are left out by the caller. Pure: plain values in, plain values out.

payable = what we owe, receivable = what is owed to us, net = receivable - payable.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal, round_money

CSV_COLUMNS = ("counterparty_lei", "currency", "penalties", "payable", "receivable", "net")


@dataclass(frozen=True)
class MonthlyLine:
    counterparty_lei: str
    currency: str
    amount: Decimal
    we_pay: bool


@dataclass
class _Group:
    currency: str
    penalties: int = 0
    payable: Decimal = Decimal(0)
    receivable: Decimal = Decimal(0)

    def add(self, line: MonthlyLine) -> None:
        self.penalties += 1
        if line.we_pay:
            self.payable += line.amount
        else:
            self.receivable += line.amount

    def out(self) -> dict[str, Any]:
        def money(value: Decimal) -> str:
            return format_decimal(round_money(value, self.currency))

        return {
            "currency": self.currency,
            "penalties": self.penalties,
            "payable": money(self.payable),
            "receivable": money(self.receivable),
            "net": money(self.receivable - self.payable),
        }


def monthly_report(month: str, lines: Iterable[MonthlyLine]) -> dict[str, Any]:
    """Per counterparty and currency (by LEI, then currency), and totals per currency."""
    groups: dict[tuple[str, str], _Group] = {}
    totals: dict[str, _Group] = {}
    for line in lines:
        groups.setdefault((line.counterparty_lei, line.currency), _Group(line.currency)).add(line)
        totals.setdefault(line.currency, _Group(line.currency)).add(line)
    return {
        "month": month,
        "counterparties": [
            {"counterparty_lei": lei, **group.out()} for (lei, _), group in sorted(groups.items())
        ],
        "totals": [group.out() for _, group in sorted(totals.items())],
    }
