"""ISO 15022 messages (the MT5xx securities family) read strictly: the {4: ... -} block with or
without blocks 1 and 2 around it, several messages a file, CRLF or LF, a missing final line
break; fields with their continuation lines and line numbers; :16R:/:16S: sequences nested as
blocks. ``fin_message`` reads one message with its basic and application headers (who sent
it). The meaning of the fields is for the message's own module (reconciliation's MT535,
settlement's MT548 and MT544-547). Pure: no database."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_TAG = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_BLOCK_4 = re.compile(r"\{4:")
_BLOCK_2 = re.compile(r"\{2:[IO](\d{3})")
# :QUAL//value or :QUAL/ISSUER/value (a data source scheme names the issuer)
_QUALIFIED = re.compile(r"^:([A-Z0-9]{4})/([A-Z0-9]{0,8})/(.*)$", re.DOTALL)


class Iso15022Error(ValueError):
    """A message that cannot be read, with where: a line number (and the field)."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location


@dataclass(frozen=True, slots=True)
class Field:
    tag: str
    value: str  # continuation lines joined by newlines
    line: int

    @property
    def where(self) -> str:
        return f"line {self.line}"

    def qualified(self) -> tuple[str, str, str]:
        """(qualifier, issuer, the rest) of a generic field such as :98A::STAT//20261124."""
        match = _QUALIFIED.match(self.value)
        if match is None:
            raise Iso15022Error(
                f":{self.tag}: '{self.value}' is not ':QUALIFIER//value'", location=self.where
            )
        return match[1], match[2], match[3]


@dataclass(slots=True)
class Sequence:
    """A :16R: ... :16S: sequence: its own fields and the sequences nested in it."""

    name: str
    line: int
    fields: list[Field] = field(default_factory=list)
    sequences: list["Sequence"] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"line {self.line}"

    def named(self, name: str) -> list["Sequence"]:
        return [sequence for sequence in self.sequences if sequence.name == name]

    def qualified(self, tag_prefix: str, qualifier: str) -> list[tuple[Field, str]]:
        """This sequence's fields of a tag (98A, 98C, ...) and qualifier, with what follows it."""
        found = []
        for item in self.fields:
            if item.tag.startswith(tag_prefix):
                code, _issuer, rest = item.qualified()
                if code == qualifier:
                    found.append((item, rest))
        return found


def messages(text: str, *, message_type: str) -> list[list[Sequence]]:
    """The top-level sequences of every message in the file, message by message."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [_sequences(body, first_line) for body, first_line in _bodies(text, message_type)]


def _bodies(text: str, message_type: str) -> Iterator[tuple[str, int]]:
    """Each block 4's text and the line it starts on; the whole file when there is no {4:."""
    starts = [match.start() for match in _BLOCK_4.finditer(text)]
    if not starts:
        yield text, 1
        return
    previous_end = 0
    for start in starts:
        line = text.count("\n", 0, start) + 1
        header = _BLOCK_2.search(text, previous_end, start)
        if header is not None and header[1] != message_type:
            raise Iso15022Error(
                f"block 2 says MT{header[1]}, not MT{message_type}", location=f"line {line}"
            )
        end = text.find("\n-}", start)
        if end < 0:
            raise Iso15022Error("block 4 is not closed by '-}'", location=f"line {line}")
        yield text[start + 3 : end], line
        previous_end = end + 3


def _fields(body: str, first_line: int) -> Iterator[Field]:
    tag: str | None = None
    lines: list[str] = []
    start = first_line
    for number, line in enumerate(body.split("\n"), start=first_line):
        match = _TAG.match(line)
        if match is not None:
            if tag is not None:
                yield Field(tag, "\n".join(lines), start)
            tag, lines, start = match[1], [match[2]], number
        elif not line.strip() or line.strip() == "-":
            continue  # blank lines between messages, the "-" that ends a bare block 4
        elif tag is None:
            raise Iso15022Error(
                f"text outside a field: {line.strip()[:40]!r}", location=f"line {number}"
            )
        else:
            lines.append(line.rstrip())
    if tag is not None:
        yield Field(tag, "\n".join(lines), start)


def _sequences(body: str, first_line: int) -> list[Sequence]:
    root = Sequence("", first_line)
    stack = [root]
    for item in _fields(body, first_line):
        if item.tag == "16R":
            nested = Sequence(item.value.strip(), item.line)
            stack[-1].sequences.append(nested)
            stack.append(nested)
        elif item.tag == "16S":
            if len(stack) == 1 or stack[-1].name != item.value.strip():
                opened = stack[-1]
                raise Iso15022Error(
                    f":16S:{item.value.strip()} does not close :16R:{opened.name or '(none)'}"
                    + (f" opened at line {opened.line}" if len(stack) > 1 else ""),
                    location=item.where,
                )
            stack.pop()
        elif len(stack) == 1:
            raise Iso15022Error(f":{item.tag}: is outside any sequence", location=item.where)
        else:
            stack[-1].fields.append(item)
    if len(stack) > 1:
        raise Iso15022Error(f":16R:{stack[-1].name} is never closed", location=stack[-1].where)
    return root.sequences


# Block 1: F01 + the logical terminal (12) + session (4) + sequence (6).
_BASIC_HEADER = re.compile(r"\{1:F01([A-Z0-9]{12})\d{10}\}")
# Block 2 output: O + type + input time (4) + the MIR: date (6), the sender's logical terminal
# (12), session and sequence; then the output date and time and an optional priority.
# Block 2 input: I + type + the receiver's address (the sender is then block 1's terminal).
_APPLICATION_HEADER = re.compile(r"\{2:(?:O(\d{3})\d{4}\d{6}([A-Z0-9]{12})|I(\d{3})[A-Z0-9]{12})")


@dataclass(frozen=True, slots=True)
class FinMessage:
    # "548", "545", ...: from block 2; None for a block 4 sent alone.
    message_type: str | None
    # The sender's BIC (11 characters) from its logical terminal; None without the headers.
    sender: str | None
    sequences: list[Sequence]


def terminal_bic(terminal: str) -> str:
    """The BIC of a 12-character logical terminal address: the BIC8, then (after the terminal
    code) the branch, so ``MGTCBEBEAECL`` is ``MGTCBEBEECL``."""
    return terminal[:8] + terminal[9:12]


def fin_message(text: str) -> FinMessage:
    """One message: blocks 1, 2 and 4 (3 and 5 are skipped), or the text of block 4 alone
    (with or without its ``{4:`` and ``-}``). Several messages in one text are refused."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = [match.start() for match in _BLOCK_4.finditer(text)]
    if len(starts) > 1:
        line = text.count("\n", 0, starts[1]) + 1
        raise Iso15022Error("a second message: send one at a time", location=f"line {line}")
    if not starts:
        return FinMessage(None, None, _sequences(text, 1))
    headers = text[: starts[0]]
    (body, line), *_ = _bodies(text[starts[0] :], "")
    basic = _BASIC_HEADER.search(headers)
    application = _APPLICATION_HEADER.search(headers)
    if "{2:" in headers and application is None:
        raise Iso15022Error("block 2 is not an MT application header", location="line 1")
    if "{1:" in headers and basic is None:
        raise Iso15022Error("block 1 is not an F01 basic header", location="line 1")
    message_type = sender = None
    if application is not None:
        message_type = application[1] or application[3]
        output_terminal = application[2]
        if output_terminal is not None:
            sender = terminal_bic(output_terminal)
        elif basic is not None:
            sender = terminal_bic(basic[1])
    first_line = headers.count("\n") + line
    return FinMessage(message_type, sender, _sequences(body, first_line))
