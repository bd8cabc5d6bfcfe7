"""Fail ageing: the age buckets of the fails report and its tallies. Pure: plain values in, plain
values out."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal

# Business days failing. CSDR's buy-in extension periods (4 days for liquid shares, 7 for the
# rest) fall at the bucket edges.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-7", 4, 7),
    ("8-15", 8, 15),
    ("16+", 16, None),
)
NO_REASON = "NONE"


def bucket_of(days: int) -> str:
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[0][0]


@dataclass(frozen=True)
class Fail:
    """One failing instruction, as the report counts it."""

    days_failing: int
    fail_reason: str | None
    counterparty_lei: str
    currency: str
    unsettled: Decimal  # the cash left to settle


@dataclass
class _Group:
    instructions: int = 0
    value: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def add(self, fail: Fail) -> None:
        self.instructions += 1
        self.value[fail.currency] += fail.unsettled

    def out(self) -> dict[str, Any]:
        return {
            "instructions": self.instructions,
            "unsettled": [
                {"currency": currency, "amount": format_decimal(amount)}
                for currency, amount in sorted(self.value.items())
            ],
        }


@dataclass
class FailsTally:
    """Failing instructions counted in total, by age bucket, fail reason and counterparty, with
    the cash left unsettled per currency."""

    total: _Group = field(default_factory=_Group)
    by_age: dict[str, _Group] = field(
        default_factory=lambda: {label: _Group() for label, _, _ in AGE_BUCKETS}
    )
    by_reason: dict[str, _Group] = field(default_factory=lambda: defaultdict(_Group))
    by_counterparty: dict[str, _Group] = field(default_factory=lambda: defaultdict(_Group))

    def add(self, fail: Fail) -> None:
        self.total.add(fail)
        self.by_age[bucket_of(fail.days_failing)].add(fail)
        self.by_reason[fail.fail_reason or NO_REASON].add(fail)
        self.by_counterparty[fail.counterparty_lei].add(fail)

    def report(self) -> dict[str, Any]:
        return {
            **self.total.out(),
            "by_age": [{"bucket": label, **group.out()} for label, group in self.by_age.items()],
            "by_reason": [
                {"fail_reason": reason, **group.out()}
                for reason, group in sorted(self.by_reason.items())
            ],
            "by_counterparty": [
                {"counterparty_lei": lei, **group.out()}
                for lei, group in sorted(self.by_counterparty.items())
            ],
        }


CSV_COLUMNS = ("group", "key", "instructions", "currency", "unsettled")
_GROUPS = (
    ("by_age", "bucket"),
    ("by_reason", "fail_reason"),
    ("by_counterparty", "counterparty_lei"),
)


def _group_rows(group: str, key: str, counted: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"group": group, "key": key, "instructions": counted["instructions"]}
    if not counted["unsettled"]:
        return [base]
    return [
        {**base, "currency": value["currency"], "unsettled": value["amount"]}
        for value in counted["unsettled"]
    ]


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The fails report flattened for CSV: the total, then each age bucket, fail reason and
    counterparty, one row per currency left unsettled (one row without a currency if none)."""
    rows = _group_rows("total", "", report)
    for name, key in _GROUPS:
        for counted in report[name]:
            rows += _group_rows(name.removeprefix("by_"), counted[key], counted)
    return rows
