"""Writing ISO 20022 messages: elements built with ElementTree (which escapes every text and
attribute), wrapped with their business application header (head.001.001.02) in an
``Envelope``, pretty-printed, UTF-8. The same facts always give the same bytes. Pure."""

from datetime import UTC
from decimal import Decimal
from xml.etree import ElementTree as ET

from app.settlement.outbound.formats.facts import HEAD_001, Header, plain_decimal

_ISO = "urn:iso:std:iso:20022:tech:xsd:"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def add(parent: ET.Element, path: str, text: str | None = None, **attributes: str) -> ET.Element:
    """A new element at the end of ``path`` ("A/B/C") under ``parent``: the steps before it are
    the last child of that name when there is one (so siblings gather under one parent), a new
    child otherwise. The new element gets ``text`` and ``attributes``."""
    *steps, last = path.split("/")
    element = parent
    for name in steps:
        children = element.findall(name)
        element = children[-1] if children else ET.SubElement(element, name)
    element = ET.SubElement(element, last)
    if text is not None:
        element.text = text
    for name, value in attributes.items():
        element.set(name, value)
    return element


def decimal(value: Decimal) -> str:
    return plain_decimal(value)


def amount(parent: ET.Element, path: str, value: Decimal, currency: str) -> ET.Element:
    return add(parent, path, plain_decimal(value), Ccy=currency)


def _bic(parent: ET.Element, path: str, bic: str) -> None:
    add(parent, f"{path}/FIId/FinInstnId/BICFI", bic)


def envelope(header: Header, *, to_bic: str, definition: str, document: ET.Element) -> str:
    """``<Envelope>`` holding ``AppHdr`` (BizMsgIdr = our reference, Fr = us, To = the
    depository) and the ``Document`` of ``definition``."""
    root = ET.Element("Envelope")
    app_header = add(root, "AppHdr", xmlns=_ISO + HEAD_001)
    _bic(app_header, "Fr", header.sender_bic)
    _bic(app_header, "To", to_bic)
    add(app_header, "BizMsgIdr", header.reference)
    add(app_header, "MsgDefIdr", definition)
    created = header.created_at.astimezone(UTC).replace(microsecond=0)
    add(app_header, "CreDt", created.isoformat().replace("+00:00", "Z"))
    document.set("xmlns", _ISO + definition)
    root.append(document)
    ET.indent(root, space="  ")
    return DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
