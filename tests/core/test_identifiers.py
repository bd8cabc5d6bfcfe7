"""External identifiers: ISIN, LEI, BIC, IBAN, ISO 4217 currencies and MICs through pydantic."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from app.core.identifiers import (
    BIC_PATTERN,
    CURRENCY_PATTERN,
    IBAN_PATTERN,
    ISIN_PATTERN,
    LEI_PATTERN,
    MIC_PATTERN,
    Bic,
    Currency,
    Iban,
    Isin,
    Lei,
    Mic,
    currency_minor_units,
    validate_bic,
    validate_currency,
)


class Identifiers(BaseModel):
    isin: Isin | None = None
    lei: Lei | None = None
    bic: Bic | None = None
    iban: Iban | None = None
    currency: Currency | None = None
    mic: Mic | None = None


def _only_error(field: str, value: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Identifiers.model_validate({field: value})
    errors = caught.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == (field,)
    return dict(errors[0])


@pytest.mark.parametrize(
    ("field", "given", "stored"),
    [
        ("isin", "US0378331005", "US0378331005"),  # Apple
        ("isin", "us0378331005", "US0378331005"),
        ("isin", " DE0001102614 ", "DE0001102614"),  # Bund 2053
        ("lei", "W22LROWP2IHZNBB6K528", "W22LROWP2IHZNBB6K528"),  # Apple Inc.
        ("lei", "w22lrowp2ihznbb6k528", "W22LROWP2IHZNBB6K528"),
        ("lei", "7LTWFZYICNSX8D621K86", "7LTWFZYICNSX8D621K86"),  # Deutsche Bank
        ("bic", "DEUTDEFF", "DEUTDEFF"),
        ("bic", "DEUTDEFFXXX", "DEUTDEFF"),
        ("bic", "deutdeffxxx", "DEUTDEFF"),
        ("bic", "deutdeff500", "DEUTDEFF500"),
        ("iban", "DE89370400440532013000", "DE89370400440532013000"),
        ("iban", "de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("iban", "GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("currency", "USD", "USD"),
        ("currency", "usd", "USD"),
        ("currency", "JPY", "JPY"),
        ("currency", "BHD", "BHD"),
        ("currency", " eur ", "EUR"),
        ("mic", "XNYS", "XNYS"),
        ("mic", "xpar", "XPAR"),
    ],
)
def test_valid_identifiers_are_accepted_and_stored_in_canonical_form(
    field: str, given: str, stored: str
) -> None:
    model = Identifiers.model_validate({field: given})
    assert getattr(model, field) == stored


@pytest.mark.parametrize(
    ("field", "given", "message"),
    [
        (
            "isin",
            "US0378331006",
            "Value error, is not a valid ISIN: The number's checksum or check digit is invalid.",
        ),
        (
            "isin",
            "US037833100",
            "Value error, is not a valid ISIN: The number has an invalid length.",
        ),
        (
            "lei",
            "W22LROWP2IHZNBB6K529",
            "Value error, is not a valid LEI: The number's checksum or check digit is invalid.",
        ),
        (
            "bic",
            "DEUT1EFF",
            "Value error, is not a valid BIC: The number has an invalid format.",
        ),
        (
            "bic",
            "DEUTDE",
            "Value error, is not a valid BIC: The number has an invalid length.",
        ),
        (
            "iban",
            "DE89370400440532013001",
            "Value error, is not a valid IBAN: The number's checksum or check digit is invalid.",
        ),
        (
            "currency",
            "XAU",
            "Value error, 'XAU' is not a currency with minor units (a fund or metal code)",
        ),
        (
            "currency",
            "XXX",
            "Value error, 'XXX' is not a currency with minor units (a fund or metal code)",
        ),
        ("currency", "ZZZ", "Value error, 'ZZZ' is not an ISO 4217 currency code"),
        ("currency", "US", "Value error, is not an ISO 4217 currency code"),
        ("currency", "U5D", "Value error, is not an ISO 4217 currency code"),
        ("mic", "XNY", "Value error, is not an ISO 10383 MIC (four letters or digits)"),
        ("mic", "XN-S", "Value error, is not an ISO 10383 MIC (four letters or digits)"),
    ],
)
def test_invalid_identifiers_are_refused_with_a_message_naming_the_kind(
    field: str, given: str, message: str
) -> None:
    error = _only_error(field, given)
    assert error["type"] == "value_error"
    assert error["msg"] == message


@pytest.mark.parametrize("field", ["isin", "lei", "bic", "iban", "currency", "mic"])
def test_identifiers_must_be_strings(field: str) -> None:
    error = _only_error(field, 1234)
    assert error["type"] == "string_type"


def test_validate_bic_shortens_only_the_primary_office_branch() -> None:
    assert validate_bic("DEUTDEFFXXX") == "DEUTDEFF"
    assert validate_bic("DEUTDEFF500") == "DEUTDEFF500"
    assert validate_bic("DEUTDEFF") == "DEUTDEFF"


def test_validate_currency_expects_the_upper_cased_code() -> None:
    assert validate_currency("CHF") == "CHF"
    with pytest.raises(ValueError, match=r"^is not an ISO 4217 currency code$"):
        validate_currency("CHFX")


@pytest.mark.parametrize(
    ("code", "units"),
    [("JPY", 0), ("KRW", 0), ("USD", 2), ("EUR", 2), ("GBP", 2), ("BHD", 3), ("KWD", 3)],
)
def test_currency_minor_units_come_from_iso_4217(code: str, units: int) -> None:
    assert currency_minor_units(code) == units


def test_currency_minor_units_refuses_codes_without_minor_units() -> None:
    with pytest.raises(ValueError, match=r"^XAU has no minor units$"):
        currency_minor_units("XAU")


def test_currency_minor_units_refuses_unknown_codes() -> None:
    with pytest.raises(ValueError, match="ZZZ"):
        currency_minor_units("ZZZ")


def test_identifier_schemas_are_strings_with_real_examples() -> None:
    schema = Identifiers.model_json_schema()["properties"]
    examples = {
        name: next(option for option in prop["anyOf"] if option.get("type") == "string")
        for name, prop in schema.items()
    }
    assert examples == {
        "isin": {
            "type": "string",
            "format": "isin",
            "pattern": ISIN_PATTERN,
            "examples": ["US0378331005"],
        },
        "lei": {
            "type": "string",
            "format": "lei",
            "pattern": LEI_PATTERN,
            "examples": ["W22LROWP2IHZNBB6K528"],
        },
        "bic": {
            "type": "string",
            "format": "bic",
            "pattern": BIC_PATTERN,
            "examples": ["DEUTDEFF"],
        },
        "iban": {
            "type": "string",
            "format": "iban",
            "pattern": IBAN_PATTERN,
            "examples": ["DE89370400440532013000"],
        },
        "currency": {
            "type": "string",
            "format": "iso4217",
            "pattern": CURRENCY_PATTERN,
            "examples": ["USD"],
        },
        "mic": {"type": "string", "pattern": MIC_PATTERN, "examples": ["XNYS"]},
    }
