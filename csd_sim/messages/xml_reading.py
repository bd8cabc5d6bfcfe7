"""Namespace-aware reading of one ISO 20022 Document: paths of local names, checked values."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from csd_sim.messages.instruction import MalformedMessage

ISO_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:"
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


def local_name(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def parse_document(data: bytes | str) -> tuple[Element, str, Element | None]:
    """The Document, its namespace and the envelope's AppHdr (None for a bare Document)."""
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise MalformedMessage("body", f"refused: {type(error).__name__}") from None
    except ParseError as error:
        raise MalformedMessage("body", f"is not well-formed XML ({error})") from None
    document = header = None
    for element in root.iter():
        namespace, name = local_name(element.tag)
        if name == "Document" and document is None:
            document = element
        elif name == "AppHdr" and header is None and (namespace or "").startswith(ISO_NAMESPACE):
            header = element
    if document is None:
        raise MalformedMessage("Document", "is missing")
    namespace, _ = local_name(document.tag)
    return document, namespace or "", header


class Reader:
    """Finds elements of one namespace by path ("A/B/C"); every miss names the element."""

    def __init__(self, namespace: str, base: str) -> None:
        self.namespace = namespace
        self.base = base

    def _tag(self, path: str) -> str:
        return "/".join(f"{{{self.namespace}}}{step}" for step in path.split("/"))

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(self._tag(path))

    def text(self, element: Element, path: str, *, code: str = "OTHR") -> str:
        value = self.optional(element, path)
        if value is None:
            raise MalformedMessage(f"{self.base}/{path}", "is missing", code=code)
        return value

    def optional(self, element: Element, path: str) -> str | None:
        found = self.find(element, path)
        if found is None:
            return None
        value = (found.text or "").strip()
        return value or None

    def choice(
        self, element: Element, path: str, allowed: tuple[str, ...], *, code: str = "OTHR"
    ) -> str:
        value = self.text(element, path, code=code)
        if value not in allowed:
            problem = f"'{value[:40]}' is not one of {', '.join(allowed)}"
            raise MalformedMessage(f"{self.base}/{path}", problem, code=code)
        return value

    def decimal(self, element: Element, path: str, *, code: str = "OTHR") -> Decimal:
        return self.to_decimal(self.text(element, path, code=code), path, code=code)

    def to_decimal(self, value: str, path: str, *, code: str = "OTHR") -> Decimal:
        if not _DECIMAL.match(value):
            problem = f"'{value[:40]}' is not a non-negative decimal"
            raise MalformedMessage(f"{self.base}/{path}", problem, code=code)
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise MalformedMessage(f"{self.base}/{path}", "is not a decimal", code=code) from None

    def date(self, element: Element, path: str, *, code: str = "OTHR") -> date:
        """A date choice: ``X/Dt/Dt``, ``X/Dt/DtTm``, ``X/Dt`` or ``X/DtTm`` (ISO date or time)."""
        for inner in ("Dt/Dt", "Dt/DtTm", "Dt", "DtTm"):
            found = self.find(element, f"{path}/{inner}")
            if found is not None and len(found) == 0:
                value = (found.text or "").strip()
                try:
                    if inner.endswith("DtTm"):
                        return datetime.fromisoformat(value).date()
                    return date.fromisoformat(value)
                except ValueError:
                    problem = f"'{value[:40]}' is not an ISO date"
                    raise MalformedMessage(
                        f"{self.base}/{path}/{inner}", problem, code=code
                    ) from None
        raise MalformedMessage(f"{self.base}/{path}", "is missing", code=code)
