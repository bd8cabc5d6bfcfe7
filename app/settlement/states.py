"""The settlement instruction lifecycle as data."""

from collections.abc import Mapping
from enum import StrEnum


class InstructionStatus(StrEnum):
    # Not sent: something needed to instruct is missing (an SSI); operations repair it.
    REPAIR = "repair"
    PENDING = "pending"
    MATCHED = "matched"
    ON_HOLD = "on_hold"
    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class InstructionEvent(StrEnum):
    ENRICHED = "enriched"
    MATCHED = "matched"
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[tuple[InstructionStatus, InstructionEvent], InstructionStatus] = {
    (InstructionStatus.REPAIR, InstructionEvent.ENRICHED): InstructionStatus.PENDING,
    (InstructionStatus.PENDING, InstructionEvent.MATCHED): InstructionStatus.MATCHED,
    (InstructionStatus.REPAIR, InstructionEvent.CANCELLED): InstructionStatus.CANCELLED,
    (InstructionStatus.PENDING, InstructionEvent.CANCELLED): InstructionStatus.CANCELLED,
    (InstructionStatus.MATCHED, InstructionEvent.CANCELLED): InstructionStatus.CANCELLED,
}


class DeliveryType(StrEnum):
    """sese.023 from our side: receive or deliver, against payment or free; PFOD for a cash-only
    obligation (payment free of delivery)."""

    RVP = "RVP"
    DVP = "DVP"
    RFP = "RFP"
    DFP = "DFP"
    PFOD = "PFOD"
