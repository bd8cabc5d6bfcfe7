"""A small XML tree written as indented text: the answers' element order is the contract's."""

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr


@dataclass
class Node:
    tag: str
    text: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    children: list["Node"] = field(default_factory=list)


def node(tag: str, *children: Node | None, text: str | None = None, **attributes: str) -> Node:
    """An element; None children are left out, so optional parts read inline."""
    return Node(tag, text, attributes, [child for child in children if child is not None])


def path(steps: str, text: str, **attributes: str) -> Node:
    """``path("Dt/Dt", "2026-11-26")``: nested elements down to one text, attributes on the last."""
    names = steps.split("/")
    built = Node(names[-1], text, attributes)
    for name in reversed(names[:-1]):
        built = Node(name, None, {}, [built])
    return built


def _lines(element: Node, level: int) -> list[str]:
    pad = "  " * level
    attributes = "".join(
        f" {name}={quoteattr(value)}" for name, value in element.attributes.items()
    )
    if element.children:
        inner = [line for child in element.children for line in _lines(child, level + 1)]
        return [f"{pad}<{element.tag}{attributes}>", *inner, f"{pad}</{element.tag}>"]
    if element.text is None:
        return [f"{pad}<{element.tag}{attributes}/>"]
    return [f"{pad}<{element.tag}{attributes}>{escape(element.text)}</{element.tag}>"]


def document_text(root: Node) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', *_lines(root, 0)]
    return ("\n".join(lines) + "\n").encode()
