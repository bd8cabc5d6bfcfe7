"""Checks every holdings format shares: an ISIN with its check digit, a finite quantity.
Pure: no database."""

import re
from decimal import Decimal

from stdnum import isin as stdnum_isin
from stdnum.exceptions import ValidationError as StdnumError

from app.reconciliation.holdings.parsing.model import HoldingsParseError

_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")


def checked_isin(value: str, *, location: str) -> str:
    """The ISIN, upper case; refused naming ``location`` when it is empty or invalid."""
    candidate = value.strip().upper()
    if not candidate:
        raise HoldingsParseError("no ISIN", location=location)
    try:
        return str(stdnum_isin.validate(candidate))
    except StdnumError as error:
        raise HoldingsParseError(
            f"'{candidate}' is not a valid ISIN ({error})", location=location
        ) from None


def checked_decimal(text: str, *, what: str, location: str) -> Decimal:
    """A plain decimal with a point ("1000", "-12.5"); no exponent, no thousands separators."""
    cleaned = text.strip()
    if not _DECIMAL.match(cleaned):
        raise HoldingsParseError(f"{what} '{text}' is not a decimal", location=location)
    return Decimal(cleaned)
