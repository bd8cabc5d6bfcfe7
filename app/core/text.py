"""Free text in the API: printable only (PostgreSQL refuses NUL)."""

import re
from typing import Annotated

from pydantic import AfterValidator

# For identifiers in schemas (StringConstraints): documented and enforced in one pattern.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(value: str) -> str:
    """Refuse control characters other than tab and line breaks."""
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


PrintableStr = Annotated[str, AfterValidator(printable)]
