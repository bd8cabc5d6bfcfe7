"""Which format a statement file is in: from its ``Content-Type`` where that says, else from
its first bytes. Pure: no database."""

import re
from enum import StrEnum


class StatementFormat(StrEnum):
    CAMT = "camt"  # ISO 20022 camt.052 / camt.053 / camt.054 XML
    SWIFT = "swift"  # MT940 / MT950 / MT942
    CSV = "csv"  # read through a named column mapping
    JSON = "json"


_BY_CONTENT_TYPE = {
    "application/xml": StatementFormat.CAMT,
    "text/xml": StatementFormat.CAMT,
    "application/json": StatementFormat.JSON,
    "text/csv": StatementFormat.CSV,
}
# A SWIFT message: block headers, or the statement's reference and account tags.
_SWIFT = re.compile(rb"^\{1:|^:20:.*?^:25:", re.MULTILINE | re.DOTALL)


def detect_format(data: bytes, *, content_type: str | None = None) -> StatementFormat | None:
    """The format, or None when neither the content type nor the content tells."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[media]
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return StatementFormat.CAMT
    if head.startswith((b'{"', b"{ ", b"{\n", b"{\r", b"[")) or head == b"{}":
        return StatementFormat.JSON
    if _SWIFT.search(head):
        return StatementFormat.SWIFT
    return None
