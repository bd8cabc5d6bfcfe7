"""The shared request types refuse what their published JSON schema refuses, and no more."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from app.core.identifiers import Bic
from app.core.json_types import JsonInt
from app.core.moments import IsoDate, UtcDateTime
from app.core.money import NonNegativeDecimalStr, PositiveDecimalStr
from app.core.text import NON_BLANK_TEXT_PATTERN, TEXT_PATTERN, Printable, PrintableNonBlank
from app.reference.fields import Name


def _accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("value", [0, 1700000000, 0.5, "0", "20261124", True])
def test_a_date_is_iso_text_never_a_number(value: Any) -> None:
    assert not _accepts(TypeAdapter(IsoDate), value)


def test_a_date_takes_iso_text_and_dates_not_date_times() -> None:
    adapter = TypeAdapter(IsoDate)
    assert adapter.validate_python("2026-11-24") == date(2026, 11, 24)
    assert adapter.validate_python(date(2026, 11, 24)) == date(2026, 11, 24)
    assert not _accepts(adapter, datetime(2026, 11, 24, tzinfo=UTC))


@pytest.mark.parametrize("value", [0, 0.5, "0.5", "1700000000", "2026-11-24"])
def test_a_timestamp_is_iso_text_with_an_offset(value: Any) -> None:
    assert not _accepts(TypeAdapter(UtcDateTime), value)


def test_a_timestamp_is_kept_in_utc() -> None:
    moment = TypeAdapter(UtcDateTime).validate_python("2026-11-24T15:00:00+01:00")
    assert moment == datetime(2026, 11, 24, 14, tzinfo=UTC)


def _pattern(adapter: TypeAdapter[Any]) -> re.Pattern[str]:
    return re.compile(adapter.json_schema()["pattern"])


DECIMALS = ["1", "0", "-1", "0.0", "0.01", "-0.01", "00.5", "10.25", "0.000000000001"]
DECIMALS += ["0.0000000000001", "1234567890123456789012345678", "0.100000000000", "000.00"]
DECIMALS += ["0000000000000000000000000001.5"]  # 28 digits; 29 with leading zeros: see DecimalStr


@pytest.mark.parametrize("text", DECIMALS)
def test_positive_and_non_negative_decimals_publish_the_rule_they_check(text: str) -> None:
    for kind in (PositiveDecimalStr, NonNegativeDecimalStr):
        adapter = TypeAdapter(kind)
        assert bool(_pattern(adapter).match(text)) == _accepts(adapter, text), (kind, text)


TEXTS = ["", "a", "a\tb", "line\nbreak\r\n", "bell\x07", "nul\x00", "del\x7f", "é", "\x85"]
TEXTS += [" ", "  x  ", "\u3000", "\xa0y", "\u2028", "\x1f", "ok\x0b", "\x0cok", "o\x0bk"]


@pytest.mark.parametrize("text", TEXTS)
def test_free_text_patterns_say_what_printable_refuses(text: str) -> None:
    free: TypeAdapter[str] = TypeAdapter(Annotated[str, Printable])
    assert bool(re.match(TEXT_PATTERN, text)) == _accepts(free, text)
    name = TypeAdapter(Name)
    assert bool(re.match(NON_BLANK_TEXT_PATTERN, text)) == _accepts(name, text), repr(text)
    assert name.json_schema()["pattern"] == NON_BLANK_TEXT_PATTERN
    assert PrintableNonBlank.pattern == NON_BLANK_TEXT_PATTERN


@pytest.mark.parametrize(("value", "taken"), [(3, True), (3.0, True), (3.5, False), ("3", False)])
def test_a_whole_number_is_what_json_schema_calls_an_integer(value: Any, taken: bool) -> None:
    assert _accepts(TypeAdapter(JsonInt), value) is taken
    assert not _accepts(TypeAdapter(JsonInt), False)


def test_stripped_text_counts_its_length_as_sent_as_the_schema_does() -> None:
    name = TypeAdapter(Name)
    assert name.json_schema()["maxLength"] == 200
    assert name.validate_python("  x  ") == "x"
    assert _accepts(name, "a" * 200)
    assert not _accepts(name, " " * 5 + "a" * 198)


@pytest.mark.parametrize("text", ["DEUTDEFF", "deutdeff", "COBADEFFXXX", "DEUTXXFF", "DEUT1EFF"])
def test_a_bic_pattern_names_the_countries_the_validator_knows(text: str) -> None:
    bic = TypeAdapter(Bic)
    assert bool(re.match(bic.json_schema()["pattern"], text)) == _accepts(bic, text)
