"""An answer of the engine written in its format, ready to post: the body, its Content-Type
and the message id it carries (AppHdr/BizMsgIdr, or the MT's own :20C::SEME//)."""

from dataclasses import dataclass
from datetime import datetime

from csd_sim.engine import Answer
from csd_sim.messages.advice import Confirmation, Header
from csd_sim.messages.iso20022_out import confirmation_xml, status_advice_xml
from csd_sim.messages.mt_out import confirmation_mt, status_advice_mt
from csd_sim.scenario import Scenario

CONTENT_TYPES = {"xml": "application/xml", "mt": "text/plain"}


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    content_type: str
    body: bytes
    answer: Answer


def compose(answer: Answer, *, scenario: Scenario, message_id: str, now: datetime) -> Outgoing:
    header = Header(message_id, scenario.bic, scenario.participant_bic, now)
    advice = answer.advice
    if answer.family == "xml":
        if isinstance(advice, Confirmation):
            body = confirmation_xml(advice, header)
        else:
            body = status_advice_xml(advice, header)
    elif isinstance(advice, Confirmation):
        body = confirmation_mt(advice, header).encode()
    else:
        body = status_advice_mt(advice, header).encode()
    return Outgoing(message_id, CONTENT_TYPES[answer.family], body, answer)
