"""External identifiers, validated by python-stdnum and the ISO 4217 table, never by hand."""

from functools import lru_cache
from typing import Annotated, Any

import iso4217
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from stdnum import bic, iban, isin, lei
from stdnum.exceptions import ValidationError as StdnumError


def _validator(module: Any, name: str) -> Any:
    # A batch names the same few ISINs and LEIs thousands of times: remember the answers.
    @lru_cache(maxsize=8192)
    def check(value: str) -> str:
        try:
            return str(module.validate(value))
        except StdnumError as exc:
            raise ValueError(f"is not a valid {name}: {exc}") from None

    return check


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def validate_bic(value: str) -> str:
    checked: str = _validator(bic, "BIC")(value)
    # BIC8 and BIC11 with the branch XXX name the same institution; store the short form.
    return checked[:8] if checked.endswith("XXX") else checked


@lru_cache(maxsize=512)
def _currency(code: str) -> Any:
    return iso4217.Currency(code)


def validate_currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha():
        raise ValueError("is not an ISO 4217 currency code")
    try:
        currency = _currency(value)
    except (ValueError, KeyError):
        raise ValueError(f"'{value}' is not an ISO 4217 currency code") from None
    if currency.exponent is None:
        raise ValueError(f"'{value}' is not a currency with minor units (a fund or metal code)")
    return value


@lru_cache(maxsize=512)  # asked for every amount of every trade
def currency_minor_units(code: str) -> int:
    exponent = _currency(code).exponent
    if exponent is None:
        raise ValueError(f"{code} has no minor units")
    return int(exponent)


# The codes `validate_currency` takes, for patterns that must name them (ISO 4217's table).
CURRENCIES_WITH_MINOR_UNITS = tuple(
    sorted(c.value for c in iso4217.Currency if c.exponent is not None)
)


def validate_mic(value: str) -> str:
    if len(value) != 4 or not value.isalnum():
        raise ValueError("is not an ISO 10383 MIC (four letters or digits)")
    return value


# The shapes, in the OpenAPI document (clients and fuzzers read them); the check digits, the
# country codes and the ISO 4217 table are checked by the validators and named by the formats.
# Lower case is accepted (upper-cased on the way in).
ISIN_PATTERN = r"^[A-Za-z]{2}[A-Za-z0-9]{9}[0-9]$"
LEI_PATTERN = r"^[A-Za-z0-9]{18}[0-9]{2}$"
# A BIC's country (letters 5 and 6) is one python-stdnum knows: the table, in the pattern.
_BIC_COUNTRIES = "|".join(
    "".join(f"[{c}{c.lower()}]" for c in code) for code in sorted(bic._country_codes)
)
BIC_PATTERN = rf"^[A-Za-z]{{4}}({_BIC_COUNTRIES})[A-Za-z0-9]{{2}}([A-Za-z0-9]{{3}})?$"
IBAN_PATTERN = r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{11,40}$"
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
MIC_PATTERN = r"^[A-Za-z0-9]{4}$"

Isin = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(_validator(isin, "ISIN")),
    WithJsonSchema(
        {"type": "string", "format": "isin", "pattern": ISIN_PATTERN, "examples": ["US0378331005"]}
    ),
]
Lei = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(_validator(lei, "LEI")),
    WithJsonSchema(
        {
            "type": "string",
            "format": "lei",
            "pattern": LEI_PATTERN,
            "examples": ["W22LROWP2IHZNBB6K528"],
        }
    ),
]
Bic = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(validate_bic),
    WithJsonSchema(
        {"type": "string", "format": "bic", "pattern": BIC_PATTERN, "examples": ["DEUTDEFF"]}
    ),
]
Iban = Annotated[
    str,
    BeforeValidator(lambda v: v.replace(" ", "").upper() if isinstance(v, str) else v),
    AfterValidator(_validator(iban, "IBAN")),
    WithJsonSchema(
        {
            "type": "string",
            "format": "iban",
            "pattern": IBAN_PATTERN,
            "examples": ["DE89370400440532013000"],
        }
    ),
]
Currency = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(validate_currency),
    WithJsonSchema(
        {"type": "string", "format": "iso4217", "pattern": CURRENCY_PATTERN, "examples": ["USD"]}
    ),
]
Mic = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(validate_mic),
    WithJsonSchema({"type": "string", "pattern": MIC_PATTERN, "examples": ["XNYS"]}),
]
