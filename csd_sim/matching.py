"""Matching two legs, pure: the fields T2S matches on, and the unmatched reason of each that
differs (ISO 20022 unmatched reason codes)."""

from csd_sim.messages.advice import Reason
from csd_sim.messages.instruction import Instruction
from csd_sim.messages.swift import format_amount
from csd_sim.scenario import Tolerance

NO_COUNTERPARTY = Reason("CMIS", "No counterparty instruction")


def differences(ours: Instruction, theirs: Instruction, tolerance: Tolerance) -> list[Reason]:
    """Why ``theirs`` is not the other leg of ``ours`` (an empty list: they match). The
    directions are taken as opposite: a same-direction leg is never a candidate."""
    found: list[Reason] = []
    if ours.isin != theirs.isin:
        found.append(Reason("DSEC", f"Counterparty instructs {theirs.isin}"))
    if (ours.quantity, ours.quantity_type) != (theirs.quantity, theirs.quantity_type):
        quantity = f"{theirs.quantity_type} {format_amount(theirs.quantity)}"
        found.append(Reason("DQUA", f"Counterparty instructs {quantity}"))
    if ours.payment != theirs.payment:
        found.append(Reason("FRAP", f"Counterparty instructs {theirs.payment}"))
    elif ours.currency != theirs.currency:
        found.append(Reason("NCRR", f"Counterparty instructs {theirs.currency}"))
    elif (
        ours.settlement_amount is not None
        and theirs.settlement_amount is not None
        and not tolerance.allows(ours.settlement_amount, theirs.settlement_amount)
    ):
        amount = format_amount(theirs.settlement_amount)
        found.append(Reason("DMON", f"Counterparty instructs {theirs.currency} {amount}"))
    if ours.settlement_date != theirs.settlement_date:
        found.append(Reason("DDAT", f"Counterparty instructs {theirs.settlement_date}"))
    if ours.trade_date != theirs.trade_date:
        found.append(Reason("DTRD", f"Counterparty instructs {theirs.trade_date}"))
    return found


def is_candidate(ours: Instruction, theirs: Instruction) -> bool:
    """The opposite direction, and the counterparty's account when ours names it."""
    if ours.direction == theirs.direction:
        return False
    return ours.counterparty_account in (None, theirs.safekeeping_account)


def best_match(
    ours: Instruction, candidates: list[Instruction], tolerance: Tolerance
) -> tuple[Instruction | None, list[Reason]]:
    """The candidate with the fewest differences (the first of equals) and those differences;
    (None, [CMIS]) when no candidate exists."""
    best: tuple[Instruction | None, list[Reason]] = (None, [NO_COUNTERPARTY])
    for theirs in candidates:
        if not is_candidate(ours, theirs):
            continue
        found = differences(ours, theirs, tolerance)
        if best[0] is None or len(found) < len(best[1]):
            best = (theirs, found)
    return best
