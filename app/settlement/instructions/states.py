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
    # The CSD rejected the instruction message (sese.024 Rjctd, MT548 IPRC//REJT).
    REJECTED = "rejected"
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    HELD = "held"
    RELEASED = "released"
    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"
    CANCELLED = "cancelled"


S, E = InstructionStatus, InstructionEvent

# A hold parks an instruction; its release returns it to the state it was held in (kept on the
# instruction), which is always one of these.
HOLDABLE = (S.REPAIR, S.PENDING, S.MATCHED, S.PARTIALLY_SETTLED)
# What settlement runs take (when due and not held).
SETTLEABLE = (S.MATCHED, S.PARTIALLY_SETTLED)
# At a depository: open there, neither in repair (never sent) nor held by us. The settlement
# run counts them, ages their fails and re-sends what the depository holds no message for.
AT_CSD = (S.PENDING, S.MATCHED, S.PARTIALLY_SETTLED)
# Not settled nor cancelled: past its intended settlement date such an instruction is failing (a
# held one too: it is reported as held besides).
OPEN = (S.REPAIR, S.PENDING, S.MATCHED, S.PARTIALLY_SETTLED, S.ON_HOLD)

TRANSITIONS: Mapping[tuple[InstructionStatus, InstructionEvent], InstructionStatus] = {
    (S.REPAIR, E.ENRICHED): S.PENDING,
    (S.PENDING, E.MATCHED): S.MATCHED,
    # sese.024: still unmatched (with reasons), or matched no more.
    (S.PENDING, E.UNMATCHED): S.PENDING,
    (S.MATCHED, E.UNMATCHED): S.PENDING,
    # Rejected by the CSD: back to repair with its reasons (a repeat changes nothing).
    **{(state, E.REJECTED): S.REPAIR for state in (S.REPAIR, S.PENDING, S.MATCHED)},
    **{(state, E.HELD): S.ON_HOLD for state in HOLDABLE},
    # Settled by a run, or confirmed by the CSD (sese.025; a confirmation implies a match).
    **{
        (state, event): after
        for state in (S.PENDING, S.MATCHED, S.PARTIALLY_SETTLED)
        for event, after in (
            (E.PARTIALLY_SETTLED, S.PARTIALLY_SETTLED),
            (E.SETTLED, S.SETTLED),
        )
    },
    **{(state, E.CANCELLED): S.CANCELLED for state in (S.REPAIR, S.PENDING, S.MATCHED, S.ON_HOLD)},
}


# Releasing a hold: keyed by the state the instruction was held in (``held_from``), not by
# ``on_hold``, since that is where it returns.
RELEASES: Mapping[tuple[InstructionStatus, InstructionEvent], InstructionStatus] = {
    (state, E.RELEASED): state for state in HOLDABLE
}


class HeldBy(StrEnum):
    """Who holds an ``on_hold`` instruction."""

    OPERATIONS = "operations"  # by hand (POST .../hold): never released by an advice
    US = "us"  # the CSD reports our own instruction on hold (party hold: PREA)
    COUNTERPARTY = "counterparty"  # the counterparty's instruction is on hold (PRCY)
    CSD = "csd"  # the CSD holds it (CSDH, CVAL, CDLR)


class DeliveryType(StrEnum):
    """sese.023 from our side: receive or deliver, against payment or free; PFOD for a cash-only
    obligation (payment free of delivery)."""

    RVP = "RVP"
    DVP = "DVP"
    RFP = "RFP"
    DFP = "DFP"
    PFOD = "PFOD"
