"""Custodian holdings against the book, per ISIN: every quantity that differs. Pure: no
database."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

ZERO = Decimal(0)


class Held(Protocol):
    """A custodian's holding line: ``HoldingLine``, ``ParsedHolding``, ..."""

    @property
    def isin(self) -> str: ...

    @property
    def quantity(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class HoldingDifference:
    isin: str
    custodian_quantity: Decimal
    book_quantity: Decimal
    difference: Decimal  # custodian - book: positive when the custodian holds more


def compare(lines: Iterable[Held], book: Mapping[str, Decimal]) -> list[HoldingDifference]:
    """One difference per ISIN whose quantities differ, in ISIN order. Lines of one ISIN add up
    (a custodian may report it per place of safekeeping); an ISIN on one side only counts as
    zero on the other, so a zero line against nothing in the book is no difference."""
    custodian: dict[str, Decimal] = {}
    for line in lines:
        custodian[line.isin] = custodian.get(line.isin, ZERO) + line.quantity
    differences = []
    for isin in sorted(custodian.keys() | book.keys()):
        theirs, ours = custodian.get(isin, ZERO), book.get(isin, ZERO)
        if theirs != ours:
            differences.append(HoldingDifference(isin, theirs, ours, theirs - ours))
    return differences
