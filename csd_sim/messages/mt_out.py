"""The answers in ISO 15022: MT548 (status) and MT544/545/546/547 (confirmations), whole
messages (blocks 1, 2 and 4) in the layout of the message contract, CRLF between lines."""

from datetime import UTC

from csd_sim.messages.advice import Confirmation, Header, Reason, StatusAdvice
from csd_sim.messages.swift import format_amount, logical_terminal, x_text

CONFIRMATION_TYPES = {
    ("RECE", "FREE"): "544",
    ("RECE", "APMT"): "545",
    ("DELI", "FREE"): "546",
    ("DELI", "APMT"): "547",
}
# Status -> (the 25D qualifier and code, the 24B qualifier of its reasons).
_STATUS = {
    "accepted": ("IPRC//PACK", "PACK"),
    "rejected": ("IPRC//REJT", "REJT"),
    "cancelled": ("IPRC//CAND", "CAND"),
    "pending_processing": ("IPRC//PPRC", "PPRC"),
    "matched": ("MTCH//MACH", "MACH"),
    "unmatched": ("MTCH//NMAT", "NMAT"),
    "pending": ("SETT//PEND", "PEND"),
    "failing": ("SETT//PENF", "PENF"),
}


def _wrap(message_type: str, header: Header, lines: list[str]) -> str:
    sent = header.created.astimezone(UTC)
    stamp_time, stamp_day = sent.strftime("%H%M"), sent.strftime("%y%m%d")
    sender = logical_terminal(header.sender)
    block1 = f"{{1:F01{logical_terminal(header.receiver)}0000000000}}"
    block2 = (
        f"{{2:O{message_type}{stamp_time}{stamp_day}{sender}0000000000{stamp_day}{stamp_time}N}}"
    )
    return f"{block1}{block2}{{4:\r\n" + "\r\n".join(lines) + "\r\n-}"


def _link(qualifier: str, reference: str) -> list[str]:
    return [":16R:LINK", f":20C::{qualifier}//{reference}", ":16S:LINK"]


def _reason(qualifier: str, reason: Reason) -> list[str]:
    if reason.issuer is not None:
        lines = [f":24B::{qualifier}/{reason.issuer[:8]}/{reason.code[:4]}"]
    else:
        lines = [f":24B::{qualifier}//{reason.code}"]
    if reason.text:
        text = x_text(reason.text)
        lines += [f":70D::REAS//{text[0]}", *text[1:]]
    return [":16R:REAS", *lines, ":16S:REAS"]


def _stat(status: str, reasons: tuple[Reason, ...]) -> list[str]:
    code, qualifier = _STATUS[status]
    inner = [line for reason in reasons for line in _reason(qualifier, reason)]
    return [":16R:STAT", f":25D::{code}", *inner, ":16S:STAT"]


def status_advice_mt(advice: StatusAdvice, header: Header) -> str:
    """An MT548: one STAT block per status given."""
    lines = [":16R:GENL", f":20C::SEME//{header.message_id}", ":23G:INST"]
    lines += _link("RELA", advice.our_reference)
    if advice.csd_reference is not None:
        lines += _link("ASRF", advice.csd_reference)
    for status, reasons in (
        (advice.processing, advice.processing_reasons),
        (advice.matching, advice.matching_reasons),
        (advice.settlement, advice.settlement_reasons),
    ):
        if status is not None:
            lines += _stat(status, reasons)
    lines.append(":16S:GENL")
    return _wrap("548", header, lines)


def confirmation_type(confirmation: Confirmation) -> str:
    instruction = confirmation.instruction
    return f"MT{CONFIRMATION_TYPES[(instruction.direction, instruction.payment)]}"


def confirmation_mt(confirmation: Confirmation, header: Header) -> str:
    """An MT544/545/546/547 (by direction and payment) of what settled."""
    instruction = confirmation.instruction
    lines = [":16R:GENL", f":20C::SEME//{header.message_id}", ":23G:NEWM"]
    if confirmation.partial is not None:
        lines.append(f":22F::PRTL//{confirmation.partial}")
    lines += _link("RELA", confirmation.our_reference)
    lines += _link("ASRF", confirmation.csd_reference)
    quantity = format_amount(confirmation.quantity)
    lines += [
        ":16S:GENL",
        ":16R:TRADDET",
        f":98A::ESET//{confirmation.effective_date:%Y%m%d}",
        f":98A::TRAD//{instruction.trade_date:%Y%m%d}",
        f":35B:ISIN {instruction.isin}",
        ":16S:TRADDET",
        ":16R:FIAC",
        f":36B::ESTT//{instruction.quantity_type}/{quantity}",
        f":97A::SAFE//{instruction.safekeeping_account}",
        ":16S:FIAC",
        ":16R:SETDET",
        f":22F::SETR//{instruction.transaction_type}",
    ]
    if confirmation.amount is not None and instruction.currency is not None:
        amount = f"{instruction.currency}{format_amount(confirmation.amount)}"
        lines += [":16R:AMT", f":19A::ESTT//{amount}", ":16S:AMT"]
    lines.append(":16S:SETDET")
    return _wrap(confirmation_type(confirmation)[2:], header, lines)
