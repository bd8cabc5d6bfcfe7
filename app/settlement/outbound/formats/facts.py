"""Everything an instruction message needs, as plain values, and the checks every format makes
before writing one. Pure: no database.

The instructions service builds ``InstructionFacts`` from the instruction, its SSI, its trades
and reference data; the outbound service adds the ``Header`` (our reference, when, from whom)
and asks the writer of the market's format for the text.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

# The message definitions written, as ``OutboundMessage.format`` names them.
SESE_023 = "sese.023.001.11"
SESE_020 = "sese.020.001.07"
HEAD_001 = "head.001.001.02"


class MessageFormat(StrEnum):
    """A market's ``message_format``."""

    ISO20022 = "iso20022"
    ISO15022 = "iso15022"


class PriceKind(StrEnum):
    PERCENT = "percent"  # bonds: percent of the face amount (PRCT)
    AMOUNT = "amount"  # shares: an amount per unit, in a currency (ACTU)


@dataclass(frozen=True, slots=True, kw_only=True)
class DealPrice:
    value: Decimal
    kind: PriceKind
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructionFacts:
    """One settlement instruction as a depository is told it, from our side."""

    message_format: MessageFormat
    receive: bool  # RECE (we receive the securities) or DELI
    against_payment: bool  # APMT or FREE
    trade_date: date | None
    settlement_date: date
    deal_price: DealPrice | None  # only when one price holds for the whole obligation
    isin: str
    quantity: Decimal  # unsigned
    face_amount: bool  # FAMT (bonds: the nominal) or UNIT
    safekeeping_account: str  # ours, at the depository
    our_agent_bic: str  # our account servicer
    place_of_settlement: str  # the depository's BIC, from the SSI
    counterparty_agent_bic: str
    counterparty_account: str
    counterparty_bic: str | None
    settlement_amount: Decimal | None  # unsigned; payment instructions only
    currency: str
    credit_debit: str | None  # CRDT we receive the cash, DBIT we pay
    partial_indicator: str  # NPAR, PART, PARQ or PARC
    priority: int  # 1..9999, written with four digits


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """Who sends which message when: our reference (SEME) and, for a cancellation, the
    reference of the message it cancels."""

    reference: str
    sender_bic: str
    created_at: datetime
    cancels: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a value cannot go into a message: the instruction waits in repair until fixed."""

    field: str
    detail: str


# SWIFT X character set (ISO 15022 text): a-z A-Z 0-9 / - ? : ( ) . , ' + space.
_X_CHARACTER = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]")
# Characters XML 1.0 cannot carry at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_ACCOUNT = 35  # 97A::SAFE 35x, SecuritiesAccount19/Id Max35Text


def outside_x(value: str) -> list[str]:
    """The characters of ``value`` outside the SWIFT X set, each once, in order."""
    found: list[str] = []
    for character in value:
        if not _X_CHARACTER.fullmatch(character) and character not in found:
            found.append(character)
    return found


def _texts(facts: InstructionFacts) -> dict[str, str]:
    """The free-text values a message carries, by the name a repair reason gives them."""
    return {
        "safekeeping_account": facts.safekeeping_account,
        "counterparty_ssi.account": facts.counterparty_account,
    }


def problems(facts: InstructionFacts) -> list[Problem]:
    """What keeps the facts from being written in their format; empty when nothing does.
    ISO 15022 text takes the X character set only; XML takes any character but the few XML
    cannot carry. Accounts are at most 35 characters in both."""
    found: list[Problem] = []
    for name, value in _texts(facts).items():
        if len(value) > MAX_ACCOUNT:
            found.append(
                Problem(name, f"'{value}' is {len(value)} characters, {MAX_ACCOUNT} at most")
            )
        if facts.message_format == MessageFormat.ISO15022:
            outside = outside_x(value)
            if outside:
                listed = ", ".join(repr(c) for c in outside)
                found.append(
                    Problem(name, f"'{value}' has characters outside the SWIFT X set: {listed}")
                )
        elif _NOT_XML.search(value):
            found.append(Problem(name, f"{value!r} has characters XML cannot carry"))
    if not 1 <= facts.priority <= 9999:
        found.append(Problem("priority", f"{facts.priority} is not a 4-digit priority"))
    return found


class Unwritable(ValueError):
    """The facts cannot be written (``problems`` says why): callers check first."""

    def __init__(self, found: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.detail}" for p in found))
        self.problems = found


def check(facts: InstructionFacts) -> None:
    found = problems(facts)
    if found:
        raise Unwritable(found)


def plain_decimal(value: Decimal) -> str:
    """``value`` without exponent nor trailing zeros after the point: 189.2500 -> 189.25,
    1E+2 -> 100."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
