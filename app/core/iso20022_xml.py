"""Reading ISO 20022 XML by namespace for the message parsers (camt.05x and semt.002 in
reconciliation, semt.044 in penalties): DTDs and entities refused (defusedxml), each element with
the path it was reached by so that every refusal names it, raised as the format's own parse
error. Pure: no database."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class LocatedError(Protocol):
    """A format's parse error: ``StatementParseError``, ``HoldingsParseError``."""

    def __call__(self, message: str, *, location: str) -> Exception: ...


def parse_xml(data: bytes, *, error: LocatedError) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as problem:
        line, _column = problem.position
        raise error(f"not well-formed XML ({problem})", location=f"line {line}") from None
    except DefusedXmlException as problem:
        raise error(
            f"DTDs and entities are refused ({type(problem).__name__})",
            location=_declaration_line(data),
        ) from None


def _declaration_line(data: bytes) -> str:
    """Where the refused declaration starts; only used to word the refusal."""
    offsets = [
        offset for marker in (b"<!DOCTYPE", b"<!ENTITY") if (offset := data.find(marker)) >= 0
    ]
    newline = b"\n"
    return f"line {data.count(newline, 0, min(offsets)) + 1}" if offsets else "line 1"


def split_tag(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element tag; the namespace is "" when there is none."""
    if tag.startswith("{"):
        namespace, _, local_name = tag[1:].partition("}")
        return namespace, local_name
    return "", tag


@dataclass(frozen=True, slots=True)
class Node:
    """An element with the path it was reached by, so every refusal can say where."""

    element: Element
    path: str
    namespace: str
    error: LocatedError  # what a refusal raises

    def _tag(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}"

    def _at(self, element: Element, path: str) -> "Node":
        return Node(element, path, self.namespace, self.error)

    @property
    def name(self) -> str:
        return split_tag(self.element.tag)[1]

    def find(self, name: str) -> "Node | None":
        """The first element at a relative path ("StmtDtTm/Dt"), or None."""
        node = self
        for step in name.split("/"):
            found = node.element.find(node._tag(step))
            if found is None:
                return None
            node = self._at(found, f"{node.path}/{step}")
        return node

    def require(self, name: str) -> "Node":
        node = self.find(name)
        if node is None:
            raise self.error("required element is missing", location=f"{self.path}/{name}")
        return node

    def children(self, name: str) -> Iterator["Node"]:
        for index, child in enumerate(self.element.findall(self._tag(name)), start=1):
            yield self._at(child, f"{self.path}/{name}[{index}]")

    def first_descendant(self, names: tuple[str, ...]) -> "Node | None":
        """The first element, in document order, whose local name is one of ``names``."""
        for child in self.element:
            child_name = split_tag(child.tag)[1]
            node = self._at(child, f"{self.path}/{child_name}")
            if child_name in names:
                return node
            found = node.first_descendant(names)
            if found is not None:
                return found
        return None

    @property
    def text(self) -> str:
        return (self.element.text or "").strip()

    def text_of(self, name: str) -> str | None:
        node = self.find(name)
        return node.text or None if node is not None else None
