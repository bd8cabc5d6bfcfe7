"""ISO 15022 (SWIFT MT) text: fields by sequence, the decimal comma, LT addresses, the X set."""

import re
from dataclasses import dataclass
from decimal import Decimal

from csd_sim.messages.instruction import MalformedMessage

_FIELD = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d*$")
# The SWIFT X character set, less CR and LF (free text is cut into lines apart).
_NOT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


@dataclass(frozen=True)
class Field:
    tag: str
    value: str
    # The sequences the field sits in, outermost first, e.g. ("SETDET", "SETPRTY").
    sequence: tuple[str, ...]

    @property
    def qualifier(self) -> str | None:
        """``SEME`` of ``:SEME//X``."""
        if self.value.startswith(":"):
            return self.value[1:].split("/", 1)[0]
        return None

    @property
    def data(self) -> str:
        """What follows ``:QUAL//`` (or ``:QUAL/ISSR/`` keeps ``ISSR/...``)."""
        if not self.value.startswith(":"):
            return self.value
        rest = self.value[1:].split("/", 1)[1] if "/" in self.value else ""
        return rest[1:] if rest.startswith("/") else rest


def block4(text: str) -> str:
    """The text block of a message: ``{4:...-}`` when given whole, else the text as it is."""
    start = text.find("{4:")
    if start < 0:
        return text
    body = text[start + 3 :]
    end = body.rfind("-}")
    return body if end < 0 else body[:end]


def fields(text: str) -> list[Field]:
    """Every field of block 4 with its sequence path (16R opens one, 16S closes it)."""
    found: list[Field] = []
    open_sequences: list[str] = []
    lines = [line.rstrip("\r") for line in block4(text).split("\n")]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _FIELD.match(line)
        if match is None:
            if not found:
                raise MalformedMessage(f"line {number}", "is not a field (:TAG:value)")
            last = found[-1]
            found[-1] = Field(last.tag, f"{last.value}\n{line}", last.sequence)
            continue
        tag, value = match.groups()
        if tag == "16R":
            open_sequences.append(value)
        elif tag == "16S":
            if not open_sequences or open_sequences[-1] != value:
                raise MalformedMessage(f":16S:{value}", "closes a sequence that is not open")
            open_sequences.pop()
        else:
            found.append(Field(tag, value, tuple(open_sequences)))
    if open_sequences:
        raise MalformedMessage(f":16R:{open_sequences[-1]}", "is never closed")
    return found


def parse_amount(value: str, where: str, *, code: str = "OTHR") -> Decimal:
    if not _DECIMAL_COMMA.match(value):
        raise MalformedMessage(where, f"'{value[:40]}' is not a decimal with a comma", code=code)
    return Decimal(value.replace(",", "."))


def format_amount(value: Decimal) -> str:
    """``400000,`` or ``316031,78``: the decimal comma, always present, no trailing zeros."""
    whole, _, fraction = f"{value:f}".partition(".")
    return f"{whole},{fraction.rstrip('0')}"


def logical_terminal(bic: str) -> str:
    """The 12-character LT address of a BIC: BIC8, terminal code A, branch (XXX by default)."""
    return f"{bic[:8]}A{bic[8:11] or 'XXX'}"


def x_text(text: str, *, width: int = 35, lines: int = 6) -> list[str]:
    """Free text in the X set, cut into at most ``lines`` lines of ``width``."""
    clean = _NOT_X.sub(" ", text).strip() or "-"
    return [clean[i : i + width] for i in range(0, len(clean), width)][:lines]
