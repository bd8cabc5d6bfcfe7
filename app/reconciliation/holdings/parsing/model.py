"""The one shape every holdings format is parsed into: per safekeeping account and statement,
the quantity held of each ISIN, exact decimals, negative for a short position. Pure: no
database."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class QuantityType(StrEnum):
    UNIT = "UNIT"  # shares, units: a number of securities
    FAMT = "FAMT"  # face amount: bonds held by nominal


class StatementBasis(StrEnum):
    """What the custodian counted (ISO 15022 STBA, ISO 20022 StmtBsis)."""

    SETTLED = "settled"  # SETT: settled positions only
    TRADED = "traded"  # TRAD: traded positions, settled or not
    CONTRACTUAL = "contractual"  # CONT: contractual settlement date positions


@dataclass(frozen=True, slots=True)
class ParsedHolding:
    isin: str
    quantity: Decimal  # signed: negative is a short position
    quantity_type: QuantityType = QuantityType.UNIT
    available: Decimal | None = None  # what may be delivered now, when the format says


@dataclass(frozen=True, slots=True)
class ParsedHoldingsStatement:
    safekeeping_account: str  # as the custodian names it: our account code or account number
    statement_id: str
    statement_date: date
    basis: StatementBasis | None = None  # None when the file does not say
    page: int | None = None  # None when the format has no pages
    last_page: bool | None = None
    holdings: tuple[ParsedHolding, ...] = ()


class HoldingsParseError(ValueError):
    """A file that cannot be parsed, with where: a line number or an element path."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location
