"""Holdings as CSV (columns, or account and date from the request) and as JSON: the samples and
every refusal naming its line or field."""

from datetime import date
from decimal import Decimal

import pytest

from app.reconciliation.holdings.parsing.csv_format import StatementDefaults, parse_csv
from app.reconciliation.holdings.parsing.json_format import parse_json
from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHolding,
    ParsedHoldingsStatement,
    QuantityType,
    StatementBasis,
)
from tests.reconciliation.holdings.support import APPLE, BNP, BUND, JPM, SAMPLES, SAP, TOTAL

UNIT, FAMT = QuantityType.UNIT, QuantityType.FAMT
DAY = date(2026, 11, 24)
FROM_REQUEST = StatementDefaults(account="DEMO-EOCF-0001", statement_date=DAY)


def sample_text(name: str) -> str:
    return (SAMPLES / name).read_bytes().decode("utf-8")


def csv_refusal(text: str, defaults: StatementDefaults = FROM_REQUEST) -> HoldingsParseError:
    with pytest.raises(HoldingsParseError) as raised:
        parse_csv(text, defaults)
    return raised.value


def json_refusal(text: str) -> HoldingsParseError:
    with pytest.raises(HoldingsParseError) as raised:
        parse_json(text)
    return raised.value


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_with_account_and_date_columns_groups_rows_into_statements() -> None:
    assert parse_csv(sample_text("holdings_columns.csv"), StatementDefaults()) == [
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-DTC-0001",
            statement_id="DTC-CSV-1",
            statement_date=DAY,
            holdings=(
                ParsedHolding(JPM, Decimal("1500"), UNIT, Decimal("1200")),
                ParsedHolding(APPLE, Decimal("200"), UNIT, None),
            ),
        ),
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-EB-0001",
            statement_id="EB-CSV-1",
            statement_date=DAY,
            holdings=(ParsedHolding(BUND, Decimal("2500000.00"), FAMT, None),),
        ),
    ]


def test_csv_semicolons_bom_crlf_blank_lines_and_the_account_from_the_request() -> None:
    assert parse_csv(sample_text("holdings_semicolon_bom_no_account.csv"), FROM_REQUEST) == [
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-EOCF-0001",
            statement_id="2026-11-24",
            statement_date=DAY,
            holdings=(
                ParsedHolding(TOTAL, Decimal("-300"), UNIT, None),
                ParsedHolding(BNP, Decimal("0"), UNIT, None),
                ParsedHolding(SAP, Decimal("12.5"), UNIT, None),
            ),
        )
    ]


def test_csv_columns_that_agree_with_the_request_and_a_statement_id_from_it() -> None:
    text = f"account,isin,quantity\nDEMO-EOCF-0001,{TOTAL},5\n"
    defaults = StatementDefaults("DEMO-EOCF-0001", DAY, "EOCF-CSV-9")
    [statement] = parse_csv(text, defaults)
    assert (statement.safekeeping_account, statement.statement_id) == (
        "DEMO-EOCF-0001",
        "EOCF-CSV-9",
    )


def test_csv_with_a_header_only_is_a_statement_holding_nothing() -> None:
    assert parse_csv("isin,quantity\n", FROM_REQUEST) == [
        ParsedHoldingsStatement("DEMO-EOCF-0001", "2026-11-24", DAY)
    ]


def test_csv_without_a_header_is_refused() -> None:
    error = csv_refusal("\n")
    assert (error.location, error.message) == ("line 1", "no header row")


def test_csv_without_the_quantity_column_is_refused() -> None:
    error = csv_refusal(f"isin,qty\n{JPM},1\n")
    assert (error.location, error.message) == ("line 1", "no column quantity in the header")


def test_csv_without_account_anywhere_is_refused() -> None:
    error = csv_refusal(f"isin,quantity\n{JPM},1\n", StatementDefaults(statement_date=DAY))
    assert (error.location, error.message) == (
        "line 2",
        "no account: give the column or the request's account",
    )


def test_csv_without_date_anywhere_is_refused() -> None:
    error = csv_refusal(f"isin,quantity\n{JPM},1\n", StatementDefaults(account="X"))
    assert (error.location, error.message) == (
        "line 2",
        "no statement_date: give the column or the request's date",
    )


def test_csv_column_differing_from_the_request_is_refused() -> None:
    error = csv_refusal(f"statement_date,isin,quantity\n2026-11-25,{JPM},1\n")
    assert (error.location, error.message) == (
        "line 2",
        "statement_date '2026-11-25' differs from the request's date '2026-11-24'",
    )


def test_csv_bad_date_is_refused() -> None:
    error = csv_refusal(f"statement_date,isin,quantity\n24.11.2026,{JPM},1\n")
    assert (error.location, error.message) == (
        "line 2",
        "statement_date '24.11.2026' is not a date (YYYY-MM-DD)",
    )


def test_csv_missing_isin_is_refused() -> None:
    error = csv_refusal(f"isin,quantity\n{JPM},1\n,2\n")
    assert (error.location, error.message) == ("line 3", "no ISIN")


@pytest.mark.parametrize("quantity", ["1,000", "1e3", "NaN", "", "ten"])
def test_csv_bad_quantity_is_refused(quantity: str) -> None:
    error = csv_refusal(f'isin,quantity\n{JPM},"{quantity}"\n')
    assert (error.location, error.message) == ("line 2", f"quantity '{quantity}' is not a decimal")


def test_csv_bad_quantity_type_is_refused() -> None:
    error = csv_refusal(f"isin,quantity,quantity_type\n{JPM},1,AMOR\n")
    assert (error.location, error.message) == ("line 2", "quantity_type 'AMOR' is not UNIT or FAMT")


def test_csv_row_longer_than_the_header_is_refused() -> None:
    error = csv_refusal(f"isin,quantity\n{JPM},1,extra\n")
    assert (error.location, error.message) == ("line 2", "more fields than the header names")


# --- JSON ---------------------------------------------------------------------------------------


def test_json_two_statements_integers_lower_case_isin_and_defaults() -> None:
    assert parse_json(sample_text("holdings_two_statements.json")) == [
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-DTC-0001",
            statement_id="DTC-JSON-1",
            statement_date=DAY,
            basis=StatementBasis.SETTLED,
            page=1,
            last_page=True,
            holdings=(
                ParsedHolding(JPM, Decimal("1500"), UNIT, Decimal("1200")),
                ParsedHolding(APPLE, Decimal("200"), UNIT, None),
            ),
        ),
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-EB-0001",
            statement_id="EB-JSON-1",
            statement_date=DAY,
            holdings=(
                ParsedHolding(BUND, Decimal("2500000.00"), FAMT, None),
                ParsedHolding(TOTAL, Decimal("-300"), UNIT, None),
            ),
        ),
    ]


def statement_json(holding: str = f'{{"isin": "{JPM}", "quantity": "1"}}', **fields: str) -> str:
    values = {"account": '"A"', "statement_id": '"S"', "statement_date": '"2026-11-24"', **fields}
    body = ", ".join(f'"{key}": {value}' for key, value in values.items())
    return f'{{"statements": [{{{body}, "holdings": [{holding}]}}]}}'


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("{not json", "the document", "Invalid JSON: key must be a string at line 1 column 2"),
        (
            '{"statements": []}',
            "statements",
            "List should have at least 1 item after validation, not 0",
        ),
        (
            statement_json('{"quantity": "1"}'),
            "statements.0.holdings.0.isin",
            "Field required",
        ),
        (
            statement_json(f'{{"isin": "{JPM}", "quantity": 1.5}}'),
            "statements.0.holdings.0.quantity",
            'Value error, must be a decimal string such as "1234.50", not a JSON float',
        ),
        (
            statement_json(f'{{"isin": "{JPM}", "quantity": "1,5"}}'),
            "statements.0.holdings.0.quantity",
            "Value error, '1,5' is not a decimal number",
        ),
        (
            statement_json(statement_date='"2026-11-31"'),
            "statements.0.statement_date",
            "Input should be a valid date or datetime, day value is outside expected range",
        ),
        (
            statement_json(basis='"booked"'),
            "statements.0.basis",
            "Input should be 'settled', 'traded' or 'contractual'",
        ),
    ],
)
def test_json_refusals_name_the_field(text: str, location: str, message: str) -> None:
    error = json_refusal(text)
    assert (error.location, error.message) == (location, message)


def test_json_invalid_isin_is_refused() -> None:
    error = json_refusal(statement_json('{"isin": "US46625H1006", "quantity": "1"}'))
    assert error.location == "statements.0.holdings.0.isin"
    assert error.message.startswith("Value error, is not a valid ISIN")
