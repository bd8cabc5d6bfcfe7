"""Which writer writes a message: by the market's format and whether it instructs or cancels.
Pure."""

from app.settlement.outbound.formats import mt54x, sese020, sese023
from app.settlement.outbound.formats.facts import Header, InstructionFacts, MessageFormat


def write(facts: InstructionFacts, header: Header) -> tuple[str, str]:
    """The message's format name (``OutboundMessage.format``) and its text: an instruction,
    or with ``header.cancels`` the cancellation of the message of that reference."""
    if facts.message_format == MessageFormat.ISO15022:
        return mt54x.message_type(facts), mt54x.render(facts, header)
    if header.cancels is not None:
        return sese020.DEFINITION, sese020.render(facts, header)
    return sese023.DEFINITION, sese023.render(facts, header)
