"""What the simulator reads from one of our instructions, whatever its format."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Family = Literal["xml", "mt"]
Direction = Literal["RECE", "DELI"]
Payment = Literal["APMT", "FREE"]
QuantityType = Literal["UNIT", "FAMT"]
CreditDebit = Literal["CRDT", "DBIT"]
PARTIAL_INDICATORS = ("NPAR", "PART", "PARQ", "PARC")


class MalformedMessage(Exception):
    """The message cannot be read: answered with a rejection, never a crash. ``code`` is the
    ISO rejection reason (DSEC, DQUA, DDAT, SAFE, ... OTHR), ``element`` what is wrong."""

    def __init__(self, element: str, problem: str, *, code: str = "OTHR") -> None:
        super().__init__(f"{element}: {problem}")
        self.element = element
        self.problem = problem
        self.code = code


@dataclass(frozen=True)
class DealPrice:
    value: Decimal
    # PRCT: a percentage of the face amount (bonds); ACTU: an amount per unit (shares).
    kind: Literal["PRCT", "ACTU"]
    currency: str | None = None


@dataclass(frozen=True)
class Instruction:
    """A settlement instruction (``cancels`` None) or a cancellation request (``cancels`` the
    reference of the instruction it cancels). A sese.020 carries no price, partial indicator or
    priority (those keep their defaults); its amount is optional."""

    reference: str
    family: Family
    message_type: str
    direction: Direction
    payment: Payment
    isin: str
    quantity: Decimal
    quantity_type: QuantityType
    trade_date: date
    settlement_date: date
    safekeeping_account: str
    cancels: str | None = None
    deal_price: DealPrice | None = None
    place_of_settlement: str | None = None
    counterparty_agent: str | None = None
    counterparty_account: str | None = None
    counterparty: str | None = None
    settlement_amount: Decimal | None = None
    currency: str | None = None
    credit_debit: CreditDebit | None = None
    partial_indicator: str = "NPAR"
    priority: str | None = None
    transaction_type: str = "TRAD"

    @property
    def is_cancellation(self) -> bool:
        return self.cancels is not None
