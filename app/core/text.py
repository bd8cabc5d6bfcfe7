"""Free text in the API: printable only (PostgreSQL refuses NUL), and the OpenAPI document says so.

``Printable`` and ``PrintableNonBlank`` go into an ``Annotated`` string type: each refuses
control characters other than tab and line breaks and publishes the pattern that states the
same rule, so what the request parser refuses, the schema refuses first.
"""

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# For identifiers in schemas (StringConstraints): documented and enforced in one pattern.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# Free text: any character but the control characters `printable` refuses.
TEXT_PATTERN = rf"^{_ALLOWED}*$"
# Free text whose surrounding white space is removed and which may not be blank: at least one
# character that is neither a control character nor Unicode white space (what a strip removes).
# The strip takes Unicode white space off both ends, vertical tab and form feed included, so
# those may surround the text though `printable` refuses them inside it.
_SPACE = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_VISIBLE = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
NON_BLANK_TEXT_PATTERN = rf"^{_SPACE}*{_ALLOWED}*{_VISIBLE}{_ALLOWED}*{_SPACE}*$"


def printable(value: str) -> str:
    """Refuse control characters other than tab and line breaks."""
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


class _PrintableRule:
    """Checks ``printable`` after the string's own constraints and publishes ``pattern``."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(printable, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


Printable = _PrintableRule(TEXT_PATTERN)
"""Free text: no control characters but tab and line breaks."""
PrintableNonBlank = _PrintableRule(NON_BLANK_TEXT_PATTERN)
"""Free text that is stripped and must keep a character: pair with ``strip_whitespace=True``
and ``min_length=1``."""

PrintableStr = Annotated[str, Printable]


def at_most(length: int) -> BeforeValidator:
    """Before a strip: at most ``length`` characters as sent, as the schema's `maxLength`
    counts them (after the strip, padding would let longer text through)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > length:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": length},
            )
        return value

    return BeforeValidator(check)
