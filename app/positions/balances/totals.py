"""What a balance holds, as a value: posted, pending, cost and realised P&L. Pure: no database."""

from dataclasses import dataclass
from decimal import Decimal

from app.positions.costing import Holding

ZERO = Decimal(0)

Key = tuple[str, str]  # (ledger account, asset)


@dataclass(frozen=True)
class Totals:
    posted: Decimal = ZERO
    pending: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(
            self.posted + other.posted,
            self.pending + other.pending,
            self.cost + other.cost,
            self.realized_pnl + other.realized_pnl,
        )

    def __sub__(self, other: "Totals") -> "Totals":
        return Totals(
            self.posted - other.posted,
            self.pending - other.pending,
            self.cost - other.cost,
            self.realized_pnl - other.realized_pnl,
        )

    def as_columns(self) -> dict[str, Decimal]:
        return {
            "posted": self.posted,
            "pending": self.pending,
            "cost": self.cost,
            "realized_pnl": self.realized_pnl,
        }


def book_holding(totals: Totals) -> Holding:
    """The position a book's securities balance stands for."""
    # A book's securities balance is a credit for a long position: the quantity is its negative.
    return Holding(-totals.posted, totals.cost, totals.realized_pnl)
