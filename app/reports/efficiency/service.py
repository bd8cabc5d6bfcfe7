"""Settlement efficiency: the share of instructions settled on their intended settlement date,
by count and by value per currency, in total, per business day, per market and per counterparty.

Counted: every instruction not cancelled whose intended settlement date is in [from, to]. On
time: fully settled with a settlement (value) date equal to the intended date. A share is a
decimal in 0..1 with 4 places (half-even), null when nothing was due. The days are the business
days of the TARGET calendar (ECB), where the euro settles (T2S); instructions due on a day closed
for TARGET count in the total, their market and counterparty, but have no day row.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calendars import BusinessCalendar
from app.core.errors import FieldProblem, ValidationFailed
from app.core.money import round_money
from app.core.reporting import csv_line
from app.settlement.instructions import service as instructions
from app.settlement.instructions.service import DueInstruction

TARGET = BusinessCalendar(["XECB"])
DEFAULT_BUSINESS_DAYS = 20
MAX_RANGE_DAYS = 366
_SHARE = Decimal("0.0001")

CSV_COLUMNS = (
    "group",
    "key",
    "due",
    "settled_on_time",
    "rate_by_count",
    "currency",
    "value_due",
    "value_settled_on_time",
    "value_rate",
)


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole`` to 4 places, half-even; None when nothing was due."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_SHARE, rounding=ROUND_HALF_EVEN)


def business_days_back(to: date, count: int, calendar: BusinessCalendar = TARGET) -> date:
    """The ``count``-th business day before ``to`` (``to`` itself not counted)."""
    day = to
    while count:
        day -= timedelta(days=1)
        if calendar.is_business_day(day):
            count -= 1
    return day


def report_range(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """[from, to] as asked, defaulting to today and the 20th TARGET business day before it."""
    to = end or today
    since = start or business_days_back(to, DEFAULT_BUSINESS_DAYS)
    if since > to:
        raise ValidationFailed(
            "'from' is after 'to'.", errors=[FieldProblem("from", "must be on or before to")]
        )
    if (to - since).days > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"The range is longer than {MAX_RANGE_DAYS} days.",
            errors=[FieldProblem("from", f"at most {MAX_RANGE_DAYS} days before to")],
        )
    return since, to


@dataclass
class Group:
    """Instructions due and settled on time, with their cash value per currency."""

    due: int = 0
    settled_on_time: int = 0
    value_due: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    value_on_time: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def add(self, item: DueInstruction) -> None:
        self.due += 1
        self.value_due[item.currency] += item.amount
        if item.settled_on_time:
            self.settled_on_time += 1
            self.value_on_time[item.currency] += item.amount

    def out(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "settled_on_time": self.settled_on_time,
            "rate_by_count": share(self.settled_on_time, self.due),
            "values": [
                {
                    "currency": currency,
                    "due": round_money(due, currency),
                    "settled_on_time": round_money(self.value_on_time[currency], currency),
                    "rate": share(self.value_on_time[currency], due),
                }
                for currency, due in sorted(self.value_due.items())
            ],
        }


def tally(
    items: Iterable[DueInstruction], *, start: date, end: date, calendar: BusinessCalendar = TARGET
) -> dict[str, Any]:
    """The report of these instructions over [start, end]. Pure: plain values in and out."""
    total = Group()
    by_day = {day: Group() for day in calendar.business_days(start, end)}
    by_market: dict[str, Group] = defaultdict(Group)
    by_counterparty: dict[str, Group] = defaultdict(Group)
    for item in items:
        total.add(item)
        if item.intended_settlement_date in by_day:
            by_day[item.intended_settlement_date].add(item)
        by_market[item.market].add(item)
        by_counterparty[item.counterparty_lei].add(item)
    return {
        "from": start,
        "to": end,
        "total": total.out(),
        "by_day": [{"date": day, **group.out()} for day, group in by_day.items()],
        "by_market": [
            {"market": market, **group.out()} for market, group in sorted(by_market.items())
        ],
        "by_counterparty": [
            {"counterparty_lei": lei, **group.out()}
            for lei, group in sorted(by_counterparty.items())
        ],
    }


async def settlement_efficiency(session: AsyncSession, *, start: date, end: date) -> dict[str, Any]:
    due = await instructions.instructions_due(session, start=start, end=end)
    return tally(due, start=start, end=end)


def _group_lines(group: str, key: str, out: dict[str, Any]) -> Iterator[str]:
    head = [group, key, out["due"], out["settled_on_time"], out["rate_by_count"]]
    if not out["values"]:
        yield csv_line([*head, None, None, None, None])
    for value in out["values"]:
        yield csv_line(
            [*head, value["currency"], value["due"], value["settled_on_time"], value["rate"]]
        )


def csv_lines(report: dict[str, Any]) -> Iterator[str]:
    """One line per group and currency: the total, then each day, market and counterparty."""
    yield csv_line(CSV_COLUMNS)
    yield from _group_lines("total", "", report["total"])
    sections: Sequence[tuple[str, str, str]] = (
        ("by_day", "day", "date"),
        ("by_market", "market", "market"),
        ("by_counterparty", "counterparty", "counterparty_lei"),
    )
    for section, group, key in sections:
        for row in report[section]:
            yield from _group_lines(group, str(row[key]), row)
