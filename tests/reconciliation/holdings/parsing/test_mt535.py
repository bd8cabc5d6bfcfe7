"""MT535 parsing: one sample file per oddity of real files (envelopes, line ends, several
messages and accounts, pages, bonds, signs), and every refusal naming its line."""

from datetime import date
from decimal import Decimal

import pytest

from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHolding,
    ParsedHoldingsStatement,
    QuantityType,
    StatementBasis,
)
from app.reconciliation.holdings.parsing.mt535 import parse_mt535
from tests.reconciliation.holdings.support import APPLE, BNP, BUND, JPM, SAMPLES, SAP, TOTAL

UNIT, FAMT = QuantityType.UNIT, QuantityType.FAMT


def parse_sample(name: str) -> list[ParsedHoldingsStatement]:
    return parse_mt535((SAMPLES / name).read_bytes().decode())


GENERAL = [
    ":16R:GENL",
    ":28E:1/ONLY",
    ":20C::SEME//REF1",
    ":23G:NEWM",
    ":98A::STAT//20261124",
    ":22F::STBA//SETT",
    ":97A::SAFE//DEMO-DTC-0001",
    ":17B::ACTI//Y",
    ":16S:GENL",
]
FIN = [":16R:FIN", f":35B:ISIN {JPM}", ":93B::AGGR//UNIT/10,", ":16S:FIN"]


def message(general: list[str] = GENERAL, fins: list[str] = FIN) -> str:
    """A bare block 4 (line 1 is :16R:GENL): valid by default, each test breaks one line."""
    return "\n".join([*general, ":16R:SUBSAFE", *fins, ":16S:SUBSAFE"]) + "\n"


def replaced(lines: list[str], old: str, new: str | None) -> list[str]:
    assert old in lines
    return (
        [line for line in lines if line != old]
        if new is None
        else [new if line == old else line for line in lines]
    )


def refusal(text: str) -> HoldingsParseError:
    with pytest.raises(HoldingsParseError) as raised:
        parse_mt535(text)
    return raised.value


# --- samples ------------------------------------------------------------------------------------


def test_a_full_message_with_blocks_1_to_5_and_crlf() -> None:
    assert parse_sample("mt535_full_envelope_crlf.txt") == [
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-DTC-0001",
            statement_id="DTC20261124",
            statement_date=date(2026, 11, 24),
            basis=StatementBasis.SETTLED,
            page=1,
            last_page=True,
            # the SUBBAL sequence's :93C: and the :35B: description lines are not holdings
            holdings=(
                ParsedHolding(JPM, Decimal("1500"), UNIT, Decimal("1200")),
                ParsedHolding(APPLE, Decimal("200"), UNIT, None),
            ),
        )
    ]


def test_two_pages_lf_98c_date_time_bonds_negative_zero_and_decimal_comma() -> None:
    first, second = parse_sample("mt535_two_pages_lf_no_final_newline.txt")
    assert (first.statement_id, first.page, first.last_page) == ("EB20261124P1", 1, False)
    assert (second.statement_id, second.page, second.last_page) == ("EB20261124P2", 2, True)
    assert first.statement_date == second.statement_date == date(2026, 11, 24)
    assert first.basis == second.basis == StatementBasis.TRADED
    assert first.holdings + second.holdings == (
        ParsedHolding(BUND, Decimal("2500000"), FAMT, Decimal("2000000")),
        ParsedHolding(TOTAL, Decimal("-300"), UNIT, None),
        ParsedHolding(BNP, Decimal("0"), UNIT, None),
        ParsedHolding(SAP, Decimal("12.5"), UNIT, None),
    )


def test_sub_safekeeping_accounts_are_statements_of_their_own() -> None:
    statements = parse_sample("mt535_bare_block_sub_safekeeping_accounts.txt")
    assert [(s.safekeeping_account, s.statement_id, s.holdings) for s in statements] == [
        ("DEMO-CBF-0001-A", "CBF20261124", (ParsedHolding(SAP, Decimal("40"), UNIT, None),)),
        ("DEMO-CBF-0001-B", "CBF20261124", ()),
    ]


def test_no_activity_is_a_statement_holding_nothing_without_a_basis() -> None:
    [statement] = parse_sample("mt535_no_activity_no_holdings.txt")
    assert (statement.safekeeping_account, statement.basis, statement.holdings) == (
        "DEMO-EOCF-0001",
        None,
        (),
    )


def test_97b_proprietary_account_and_sub_safekeeping_without_account_add_to_genl() -> None:
    general = replaced(GENERAL, ":97A::SAFE//DEMO-DTC-0001", ":97B::SAFE/DTCY/ABRD/DEMO-DTC-0001")
    [statement] = parse_mt535(message(general))
    assert statement.safekeeping_account == "DEMO-DTC-0001"
    assert statement.holdings == (ParsedHolding(JPM, Decimal("10"), UNIT, None),)


def test_no_page_number_is_no_page() -> None:
    [statement] = parse_mt535(message(replaced(GENERAL, ":28E:1/ONLY", None)))
    assert (statement.page, statement.last_page) == (None, None)


# --- refusals -----------------------------------------------------------------------------------


def test_another_message_type_in_block_2_is_refused() -> None:
    header = "{1:F01BANKDEFFAXXX0000000000}{2:O9401200261124BANKDEFFAXXX00000000002611241200N}"
    text = header + "{4:\n:20:X\n-}"
    error = refusal(text)
    assert (error.location, error.message) == ("line 1", "block 2 says MT940, not MT535")


def test_an_unclosed_block_4_is_refused() -> None:
    error = refusal("{1:F01CUSTUS33AXXX0000000000}{4:\n" + message())
    assert (error.location, error.message) == ("line 1", "block 4 is not closed by '-}'")


def test_text_outside_a_field_is_refused() -> None:
    error = refusal("garbage\n" + message())
    assert (error.location, error.message) == ("line 1", "text outside a field: 'garbage'")


def test_a_sequence_closed_by_another_name_is_refused() -> None:
    fins = replaced(FIN, ":16S:FIN", ":16S:FIA")
    error = refusal(message(fins=fins))
    assert (error.location, error.message) == (
        "line 14",
        ":16S:FIA does not close :16R:FIN opened at line 11",
    )


def test_a_sequence_never_closed_is_refused() -> None:
    error = refusal("\n".join([*GENERAL, ":16R:SUBSAFE", *FIN]))
    assert (error.location, error.message) == ("line 10", ":16R:SUBSAFE is never closed")


def test_a_message_not_starting_with_genl_is_refused() -> None:
    error = refusal(":16R:SUBSAFE\n:16S:SUBSAFE\n")
    assert (error.location, error.message) == ("line 1", "an MT535 starts with :16R:GENL")


def test_a_missing_isin_is_refused() -> None:
    fins = replaced(FIN, f":35B:ISIN {JPM}", ":35B:/US/46625H100\nJPMORGAN CHASE")
    error = refusal(message(fins=fins))
    assert (error.location, error.message) == ("line 12", "no ISIN in :35B:")


def test_an_invalid_isin_is_refused() -> None:
    error = refusal(message(fins=replaced(FIN, f":35B:ISIN {JPM}", ":35B:ISIN US46625H1006")))
    assert error.location == "line 12"
    assert error.message.startswith("'US46625H1006' is not a valid ISIN")


@pytest.mark.parametrize(
    "quantity",
    [":93B::AGGR//UNIT/10.5", ":93B::AGGR//UNIT/10", ":93B::AGGR//UNIT/-10,", ":93B::AGGR//UNIT/"],
)
def test_a_quantity_without_a_swift_decimal_comma_is_refused(quantity: str) -> None:
    error = refusal(message(fins=replaced(FIN, ":93B::AGGR//UNIT/10,", quantity)))
    assert error.location == "line 13"
    assert error.message.endswith("is not 'UNIT|FAMT/[N]quantity' with a decimal comma")


def test_an_amortised_value_quantity_is_refused() -> None:
    error = refusal(message(fins=replaced(FIN, ":93B::AGGR//UNIT/10,", ":93B::AGGR//AMOR/10,")))
    assert (error.location, error.message) == (
        "line 13",
        "quantity type 'AMOR' is not UNIT or FAMT",
    )


def test_a_holding_without_an_aggregate_balance_is_refused() -> None:
    fins = replaced(FIN, ":93B::AGGR//UNIT/10,", ":93B::AVAI//UNIT/10,")
    error = refusal(message(fins=fins))
    assert (error.location, error.message) == ("line 11", "0 :93B::AGGR// balances in FIN, not one")


def test_two_aggregate_balances_are_refused() -> None:
    fins = [*FIN[:3], ":93B::AGGR//FAMT/10,", FIN[3]]
    error = refusal(message(fins=fins))
    assert (error.location, error.message) == ("line 14", "2 :93B::AGGR// balances in FIN, not one")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (":98A::STAT//20261131", "'20261131' is not a date"),
        (":98A::STAT//2026112", ":98A: '2026112' is not a date"),
        (":98C::STAT//20261124", ":98C: '20261124' is not a date"),
    ],
)
def test_a_bad_statement_date_is_refused(line: str, expected: str) -> None:
    error = refusal(message(replaced(GENERAL, ":98A::STAT//20261124", line)))
    assert (error.location, error.message) == ("line 5", expected)


def test_a_missing_statement_date_is_refused() -> None:
    error = refusal(message(replaced(GENERAL, ":98A::STAT//20261124", None)))
    assert (error.location, error.message) == ("line 1", "no :98A::STAT// statement date in GENL")


def test_a_missing_reference_is_refused() -> None:
    error = refusal(message(replaced(GENERAL, ":20C::SEME//REF1", None)))
    assert (error.location, error.message) == ("line 1", "no :20C::SEME// reference in GENL")


def test_a_missing_safekeeping_account_is_refused() -> None:
    error = refusal(message(replaced(GENERAL, ":97A::SAFE//DEMO-DTC-0001", None)))
    assert (error.location, error.message) == (
        "line 1",
        "no :97A::SAFE// safekeeping account in GENL",
    )


def test_a_bad_page_number_is_refused() -> None:
    error = refusal(message(replaced(GENERAL, ":28E:1/ONLY", ":28E:1/NEXT")))
    assert (error.location, error.message) == (
        "line 2",
        ":28E: '1/NEXT' is not 'page/ONLY|MORE|LAST'",
    )


def test_an_unknown_statement_basis_is_refused() -> None:
    error = refusal(message(replaced(GENERAL, ":22F::STBA//SETT", ":22F::STBA//BOOK")))
    assert (error.location, error.message) == ("line 6", "unknown statement basis 'BOOK'")


def test_a_field_that_is_not_qualified_is_refused() -> None:
    error = refusal(message(replaced(GENERAL, ":98A::STAT//20261124", ":98A:20261124")))
    assert (error.location, error.message) == (
        "line 5",
        ":98A: '20261124' is not ':QUALIFIER//value'",
    )


def test_an_empty_file_is_refused() -> None:
    error = refusal("")
    assert (error.location, error.message) == ("line 1", "an MT535 starts with :16R:GENL")
