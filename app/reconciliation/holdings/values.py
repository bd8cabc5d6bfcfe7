"""The frozen values other code is handed of a stored holdings statement: no ORM row leaves the
aggregate. Pure: no database."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.reconciliation.holdings.parsing.model import QuantityType, StatementBasis


@dataclass(frozen=True, slots=True)
class HoldingLine:
    isin: str
    quantity: Decimal  # signed: negative is a short position
    quantity_type: QuantityType
    available: Decimal | None


@dataclass(frozen=True, slots=True)
class HoldingsSnapshot:
    """What the custodian said an account held on a day: the latest statement received for it,
    every page of it."""

    account: str  # our securities account code
    statement_date: date
    statement_ids: tuple[str, ...]  # the stored statements (pages) the lines come from
    basis: StatementBasis | None
    complete: bool  # False when a page up to the last one has not been received
    lines: tuple[HoldingLine, ...]
