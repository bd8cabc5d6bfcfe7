"""The breaks report: every open reconciliation break aged to a day, counted by ageing bucket
(every bucket, even empty) and by account, with their amounts summed per currency.

Amounts are signed as on the break (the outside world less the book) and summed per currency;
securities breaks (a quantity of an ISIN, no currency) are counted but carry no amount.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.reporting import csv_line
from app.reconciliation.breaks import service as breaks
from app.reconciliation.breaks.schemas import BreakOut
from app.reconciliation.matching.ageing import AgeingBucket

CSV_COLUMNS = (
    "id",
    "kind",
    "status",
    "account",
    "currency",
    "isin",
    "amount",
    "since",
    "value_date",
    "age_days",
    "ageing_bucket",
    "owner",
    "detail",
)


@dataclass
class Group:
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def add(self, item: BreakOut) -> None:
        self.count += 1
        if item.currency is not None:
            self.amounts[item.currency] += item.amount

    def out(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "amounts": [
                {"currency": currency, "amount": amount}
                for currency, amount in sorted(self.amounts.items())
            ],
        }


def tally(items: Iterable[BreakOut], *, as_of: date) -> dict[str, Any]:
    """The report of these open breaks. Pure: plain values in and out."""
    listed = list(items)
    by_age = {bucket: Group() for bucket in AgeingBucket}
    by_account: dict[str, Group] = defaultdict(Group)
    for item in listed:
        by_age[item.ageing_bucket].add(item)
        by_account[item.account].add(item)
    return {
        "as_of": as_of,
        "open": len(listed),
        "by_age": [{"bucket": bucket.value, **group.out()} for bucket, group in by_age.items()],
        "by_account": [
            {"account": account, **group.out()} for account, group in sorted(by_account.items())
        ],
        "items": listed,
    }


async def breaks_report(session: AsyncSession, *, as_of: date) -> dict[str, Any]:
    return tally(await breaks.open_breaks(session, today=as_of), as_of=as_of)


def csv_lines(items: Iterable[BreakOut]) -> Iterator[str]:
    """One line per open break, oldest first."""
    yield csv_line(CSV_COLUMNS)
    for item in items:
        row = item.model_dump()
        yield csv_line(row[column] for column in CSV_COLUMNS)
