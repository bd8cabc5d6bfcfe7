"""Exact decimals: what the API accepts, how it prints them, and half-even rounding per currency."""

import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.money import (
    _DECIMAL_PATTERN,
    DecimalStr,
    decimal_places,
    format_decimal,
    is_multiple_of,
    parse_decimal,
    round_money,
)

ADAPTER: TypeAdapter[Decimal] = TypeAdapter(DecimalStr)


class Amount(BaseModel):
    amount: DecimalStr


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1234.50", "1234.50"),
        ("0", "0"),
        ("-0.01", "-0.01"),
        ("  7.10 ", "7.10"),
        ("1E+2", "100"),
        ("1.5E+3", "1500"),
        ("1e-12", "0.000000000001"),
        ("0.000000000001", "0.000000000001"),
        (1234, "1234"),
        (0, "0"),
        (-5, "-5"),
        (Decimal("189.25"), "189.25"),
        ("9" * 28, "9" * 28),
        ("9" * 28 + ".123456789012", "9" * 28 + ".123456789012"),
    ],
)
def test_parse_decimal_accepts_exact_decimal_strings_and_integers(
    given: Any, expected: str
) -> None:
    parsed = parse_decimal(given)
    assert isinstance(parsed, Decimal)
    assert format_decimal(parsed) == expected


def test_parse_decimal_keeps_the_scale_it_was_given() -> None:
    parsed = parse_decimal("1234.50")
    assert parsed.as_tuple() == Decimal("1234.50").as_tuple()
    assert decimal_places(parsed) == 2
    assert format_decimal(parsed) == "1234.50"


@pytest.mark.parametrize(
    "text",
    ["0", "-0", "0.000", "00012.50", "-1.5", "9" * 28, "-" + "9" * 28 + "." + "9" * 12, "1.0"],
)
def test_plain_text_parses_as_the_full_checks_parse_it(text: str) -> None:
    """Plain decimal text takes a quicker way (spaces around it take the full checks): the
    same value, the same scale."""
    quick, checked = parse_decimal(text), parse_decimal(f" {text} ")
    assert quick.as_tuple() == checked.as_tuple() == Decimal(text).as_tuple()


def test_parse_decimal_normalises_a_positive_exponent_to_plain_digits() -> None:
    parsed = parse_decimal("1E+2")
    assert parsed.as_tuple() == Decimal("100").as_tuple()
    assert str(parsed) == "100"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (1.5, 'must be a decimal string such as "1234.50", not a JSON float'),
        (2.0, 'must be a decimal string such as "1234.50", not a JSON float'),
        (True, 'must be a decimal string such as "1234.50", not a JSON float'),
        (False, 'must be a decimal string such as "1234.50", not a JSON float'),
        ("NaN", "must be a finite number"),
        ("sNaN", "must be a finite number"),
        ("Infinity", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
        (Decimal("NaN"), "must be a finite number"),
        ("", 'must be a decimal string such as "1234.50"'),
        ("   ", 'must be a decimal string such as "1234.50"'),
        ("1" * 65, 'must be a decimal string such as "1234.50"'),
        ("abc", "'abc' is not a decimal number"),
        ("1,5", "'1,5' is not a decimal number"),
        ("0.1234567890123", "has more than 12 decimal places"),
        ("1E-13", "has more than 12 decimal places"),
        ("1" * 29, "is too large"),
        ("1E+28", "is too large"),
        (10**28, "is too large"),
        (None, 'must be a decimal string such as "1234.50"'),
        ([1], 'must be a decimal string such as "1234.50"'),
    ],
)
def test_parse_decimal_refuses_what_is_not_an_exact_bounded_decimal(
    given: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=r"^" + re.escape(message) + "$"):
        parse_decimal(given)


@pytest.mark.parametrize(
    ("raw_json", "expected"),
    [
        ('{"amount": "1234.50"}', "1234.50"),
        ('{"amount": 1234}', "1234"),
        ('{"amount": "-0.01"}', "-0.01"),
        ('{"amount": "1E+2"}', "100"),
    ],
)
def test_decimal_str_reads_json_strings_and_integers(raw_json: str, expected: str) -> None:
    model = Amount.model_validate_json(raw_json)
    assert model.amount == Decimal(expected)
    assert format_decimal(model.amount) == expected
    assert model.model_dump_json() == f'{{"amount":"{expected}"}}'


@pytest.mark.parametrize(
    "raw_json",
    [
        '{"amount": 1.5}',
        '{"amount": 2.0}',
        '{"amount": 1e2}',
        '{"amount": true}',
        '{"amount": "NaN"}',
        '{"amount": "Infinity"}',
        '{"amount": ""}',
        '{"amount": "abc"}',
        '{"amount": "0.0000000000001"}',
        '{"amount": "10000000000000000000000000000"}',
        '{"amount": null}',
    ],
)
def test_decimal_str_refuses_json_floats_and_non_numbers(raw_json: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Amount.model_validate_json(raw_json)
    errors = caught.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("amount",)
    assert errors[0]["type"] == "value_error"


def test_decimal_str_is_a_string_in_json_and_a_decimal_in_python() -> None:
    model = Amount(amount=Decimal("1234.50"))
    assert model.model_dump() == {"amount": Decimal("1234.50")}
    assert model.model_dump(mode="json") == {"amount": "1234.50"}
    assert ADAPTER.dump_json(Decimal("1E+5")) == b'"100000"'


def test_decimal_str_json_schema_is_a_patterned_string() -> None:
    assert ADAPTER.json_schema() == {
        "type": "string",
        "pattern": r"^-?\d{1,28}(\.\d{1,12})?$",
        "examples": ["1234.50"],
    }


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "-0.01",
        "1234.50",
        "9" * 27,
        "9" * 28,
        "9" * 29,
        "1." + "0" * 12,
        "1." + "0" * 13,
        "-" + "9" * 28 + "." + "9" * 12,
    ],
)
def test_the_published_pattern_and_the_parser_agree_on_plain_numbers(text: str) -> None:
    """The OpenAPI pattern promises what the parser does, at the size limits too."""
    matches = re.match(_DECIMAL_PATTERN, text) is not None
    try:
        parse_decimal(text)
        parsed = True
    except ValueError:
        parsed = False
    assert parsed is matches


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.12"),
        ("0.135", "USD", "0.14"),
        ("0.145", "USD", "0.14"),
        ("-0.125", "USD", "-0.12"),
        ("-0.135", "USD", "-0.14"),
        ("0.1251", "USD", "0.13"),
        ("100", "USD", "100.00"),
        ("18926.515", "USD", "18926.52"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("2.51", "JPY", "3"),
        ("1500", "JPY", "1500"),
        ("1.0005", "BHD", "1.000"),
        ("1.0015", "BHD", "1.002"),
        ("7", "BHD", "7.000"),
        ("0.005", "EUR", "0.00"),
        ("0.015", "EUR", "0.02"),
    ],
)
def test_round_money_is_half_even_to_the_currency_minor_units(
    amount: str, currency: str, expected: str
) -> None:
    rounded = round_money(Decimal(amount), currency)
    assert format_decimal(rounded) == expected
    assert rounded.as_tuple() == Decimal(expected).as_tuple()


def test_round_money_refuses_a_currency_without_minor_units() -> None:
    with pytest.raises(ValueError, match=r"^XAU has no minor units$"):
        round_money(Decimal("1.5"), "XAU")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("1E+5"), "100000"),
        (Decimal("1.20E+3"), "1200"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("1E-12"), "0.000000000001"),
        (Decimal("-0.00"), "-0.00"),
        (Decimal("1234.50"), "1234.50"),
        (Decimal("123456789012345678.123456789"), "123456789012345678.123456789"),
    ],
)
def test_format_decimal_never_uses_an_exponent(value: Decimal, expected: str) -> None:
    formatted = format_decimal(value)
    assert formatted == expected
    assert "E" not in formatted.upper()


@pytest.mark.parametrize(
    ("value", "places"),
    [("1234.50", 2), ("100", 0), ("1E+2", 0), ("0.000000000001", 12), ("-0.1", 1)],
)
def test_decimal_places_counts_digits_after_the_point(value: str, places: int) -> None:
    assert decimal_places(Decimal(value)) == places


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("300", "100", True),
        ("250", "100", False),
        ("0.75", "0.25", True),
        ("0.70", "0.25", False),
        ("5", "0", False),
        ("5", "-1", False),
    ],
)
def test_is_multiple_of_needs_a_positive_unit(value: str, unit: str, expected: bool) -> None:
    assert is_multiple_of(Decimal(value), Decimal(unit)) is expected
