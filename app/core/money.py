"""Exact decimals for money, prices, quantities and rates; rounding happens here and only here.

In JSON every such value is a string (``"1234.50"``); input also takes integers, never floats,
because a float has already lost the exact value before we see it.
"""

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from app.core.identifiers import currency_minor_units

MAX_SIGNIFICANT_DIGITS = 28
MAX_DECIMAL_PLACES = 12
_DECIMAL_PATTERN = r"^-?\d{1,28}(\.\d{1,12})?$"


# Plain decimal text within the limits below: its Decimal needs no further check (the common
# case, four times in every trade a batch parses; the checks below cost twice the parse).
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,28}(?:\.[0-9]{1,12})?")


def parse_decimal(value: Any) -> Decimal:
    if type(value) is str and _PLAIN_DECIMAL.fullmatch(value):
        return Decimal(value)
    if isinstance(value, (bool, float)):
        raise ValueError('must be a decimal string such as "1234.50", not a JSON float')
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            raise ValueError('must be a decimal string such as "1234.50"')
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"'{value}' is not a decimal number") from None
    else:
        raise ValueError('must be a decimal string such as "1234.50"')
    if not number.is_finite():
        raise ValueError("must be a finite number")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    if places > MAX_DECIMAL_PLACES:
        raise ValueError(f"has more than {MAX_DECIMAL_PLACES} decimal places")
    if number.adjusted() >= MAX_SIGNIFICANT_DIGITS:
        raise ValueError("is too large")
    # Normalise exponents such as 1E+2 to plain digits, keeping the given decimal places.
    return number.quantize(Decimal(1).scaleb(-places)) if exponent > 0 else number


def format_decimal(value: Decimal) -> str:
    """Plain notation, never exponent: ``Decimal('1E+2')`` becomes ``"100"``."""
    return format(value, "f")


_DECIMAL_SCHEMA = {"type": "string", "pattern": _DECIMAL_PATTERN, "examples": ["1234.50"]}

DecimalStr = Annotated[
    Decimal,
    BeforeValidator(parse_decimal),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
    WithJsonSchema(_DECIMAL_SCHEMA),
]
"""A decimal in the API: a JSON string on the way out, a string or integer on the way in."""

# Without a sign; positive: the decimal pattern's strings with a non-zero digit, one alternative
# per place of the first non-zero digit (whole part of at most 28 digits, at most 12 decimals).
_NON_NEGATIVE_PATTERN = r"^\d{1,28}(\.\d{1,12})?$"


def _first_non_zero(places: int) -> str:
    return "|".join(f"0{{{zeros}}}[1-9]\\d{{0,{places - 1 - zeros}}}" for zeros in range(places))


_POSITIVE_PATTERN = (
    rf"^(({_first_non_zero(MAX_SIGNIFICANT_DIGITS)})(\.\d{{1,{MAX_DECIMAL_PLACES}}})?"
    rf"|0{{1,{MAX_SIGNIFICANT_DIGITS}}}\.({_first_non_zero(MAX_DECIMAL_PLACES)}))$"
)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


POSITIVE_DECIMAL_SCHEMA = {**_DECIMAL_SCHEMA, "pattern": _POSITIVE_PATTERN}
"""For a rule checked elsewhere with its own message (a map of thresholds): the schema only."""

PositiveDecimalStr = Annotated[
    Decimal,
    BeforeValidator(parse_decimal),
    AfterValidator(_positive),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
    WithJsonSchema(POSITIVE_DECIMAL_SCHEMA),
]
"""A decimal greater than zero (prices, quantities, units); the pattern says so."""

NonNegativeDecimalStr = Annotated[
    Decimal,
    BeforeValidator(parse_decimal),
    AfterValidator(_not_negative),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
    WithJsonSchema({**_DECIMAL_SCHEMA, "pattern": _NON_NEGATIVE_PATTERN}),
]
"""A decimal of zero or more (tolerances, rates); the pattern has no sign."""


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor units, half-even: the one place money is rounded."""
    return amount.quantize(_minor_unit(currency), ROUND_HALF_EVEN)


@lru_cache(maxsize=512)  # every amount of every trade is rounded
def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_minor_units(currency))


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def is_multiple_of(value: Decimal, unit: Decimal) -> bool:
    return unit > 0 and value % unit == 0
