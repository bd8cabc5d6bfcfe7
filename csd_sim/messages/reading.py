"""One outbound message of the service read, whatever its format."""

from csd_sim.messages.instruction import Family, Instruction, MalformedMessage
from csd_sim.messages.iso20022_in import SESE_020, SESE_023, read_xml_instruction
from csd_sim.messages.mt_in import MT_TYPES, read_mt_instruction

FORMATS = (SESE_023, SESE_020, *MT_TYPES)


def family_of(message_format: str) -> Family:
    return "mt" if message_format.startswith("MT") else "xml"


def read_instruction(message_format: str, content: str, *, reference: str | None) -> Instruction:
    """The instruction or cancellation a message carries; ``MalformedMessage`` otherwise.
    ``reference`` is the message's own (the outbound message's), for a sese.020 without AppHdr."""
    if message_format not in FORMATS:
        raise MalformedMessage(
            "format", f"'{message_format[:40]}' is not one of {', '.join(FORMATS)}"
        )
    if family_of(message_format) == "mt":
        return read_mt_instruction(content, message_format)
    instruction = read_xml_instruction(content.encode(), reference=reference)
    if instruction.message_type != message_format:
        problem = f"holds a {instruction.message_type}, not the announced {message_format}"
        raise MalformedMessage("Document", problem)
    return instruction
