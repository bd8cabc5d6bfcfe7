"""Which format a holdings file is in: from ``?format=``, else its ``Content-Type`` where that
says, else its first bytes. Pure: no database."""

import re
from enum import StrEnum


class HoldingsFormat(StrEnum):
    SEMT002 = "semt002"  # ISO 20022 semt.002 XML
    MT535 = "mt535"  # SWIFT MT535
    CSV = "csv"
    JSON = "json"


_BY_CONTENT_TYPE = {
    "application/xml": HoldingsFormat.SEMT002,
    "text/xml": HoldingsFormat.SEMT002,
    "application/json": HoldingsFormat.JSON,
    "text/csv": HoldingsFormat.CSV,
}
# A SWIFT message: block headers, or a bare block 4 opening its GENL sequence.
_SWIFT = re.compile(rb"^(\{[1-4]:|:16R:GENL)")
_CSV_HEADER = re.compile(rb"^[^\r\n]*\bisin\b", re.IGNORECASE)


def detect_format(data: bytes, *, content_type: str | None = None) -> HoldingsFormat | None:
    """The format, or None when neither the content type nor the content tells."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[media]
    if media.endswith("+xml"):
        return HoldingsFormat.SEMT002
    if media.endswith("+json"):
        return HoldingsFormat.JSON
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return HoldingsFormat.SEMT002
    if _SWIFT.match(head):
        return HoldingsFormat.MT535
    if head.startswith((b"{", b"[")):
        return HoldingsFormat.JSON
    if _CSV_HEADER.match(head):
        return HoldingsFormat.CSV
    return None
