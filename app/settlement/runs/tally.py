"""What a settlement run did, chunk by chunk: its report, kept on the run row so a resumed
run goes on counting."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal
from app.settlement.instructions.fails import AGE_BUCKETS, bucket_of
from app.settlement.runs.allocation import Allocation, Candidate

ZERO = Decimal(0)


@dataclass
class Tally:
    """What a run did, chunk by chunk: counts, and per fail reason and currency the
    instructions and the cash value left unsettled."""

    settled: int = 0
    partially_settled: int = 0
    failed: int = 0
    closed: int = 0
    netted_out: int = 0
    fails: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)
    at_csd: "AtCsd" = field(default_factory=lambda: AtCsd())

    def add(self, allocation: Allocation, candidate: Candidate) -> None:
        if allocation.fail_reason is None:
            self.settled += 1
            return
        if allocation.settled_anything:
            self.partially_settled += 1
        else:
            self.failed += 1
        row = self.fails.setdefault(
            (allocation.fail_reason.value, candidate.currency), [ZERO, ZERO]
        )
        row[0] += 1
        row[1] += abs(candidate.amount - allocation.amount)

    def report(self, held: Sequence[str], held_count: int | None = None) -> dict[str, Any]:
        """``held``: the held instructions' ids (the first 100 are listed), ``held_count``
        how many there are when more than listed."""
        return {
            "settled": self.settled,
            "partially_settled": self.partially_settled,
            "failed": self.failed,
            "market_closed": self.closed,
            "trades_netted_out": self.netted_out,
            "fails": [
                {
                    "reason": reason,
                    "currency": currency,
                    "instructions": int(count),
                    "unsettled_amount": format_decimal(value),
                }
                for (reason, currency), (count, value) in sorted(self.fails.items())
            ],
            "held": len(held) if held_count is None else held_count,
            "held_ids": list(held[:100]),
            "at_csd": self.at_csd.report(),
        }

    @classmethod
    def resumed(
        cls, *, settled: int, partially_settled: int, failed: int, report: Mapping[str, Any]
    ) -> "Tally":
        """The tally a run had reached: its row's counts and the report kept on it."""
        tally = cls(settled, partially_settled, failed)
        tally.closed = int(report.get("market_closed", 0))
        tally.netted_out = int(report.get("trades_netted_out", 0))
        for row in report.get("fails", []):
            tally.fails[row["reason"], row["currency"]] = [
                Decimal(row["instructions"]),
                Decimal(row["unsettled_amount"]),
            ]
        tally.at_csd = AtCsd.resumed(report.get("at_csd", {}))
        return tally


@dataclass
class AtCsd:
    """The instructions the depository settles that a run looked at: how many were due, how
    many are failing by age (business days), and what it re-sent."""

    instructions: int = 0
    failing: dict[str, int] = field(default_factory=lambda: {b: 0 for b, _, _ in AGE_BUCKETS})
    resent: int = 0
    not_sendable: list[str] = field(default_factory=list)

    def add(self, days_failing: int) -> None:
        self.instructions += 1
        if days_failing > 0:
            self.failing[bucket_of(days_failing)] += 1

    def report(self) -> dict[str, Any]:
        return {
            "instructions": self.instructions,
            "failing": sum(self.failing.values()),
            "failing_by_age": [
                {"bucket": bucket, "instructions": count} for bucket, count in self.failing.items()
            ],
            "resent": self.resent,
            "not_sendable": len(self.not_sendable),
            "not_sendable_ids": self.not_sendable[:100],
        }

    @classmethod
    def resumed(cls, report: Mapping[str, Any]) -> "AtCsd":
        at_csd = cls(
            instructions=int(report.get("instructions", 0)),
            resent=int(report.get("resent", 0)),
            not_sendable=list(report.get("not_sendable_ids", [])),
        )
        for row in report.get("failing_by_age", []):
            at_csd.failing[row["bucket"]] = int(row["instructions"])
        return at_csd
