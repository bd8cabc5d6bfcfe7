"""Format detection (query, Content-Type, content) and the one entry point."""

from datetime import date
from pathlib import Path

import pytest

from app.reconciliation.holdings.parsing.csv_format import StatementDefaults
from app.reconciliation.holdings.parsing.detect import HoldingsFormat, detect_format
from app.reconciliation.holdings.parsing.model import HoldingsParseError
from app.reconciliation.holdings.parsing.parse import parse_holdings

SAMPLES = Path(__file__).parent / "samples"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("semt002_v11_settled_page_1_of_2.xml", HoldingsFormat.SEMT002),
        ("mt535_full_envelope_crlf.txt", HoldingsFormat.MT535),
        ("mt535_two_pages_lf_no_final_newline.txt", HoldingsFormat.MT535),
        ("mt535_bare_block_sub_safekeeping_accounts.txt", HoldingsFormat.MT535),
        ("holdings_two_statements.json", HoldingsFormat.JSON),
        ("holdings_columns.csv", HoldingsFormat.CSV),
        ("holdings_semicolon_bom_no_account.csv", HoldingsFormat.CSV),
    ],
)
def test_the_content_tells_the_format(name: str, expected: HoldingsFormat) -> None:
    assert detect_format((SAMPLES / name).read_bytes()) is expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/xml; charset=utf-8", HoldingsFormat.SEMT002),
        ("text/xml", HoldingsFormat.SEMT002),
        ("application/vnd.custodian+xml", HoldingsFormat.SEMT002),
        ("application/json", HoldingsFormat.JSON),
        ("text/csv", HoldingsFormat.CSV),
    ],
)
def test_the_content_type_tells_the_format(content_type: str, expected: HoldingsFormat) -> None:
    assert detect_format(b"whatever", content_type=content_type) is expected


def test_text_plain_falls_back_to_the_content_and_unknown_content_is_none() -> None:
    assert detect_format(b"{4:\n:16R:GENL", content_type="text/plain") is HoldingsFormat.MT535
    assert detect_format(b"hello world", content_type="text/plain") is None


def test_an_empty_file_is_refused_whatever_the_format() -> None:
    for holdings_format in HoldingsFormat:
        with pytest.raises(HoldingsParseError) as raised:
            parse_holdings(b" \r\n", holdings_format=holdings_format)
        assert (raised.value.location, raised.value.message) == ("line 1", "the file is empty")


def test_csv_that_is_not_utf8_is_refused_with_its_line() -> None:
    with pytest.raises(HoldingsParseError) as raised:
        parse_holdings(
            b"isin,quantity\nUS46625H1005,1\n\xff,2\n", holdings_format=HoldingsFormat.CSV
        )
    assert (raised.value.location, raised.value.message) == ("line 3", "the file is not UTF-8 text")


def test_mt535_in_latin_1_is_read() -> None:
    text = (SAMPLES / "mt535_full_envelope_crlf.txt").read_text().replace("APPLE INC", "APPLE ÉTÉ")
    [statement] = parse_holdings(text.encode("latin-1"), holdings_format=HoldingsFormat.MT535)
    assert len(statement.holdings) == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "A" * 36 + ",DEMO,US46625H1005,1",
            f"the statement id '{'A' * 36}' is longer than 35 characters",
        ),
        (
            "S-1,\x01DEMO,US46625H1005,1",
            "the safekeeping account '\\x01DEMO' has control characters",
        ),
        (
            "S-1," + "D" * 41 + ",US46625H1005,1",
            f"the safekeeping account '{'D' * 41}' is longer than 40 characters",
        ),
    ],
)
def test_identifiers_too_long_or_with_control_characters_are_refused(
    row: str, message: str
) -> None:
    data = f"statement_id,account,isin,quantity\n{row}\n".encode()
    defaults = StatementDefaults(statement_date=date(2026, 11, 24))
    with pytest.raises(HoldingsParseError) as raised:
        parse_holdings(data, holdings_format=HoldingsFormat.CSV, defaults=defaults)
    assert (raised.value.location, raised.value.message) == ("statement 1", message)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (
            "0.1234567890123",
            "the quantity 0.1234567890123 has more than 28 digits or 12 decimal places",
        ),
        ("1" * 29, f"the quantity {'1' * 29} has more than 28 digits or 12 decimal places"),
    ],
)
def test_quantities_beyond_the_service_decimals_are_refused(quantity: str, message: str) -> None:
    data = f"isin,quantity\nUS0378331005,1\nUS46625H1005,{quantity}\n".encode()
    defaults = StatementDefaults(account="A", statement_date=date(2026, 11, 24))
    with pytest.raises(HoldingsParseError) as raised:
        parse_holdings(data, holdings_format=HoldingsFormat.CSV, defaults=defaults)
    assert (raised.value.location, raised.value.message) == ("statement 1 holding 2", message)
