"""semt.002 parsing: one sample file per oddity of real files, and every refusal naming its
element."""

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
from app.reconciliation.holdings.parsing.semt002 import parse_semt002
from tests.reconciliation.holdings.support import APPLE, BNP, BUND, JPM, SAMPLES, SAP, TOTAL

SEMT_002_V11 = "urn:iso:std:iso:20022:tech:xsd:semt.002.001.11"
UNIT, FAMT = QuantityType.UNIT, QuantityType.FAMT


def parse_sample(name: str) -> list[ParsedHoldingsStatement]:
    return parse_semt002((SAMPLES / name).read_bytes())


LONG_TEN = "<ShrtLngInd>LONG</ShrtLngInd><Qty><Qty><Qty><Unit>10</Unit></Qty></Qty></Qty>"


# Builders of small documents for the refusals: valid by default, each test breaks one thing.
def balance_xml(
    *,
    isin: str = f"<ISIN>{JPM}</ISIN>",
    aggregate: str = LONG_TEN,
) -> str:
    return (
        f"<BalForAcct><FinInstrmId>{isin}</FinInstrmId><AggtBal>{aggregate}</AggtBal></BalForAcct>"
    )


def document(
    *balances: str,
    namespace: str = SEMT_002_V11,
    moment: str = "<Dt>2026-11-24</Dt>",
    basis: str = "<Cd>SETT</Cd>",
    account: str = "<SfkpgAcct><Id>DEMO-DTC-0001</Id></SfkpgAcct>",
    pagination: str = "<Pgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></Pgntn>",
) -> bytes:
    general = (
        f"<StmtGnlDtls><StmtId>S-1</StmtId><StmtDtTm>{moment}</StmtDtTm>"
        f"<StmtBsis>{basis}</StmtBsis></StmtGnlDtls>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{namespace}">'
        f"<SctiesBalCtdyRpt>{pagination}{general}{account}{''.join(balances)}"
        "</SctiesBalCtdyRpt></Document>"
    ).encode()


def refusal(data: bytes) -> HoldingsParseError:
    with pytest.raises(HoldingsParseError) as raised:
        parse_semt002(data)
    return raised.value


REPORT = "Document/SctiesBalCtdyRpt"


# --- samples ------------------------------------------------------------------------------------


def test_a_settled_page_reads_units_and_available_and_skips_sub_balances() -> None:
    assert parse_sample("semt002_v11_settled_page_1_of_2.xml") == [
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-DTC-0001",
            statement_id="HLD-DTC-20261124",
            statement_date=date(2026, 11, 24),
            basis=StatementBasis.SETTLED,
            page=1,
            last_page=False,
            holdings=(
                ParsedHolding(JPM, Decimal("1500"), UNIT, Decimal("1200")),
                ParsedHolding(APPLE, Decimal("200"), UNIT, None),
            ),
        )
    ]


def test_bonds_by_face_amount_short_positions_negative_and_zero_kept() -> None:
    [statement] = parse_sample("semt002_v09_bond_face_amount_short_and_zero.xml")
    assert statement.holdings == (
        ParsedHolding(BUND, Decimal("2500000.00"), FAMT, Decimal("2000000")),
        ParsedHolding(TOTAL, Decimal("-300"), UNIT, None),
        ParsedHolding(BNP, Decimal("0"), UNIT, None),
    )


def test_a_traded_basis_statement_stamped_with_a_date_time_and_page_00001() -> None:
    [statement] = parse_sample("semt002_v09_bond_face_amount_short_and_zero.xml")
    assert (statement.statement_date, statement.basis, statement.page, statement.last_page) == (
        date(2026, 11, 24),
        StatementBasis.TRADED,
        1,
        True,
    )


def test_a_date_time_statement_is_dated_as_the_custodian_wrote_it_not_in_utc() -> None:
    # 00:30 in Frankfurt is still the 23rd in UTC: the custodian's 24th is the statement's date.
    [statement] = parse_semt002(document(moment="<DtTm>2026-11-24T00:30:00+01:00</DtTm>"))
    assert statement.statement_date == date(2026, 11, 24)


def test_each_sub_account_is_a_statement_and_no_statement_id_falls_back_to_the_date() -> None:
    statements = parse_sample("semt002_v03_sub_accounts_no_statement_id.xml")
    assert statements == [
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-CBF-0001-A",
            statement_id="2026-11-24",
            statement_date=date(2026, 11, 24),
            basis=StatementBasis.CONTRACTUAL,
            page=1,
            last_page=True,
            holdings=(ParsedHolding(SAP, Decimal("12.5"), UNIT, None),),
        ),
        ParsedHoldingsStatement(
            safekeeping_account="DEMO-CBF-0001-B",
            statement_id="2026-11-24",
            statement_date=date(2026, 11, 24),
            basis=StatementBasis.CONTRACTUAL,
            page=1,
            last_page=True,
            holdings=(),
        ),
    ]


def test_several_documents_in_an_envelope_and_an_account_holding_nothing() -> None:
    statements = parse_sample("semt002_v12_two_documents_in_an_envelope.xml")
    assert [(s.safekeeping_account, s.statement_id, s.holdings) for s in statements] == [
        ("DEMO-EOCF-0001", "EOCF-20261124", (ParsedHolding(TOTAL, Decimal("800"), UNIT, None),)),
        ("DEMO-CBF-0001", "CBF-20261124", ()),
    ]


def test_without_pagination_or_basis_the_statement_says_none() -> None:
    [statement] = parse_semt002(document(balance_xml(), pagination="", basis="<Prtry>X</Prtry>"))
    assert (statement.page, statement.last_page, statement.basis) == (None, None, None)


def test_a_balance_without_short_long_indicator_is_long() -> None:
    aggregate = "<Qty><Qty><Qty><Unit>7</Unit></Qty></Qty></Qty>"
    [statement] = parse_semt002(document(balance_xml(aggregate=aggregate)))
    assert statement.holdings == (ParsedHolding(JPM, Decimal("7"), UNIT, None),)


def test_original_and_current_face_reads_the_original_face_amount() -> None:
    aggregate = (
        "<ShrtLngInd>LONG</ShrtLngInd><Qty><OrgnlAndCurFace><FaceAmt>1000000</FaceAmt>"
        "<AmtsdVal>800000</AmtsdVal></OrgnlAndCurFace></Qty>"
    )
    [statement] = parse_semt002(
        document(balance_xml(isin=f"<ISIN>{BUND}</ISIN>", aggregate=aggregate))
    )
    assert statement.holdings == (ParsedHolding(BUND, Decimal("1000000"), FAMT, None),)


# --- refusals -----------------------------------------------------------------------------------


def test_xml_that_is_not_well_formed_is_refused_with_its_line() -> None:
    error = refusal(b'<?xml version="1.0"?>\n<Document>\n<SctiesBalCtdyRpt>\n</Document>')
    assert error.location == "line 4"
    assert error.message.startswith("not well-formed XML")


def test_a_dtd_is_refused() -> None:
    data = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<Document/>'
    assert refusal(data).message.startswith("DTDs and entities are refused")


def test_an_unknown_namespace_is_refused() -> None:
    error = refusal(document(namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"))
    assert (error.location, error.message) == (
        "Document",
        "namespace 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.02' is not semt.002",
    )


def test_an_unsupported_version_is_refused() -> None:
    error = refusal(document(namespace="urn:iso:std:iso:20022:tech:xsd:semt.002.001.02"))
    assert (error.location, error.message) == (
        "Document",
        "semt.002 version 02 is not supported (.03 to .12)",
    )


def test_a_file_without_a_document_is_refused() -> None:
    error = refusal(b"<Statement><Holding/></Statement>")
    assert (error.location, error.message) == (
        "Statement",
        "not a semt.002 document (root element 'Statement', namespace '')",
    )


def test_a_missing_isin_is_refused_naming_the_element() -> None:
    error = refusal(document(balance_xml(), balance_xml(isin="<Desc>UNKNOWN</Desc>")))
    assert (error.location, error.message) == (
        f"{REPORT}/BalForAcct[2]/FinInstrmId/ISIN",
        "no ISIN",
    )


def test_an_isin_with_a_wrong_check_digit_is_refused() -> None:
    error = refusal(document(balance_xml(isin="<ISIN>US46625H1006</ISIN>")))
    assert error.location == f"{REPORT}/BalForAcct[1]/FinInstrmId/ISIN"
    assert error.message.startswith("'US46625H1006' is not a valid ISIN")


def test_a_quantity_that_is_not_a_decimal_is_refused() -> None:
    aggregate = "<ShrtLngInd>LONG</ShrtLngInd><Qty><Qty><Qty><Unit>1,500</Unit></Qty></Qty></Qty>"
    error = refusal(document(balance_xml(aggregate=aggregate)))
    assert (error.location, error.message) == (
        f"{REPORT}/BalForAcct[1]/AggtBal/Qty/Qty/Qty/Unit",
        "quantity '1,500' is not a decimal",
    )


def test_a_proprietary_quantity_is_refused() -> None:
    aggregate = "<ShrtLngInd>LONG</ShrtLngInd><Qty><Prtry><Id>ABCD</Id><Bal>5</Bal></Prtry></Qty>"
    error = refusal(document(balance_xml(aggregate=aggregate)))
    assert error.location == f"{REPORT}/BalForAcct[1]/AggtBal/Qty"
    assert error.message.startswith("no Unit or FaceAmt quantity")


def test_a_missing_aggregate_balance_is_refused() -> None:
    data = document(f"<BalForAcct><FinInstrmId><ISIN>{JPM}</ISIN></FinInstrmId></BalForAcct>")
    error = refusal(data)
    assert (error.location, error.message) == (
        f"{REPORT}/BalForAcct[1]/AggtBal",
        "required element is missing",
    )


def test_an_unknown_short_long_indicator_is_refused() -> None:
    aggregate = "<ShrtLngInd>SHRT</ShrtLngInd><Qty><Qty><Qty><Unit>1</Unit></Qty></Qty></Qty>"
    error = refusal(document(balance_xml(aggregate=aggregate)))
    assert (error.location, error.message) == (
        f"{REPORT}/BalForAcct[1]/AggtBal/ShrtLngInd",
        "'SHRT' is neither SHOR nor LONG",
    )


def test_a_bad_date_is_refused() -> None:
    error = refusal(document(balance_xml(), moment="<Dt>2026-11-31</Dt>"))
    assert (error.location, error.message) == (
        f"{REPORT}/StmtGnlDtls/StmtDtTm/Dt",
        "'2026-11-31' is not a date",
    )


def test_a_bad_date_time_is_refused() -> None:
    error = refusal(document(balance_xml(), moment="<DtTm>yesterday</DtTm>"))
    assert (error.location, error.message) == (
        f"{REPORT}/StmtGnlDtls/StmtDtTm/DtTm",
        "'yesterday' is not a date-time",
    )


def test_a_statement_without_a_date_is_refused() -> None:
    error = refusal(document(balance_xml(), moment=""))
    assert (error.location, error.message) == (
        f"{REPORT}/StmtGnlDtls/StmtDtTm",
        "neither Dt nor DtTm",
    )


def test_a_missing_safekeeping_account_is_refused() -> None:
    error = refusal(document(balance_xml(), account=""))
    assert (error.location, error.message) == (
        f"{REPORT}/SfkpgAcct",
        "required element is missing",
    )


def test_an_unknown_statement_basis_is_refused() -> None:
    error = refusal(document(balance_xml(), basis="<Cd>BOOK</Cd>"))
    assert (error.location, error.message) == (
        f"{REPORT}/StmtGnlDtls/StmtBsis/Cd",
        "unknown statement basis 'BOOK'",
    )


def test_a_bad_page_number_is_refused() -> None:
    pagination = "<Pgntn><PgNb>0</PgNb><LastPgInd>true</LastPgInd></Pgntn>"
    error = refusal(document(balance_xml(), pagination=pagination))
    assert (error.location, error.message) == (
        f"{REPORT}/Pgntn/PgNb",
        "'0' is not a page number",
    )
