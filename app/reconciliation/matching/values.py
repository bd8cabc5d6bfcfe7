"""What the matching engine is given and what it answers: statement lines, book movements,
rules (one per row of ``reconciliation_rules``), matches and the notes of searches that stopped.

Amounts are signed from our side on both sides: a statement line's credit (money into our
account at the bank) is positive, and so is a book movement that brings money into our cash
account. A line and the movements that explain it therefore carry the same sign.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One entry of a bank statement. ``value_date`` is the entry's value date (the run gives
    the booking date when the bank sent none); ``references`` every reference the bank sent
    (end-to-end id, account servicer reference, instruction id, UETR) and any of ours found in
    the remittance text; ``counterparty`` a name or account the run made comparable with the
    book's (None when unknown)."""

    id: str
    currency: str
    amount: Decimal
    value_date: date
    booking_date: date | None = None
    references: frozenset[str] = frozenset()
    counterparty: str | None = None


@dataclass(frozen=True, slots=True)
class BookMovement:
    """One cash posting the book expects on the account: ``references`` are our instruction
    id, trade reference, the end-to-end id we sent and the journal entry id."""

    id: str
    currency: str
    amount: Decimal
    value_date: date
    references: frozenset[str] = frozenset()
    counterparty: str | None = None


class RuleKind(StrEnum):
    EXACT_REFERENCE = "exact_reference"
    AMOUNT_DATE_COUNTERPARTY = "amount_date_counterparty"
    ONE_TO_MANY = "one_to_many"  # one statement line, several book movements
    MANY_TO_ONE = "many_to_one"  # several statement lines, one book movement


@dataclass(frozen=True)
class Rule:
    """A matching rule as data. Amounts agree when ``|difference| <= tolerance`` (the tolerance
    of the currency, else ``default_amount_tolerance``); value dates when they are at most
    ``value_date_days`` calendar days apart. ``max_group_size``, ``max_candidates`` and
    ``search_budget`` bound the subset-sum search of the group kinds."""

    name: str
    priority: int
    kind: RuleKind
    enabled: bool = True
    amount_tolerance: Mapping[str, Decimal] = field(default_factory=dict)
    default_amount_tolerance: Decimal = Decimal(0)
    value_date_days: int = 0
    counterparty_must_agree: bool = False
    max_group_size: int = 5
    max_candidates: int = 30
    search_budget: int = 100_000

    def __post_init__(self) -> None:
        allowances = [self.default_amount_tolerance, *self.amount_tolerance.values()]
        if any(allowance < 0 for allowance in allowances):
            raise ValueError(f"rule {self.name}: an amount tolerance is negative")
        if self.value_date_days < 0:
            raise ValueError(f"rule {self.name}: value_date_days is negative")
        if self.max_group_size < 2 or self.max_candidates < 2 or self.search_budget < 1:
            raise ValueError(f"rule {self.name}: the group search bounds are too small")

    def tolerance(self, currency: str) -> Decimal:
        return self.amount_tolerance.get(currency, self.default_amount_tolerance)


def item_key(line_ids: Iterable[str], movement_ids: Iterable[str]) -> str:
    """The same statement lines and book movements give the same key, in any order: a later run
    recognises a match or break it has seen."""
    return json.dumps([sorted(line_ids), sorted(movement_ids)], separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Match:
    """Lines and movements a rule put together. ``amount_difference`` is the lines' sum less the
    movements'; ``value_date_difference`` the widest gap in calendar days between a line's value
    date and a movement's (positive: the bank's date is later)."""

    rule: str
    line_ids: tuple[str, ...]
    movement_ids: tuple[str, ...]
    amount_difference: Decimal
    value_date_difference: int

    @property
    def key(self) -> str:
        return item_key(self.line_ids, self.movement_ids)


@dataclass(frozen=True, slots=True)
class GaveUp:
    """A bounded search that stopped before it could say yes or no for ``item_id``."""

    rule: str
    item_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Outcome:
    matches: tuple[Match, ...]
    unmatched_line_ids: tuple[str, ...]
    unmatched_movement_ids: tuple[str, ...]
    gave_up: tuple[GaveUp, ...]
