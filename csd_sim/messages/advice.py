"""The depository's answers, whatever the format they are written in."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from csd_sim.messages.instruction import Instruction

Processing = Literal["accepted", "rejected", "cancelled", "pending_processing"]
Matching = Literal["matched", "unmatched"]
Settlement = Literal["pending", "failing"]


@dataclass(frozen=True)
class Reason:
    """An ISO reason code (LACK, DQUA, ...), or a proprietary one when ``issuer`` is given."""

    code: str
    text: str | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class StatusAdvice:
    """sese.024 / MT548: each status given, with its reasons (none: "no specified reason")."""

    our_reference: str
    csd_reference: str | None
    processing: Processing | None = None
    processing_reasons: tuple[Reason, ...] = ()
    matching: Matching | None = None
    matching_reasons: tuple[Reason, ...] = ()
    settlement: Settlement | None = None
    settlement_reasons: tuple[Reason, ...] = ()
    # The instruction advised on, when known (a message that could not be read has none).
    details: Instruction | None = None


@dataclass(frozen=True)
class Confirmation:
    """sese.025 / MT544-547: what settled on ``effective_date``; ``partial`` PAIN (more to come)
    or PARC (the last part of a partially settled instruction), None when settled in one go."""

    our_reference: str
    csd_reference: str
    instruction: Instruction
    effective_date: date
    quantity: Decimal
    amount: Decimal | None
    partial: Literal["PAIN", "PARC"] | None = None
    previously_settled: Decimal = Decimal(0)
    remaining: Decimal = Decimal(0)


Advice = StatusAdvice | Confirmation


@dataclass(frozen=True)
class Header:
    """Who sends the answer to whom, under which message id (unique per sender), when."""

    message_id: str
    sender: str
    receiver: str
    created: datetime


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 400000, 101.25."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
