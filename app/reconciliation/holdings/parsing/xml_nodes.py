"""Reading ISO 20022 XML by namespace, each element with the path it was reached by so that
every refusal names it; DTDs and entities refused (defusedxml). Pure: no database."""

from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from app.reconciliation.holdings.parsing.model import HoldingsParseError


def parse_xml(data: bytes) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as error:
        line, _column = error.position
        raise HoldingsParseError(
            f"not well-formed XML ({error})", location=f"line {line}"
        ) from None
    except DefusedXmlException as error:
        raise HoldingsParseError(
            f"DTDs and entities are refused ({type(error).__name__})", location="line 1"
        ) from None


def split_tag(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element tag; the namespace is "" when there is none."""
    if tag.startswith("{"):
        namespace, _, local_name = tag[1:].partition("}")
        return namespace, local_name
    return "", tag


@dataclass(frozen=True, slots=True)
class Node:
    element: Element
    path: str
    namespace: str

    def _tag(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}"

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
            node = Node(found, f"{node.path}/{step}", self.namespace)
        return node

    def require(self, name: str) -> "Node":
        node = self.find(name)
        if node is None:
            raise HoldingsParseError("required element is missing", location=f"{self.path}/{name}")
        return node

    def children(self, name: str) -> Iterator["Node"]:
        for index, child in enumerate(self.element.findall(self._tag(name)), start=1):
            yield Node(child, f"{self.path}/{name}[{index}]", self.namespace)

    def first_descendant(self, names: tuple[str, ...]) -> "Node | None":
        """The first element, in document order, whose local name is one of ``names``."""
        for child in self.element:
            child_name = split_tag(child.tag)[1]
            node = Node(child, f"{self.path}/{child_name}", self.namespace)
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
