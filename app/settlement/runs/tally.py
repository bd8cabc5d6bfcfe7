"""What a settlement run did, chunk by chunk: its report, kept on the run row so a resumed
run goes on counting."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.core.money import format_decimal
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
        return tally
