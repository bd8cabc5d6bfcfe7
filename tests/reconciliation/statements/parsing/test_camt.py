"""camt.052 / .053 / .054 parsing: one sample file per oddity of real files, and every refusal."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from app.reconciliation.statements.parsing.camt import parse_camt
from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    EntryStatus,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)

SAMPLES = Path(__file__).parent / "samples"
CAMT_053_V02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def parse_sample(name: str) -> list[ParsedStatement]:
    return parse_camt((SAMPLES / name).read_bytes())


def only_statement(name: str) -> ParsedStatement:
    [statement] = parse_sample(name)
    return statement


def only_entry(name: str) -> ParsedEntry:
    [entry] = only_statement(name).entries
    return entry


# Builders of small documents for the refusals: valid by default, each test breaks one thing.
def entry_xml(
    *, amount: str = "10.00", indicator: str = "CRDT", booking: str = "2024-03-11", extra: str = ""
) -> str:
    amount_xml = f'<Amt Ccy="EUR">{amount}</Amt>' if amount else ""
    indicator_xml = f"<CdtDbtInd>{indicator}</CdtDbtInd>" if indicator else ""
    return (
        f"<Ntry>{amount_xml}{indicator_xml}<Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{booking}</Dt></BookgDt>{extra}</Ntry>"
    )


def statement_xml(
    *,
    statement_id: str | None = "S-1",
    account: str | None = "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>",
    entries: tuple[str, ...] = (),
    created_at: str = "2024-03-12T06:00:00+01:00",
) -> str:
    identifier = f"<Id>{statement_id}</Id>" if statement_id is not None else ""
    return (
        f"<Stmt>{identifier}<CreDtTm>{created_at}</CreDtTm>{account or ''}{''.join(entries)}</Stmt>"
    )


def document(*statements: str, namespace: str = CAMT_053_V02, body: str = "BkToCstmrStmt") -> bytes:
    header = "<GrpHdr><MsgId>M-1</MsgId><CreDtTm>2024-03-12T06:00:00Z</CreDtTm></GrpHdr>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{namespace}">'
        f"<{body}>{header}{''.join(statements)}</{body}></Document>"
    ).encode()


def refusal(data: bytes) -> StatementParseError:
    with pytest.raises(StatementParseError) as raised:
        parse_camt(data)
    return raised.value


# --- camt.053.001.02: two statements in one file, IBAN and Othr/Id accounts -----------------


def test_two_statements_in_one_file_each_become_one_parsed_statement() -> None:
    statements = parse_sample("camt053_v02_two_statements.xml")
    assert [statement.statement_id for statement in statements] == [
        "STMT-2024-071-EUR",
        "STMT-2024-071-USD",
    ]
    euro = statements[0]
    assert (euro.kind, euro.account, euro.currency) == (
        StatementKind.STATEMENT,
        "DE89370400440532013000",
        "EUR",
    )
    assert (euro.statement_id, euro.electronic_sequence, euro.legal_sequence) == (
        "STMT-2024-071-EUR",
        71,
        12,
    )
    assert euro.created_at == datetime(2024, 3, 12, 6, 10, tzinfo=timezone(timedelta(hours=1)))
    assert euro.opening_booked == Balance(Decimal("10000.00"), date(2024, 3, 11))
    assert euro.closing_booked == Balance(Decimal("12000.00"), date(2024, 3, 11))
    assert euro.closing_available == Balance(Decimal("11500.00"), date(2024, 3, 11))
    assert euro.opening_available is None
    assert len(euro.entries) == 2


def test_second_statement_takes_othr_account_currency_from_balances_and_group_creation_time() -> (
    None
):
    dollar = parse_sample("camt053_v02_two_statements.xml")[1]
    assert (dollar.account, dollar.currency, dollar.statement_id) == (
        "0099887766",
        "USD",
        "STMT-2024-071-USD",
    )
    assert (dollar.electronic_sequence, dollar.legal_sequence) == (9, None)
    assert dollar.created_at == datetime(2024, 3, 12, 6, 15, tzinfo=timezone(timedelta(hours=1)))
    assert (
        dollar.opening_booked
        == dollar.closing_booked
        == Balance(Decimal("250.50"), date(2024, 3, 11))
    )
    assert dollar.entries == ()


def test_credit_entry_with_references_unstructured_remittance_and_debtor() -> None:
    credit = parse_sample("camt053_v02_two_statements.xml")[0].entries[0]
    assert credit == ParsedEntry(
        amount=Decimal("2500.00"),
        credit_debit=CreditDebit.CREDIT,
        booking_date=date(2024, 3, 11),
        value_date=date(2024, 3, 11),
        status=EntryStatus.BOOKED,
        bank_transaction_code="PMNT/RCDT/ESCT",
        references={
            "message_id": "MSG-77",
            "payment_information_id": "PMTINF-77",
            "instruction_id": "INSTR-77",
            "end_to_end_id": "E2E-SETTLE-0001",
            "transaction_id": "TX-77",
            "account_servicer_reference": "BANKREF-0001",
        },
        remittance_information="Settlement of trade T-2024-000123",
        counterparty_name="Acme Asset Management",
        counterparty_account="FR1420041010050500013M02606",
    )


def test_debit_entry_is_negative_and_names_the_creditor_not_the_debtor() -> None:
    debit = parse_sample("camt053_v02_two_statements.xml")[0].entries[1]
    assert (debit.amount, debit.credit_debit) == (Decimal("-500.00"), CreditDebit.DEBIT)
    assert (debit.booking_date, debit.value_date) == (date(2024, 3, 11), date(2024, 3, 12))
    assert debit.bank_transaction_code == "PMNT/ICDT/ESCT"
    assert debit.references == {
        "end_to_end_id": "E2E-FEE-0002",
        "account_servicer_reference": "BANKREF-0002",
    }
    assert (debit.counterparty_name, debit.counterparty_account) == (
        "Clearstream Banking",
        "CBL-778899",
    )
    assert debit.remittance_information is None


# --- newer versions: Sts/Cd, UETR, Pty/Nm, DtTm dates ------------------------------------


def test_version_08_status_code_uetr_party_name_and_date_times() -> None:
    statement = only_statement("camt053_v08_status_code_uetr.xml")
    assert (statement.account, statement.currency, statement.statement_id) == (
        "CH9300762011623852957",
        "CHF",
        "V08-STMT-42",
    )
    assert statement.created_at == datetime(
        2024, 5, 2, 18, 30, 0, 123000, tzinfo=timezone(timedelta(hours=2))
    )
    assert statement.opening_available == Balance(Decimal("900.00"), date(2024, 5, 2))
    assert statement.closing_booked == Balance(Decimal("1750.25"), date(2024, 5, 2))
    assert only_entry("camt053_v08_status_code_uetr.xml") == ParsedEntry(
        amount=Decimal("750.25"),
        credit_debit=CreditDebit.CREDIT,
        booking_date=date(2024, 5, 2),
        value_date=date(2024, 5, 2),
        status=EntryStatus.BOOKED,
        bank_transaction_code="PMNT/RCDT/DMCT",
        references={
            "instruction_id": "SI-0042",
            "end_to_end_id": "E2E-V08-0042",
            "uetr": "8a562c67-ca16-48ba-b074-65581be6f001",
            "account_servicer_reference": "ZKB-20240502-0007",
        },
        remittance_information="DVP settlement SI-0042",
        counterparty_name="Helvetia Custody AG",
        counterparty_account="CH5604835012345678009",
    )


def test_version_13_pending_debit_proprietary_code_and_creation_time_without_offset_is_utc() -> (
    None
):
    statement = only_statement("camt053_v13_pending_proprietary_code.xml")
    assert statement.created_at == datetime(2025, 1, 6, 21, 0, tzinfo=UTC)
    assert statement.opening_booked is statement.closing_booked is None
    assert only_entry("camt053_v13_pending_proprietary_code.xml") == ParsedEntry(
        amount=Decimal("-99.99"),
        credit_debit=CreditDebit.DEBIT,
        booking_date=None,
        value_date=date(2025, 1, 7),
        status=EntryStatus.PENDING,
        bank_transaction_code="NCHG",
        references={"end_to_end_id": "E2E-V13-1", "uetr": "c9b0a7a4-60b1-4c55-9b1c-5e0f6f3d2a11"},
        counterparty_name="Euroclear Bank SA/NV",
        counterparty_account="EB-12345",
    )


# --- camt.052 and camt.054 ------------------------------------------------------------------


def test_camt052_intraday_report_is_a_report_with_a_pending_entry_without_details() -> None:
    report = only_statement("camt052_v08_intraday_report.xml")
    assert (report.kind, report.account, report.statement_id, report.electronic_sequence) == (
        StatementKind.REPORT,
        "NL91ABNA0417164300",
        "RPT-1200",
        3,
    )
    assert report.created_at == datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    assert report.entries == (
        ParsedEntry(
            amount=Decimal("1200.00"),
            credit_debit=CreditDebit.CREDIT,
            booking_date=None,
            value_date=date(2024, 6, 11),
            status=EntryStatus.PENDING,
            references={"account_servicer_reference": "ABN-INTRA-3"},
        ),
    )


def test_camt054_notification_takes_its_currency_from_the_entries() -> None:
    notification = only_statement("camt054_v04_notification.xml")
    assert (notification.kind, notification.account, notification.currency) == (
        StatementKind.NOTIFICATION,
        "4455667788",
        "SEK",
    )
    assert notification.statement_id == "NTF-0815-1"
    assert notification.opening_booked is None
    [entry] = notification.entries
    assert (entry.amount, entry.references) == (
        Decimal("-15000.00"),
        {"end_to_end_id": "E2E-NTF-0815"},
    )
    assert (entry.counterparty_name, entry.counterparty_account) == (
        "Nordic Clearing House",
        "SE4550000000058398257466",
    )


# --- amounts and balances -------------------------------------------------------------------


def test_five_decimal_amounts_are_exact() -> None:
    statement = only_statement("camt053_v04_five_decimals.xml")
    assert statement.opening_booked == Balance(Decimal("0.00001"), date(2024, 1, 31))
    assert statement.closing_booked == Balance(Decimal("1234.56790"), date(2024, 1, 31))
    [entry] = statement.entries
    assert entry.amount == Decimal("1234.56789")
    assert str(entry.amount) == "1234.56789"


def test_negative_opening_and_zero_closing_balance_and_an_entry_without_details() -> None:
    statement = only_statement("camt053_v02_negative_opening_zero_closing.xml")
    assert statement.opening_booked == Balance(Decimal("-300.00"), date(2024, 4, 1))
    assert statement.closing_booked == Balance(Decimal("0.00"), date(2024, 4, 1))
    assert not statement.closing_booked.amount.is_signed()  # a zero DBIT balance is not -0
    assert statement.entries == (
        ParsedEntry(
            amount=Decimal("300.00"),
            credit_debit=CreditDebit.CREDIT,
            booking_date=date(2024, 4, 1),
            value_date=date(2024, 4, 1),
            references={"account_servicer_reference": "COVER-300"},
        ),
    )


# --- remittance -----------------------------------------------------------------------------


def test_structured_remittance_gives_the_document_number_and_creditor_reference() -> None:
    entry = only_entry("camt053_v06_structured_remittance.xml")
    assert entry.remittance_information == "RF18539007547034 INV-2024-0815"
    assert (entry.references, entry.counterparty_name) == ({}, None)


def test_unstructured_remittance_wins_over_structured_when_both_are_sent() -> None:
    remittance = (
        "<NtryDtls><TxDtls><RmtInf><Ustrd>free text</Ustrd>"
        "<Strd><CdtrRefInf><Ref>RF00</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls>"
    )
    [statement] = parse_camt(document(statement_xml(entries=(entry_xml(extra=remittance),))))
    assert statement.entries[0].remittance_information == "free text"


def test_a_batch_entry_with_several_transactions_keeps_only_entry_level_references() -> None:
    transaction = "<TxDtls><Refs><EndToEndId>E2E-{0}</EndToEndId></Refs></TxDtls>"
    batch = f"<NtryDtls>{transaction.format(1)}{transaction.format(2)}</NtryDtls>"
    extra = f"<AcctSvcrRef>BATCH-1</AcctSvcrRef>{batch}"
    [statement] = parse_camt(document(statement_xml(entries=(entry_xml(extra=extra),))))
    assert statement.entries[0].references == {"account_servicer_reference": "BATCH-1"}


# --- every version, and envelopes -----------------------------------------------------------


@pytest.mark.parametrize("version", range(2, 14))
@pytest.mark.parametrize(
    ("message", "body", "element", "kind"),
    [
        ("053", "BkToCstmrStmt", "Stmt", StatementKind.STATEMENT),
        ("052", "BkToCstmrAcctRpt", "Rpt", StatementKind.REPORT),
        ("054", "BkToCstmrDbtCdtNtfctn", "Ntfctn", StatementKind.NOTIFICATION),
    ],
)
def test_every_version_from_02_to_13_of_each_message_is_recognised_by_its_namespace(
    version: int, message: str, body: str, element: str, kind: StatementKind
) -> None:
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.{version:02d}"
    inner = statement_xml(entries=(entry_xml(),)).replace("Stmt>", f"{element}>")
    [statement] = parse_camt(document(inner, namespace=namespace, body=body))
    assert (statement.kind, statement.statement_id, statement.entries[0].amount) == (
        kind,
        "S-1",
        Decimal("10.00"),
    )


def test_a_document_inside_a_business_message_envelope_is_found() -> None:
    inner = document(statement_xml()).decode().split("?>", 1)[1]
    envelope = (
        '<BizMsgEnvlp xmlns="urn:example:envelope">'
        '<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"><BizMsgIdr>B-1</BizMsgIdr>'
        f"</AppHdr>{inner}</BizMsgEnvlp>"
    )
    [statement] = parse_camt(envelope.encode())
    assert statement.statement_id == "S-1"


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (b"", "line 1"),
        (b"%PDF-1.4 not xml at all", "line 1"),
        (b"<?xml version='1.0'?>\n<Document>\n<Stmt></Document>", "line 3"),
        (b"<Document>\x00</Document>", "line 1"),
    ],
)
def test_what_is_not_well_formed_xml_is_refused_with_its_line(data: bytes, location: str) -> None:
    error = refusal(data)
    assert error.location == location
    assert "not well-formed XML" in error.message


@pytest.mark.parametrize(
    "declaration",
    [
        "<!DOCTYPE Document>",
        '<!DOCTYPE Document [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>',
        '<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_dtds_and_entities_are_refused(declaration: str) -> None:
    data = document(statement_xml()).replace(b"\n", f"\n{declaration}\n".encode(), 1)
    error = refusal(data)
    assert error.location == "line 2"
    assert "DTDs and entities are refused" in error.message


@pytest.mark.parametrize(
    "namespace",
    [
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
        "urn:iso:std:iso:20022:tech:xsd:camt.056.001.08",
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.01",
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.14",
        "urn:example:camt.053.001.02",
    ],
)
def test_a_namespace_that_is_not_camt_052_053_054_in_a_known_version_is_refused(
    namespace: str,
) -> None:
    error = refusal(document(statement_xml(), namespace=namespace))
    assert error.location == "Document"
    assert namespace[-6:] in error.message


def test_a_document_without_namespace_is_refused() -> None:
    error = refusal(b"<Document><BkToCstmrStmt/></Document>")
    assert (error.location, error.message) == (
        "Document",
        "not a camt document (root element 'Document', namespace '')",
    )


def test_the_missing_body_and_a_body_without_statement_are_refused() -> None:
    wrong_body = refusal(document(statement_xml(), body="BkToCstmrAcctRpt"))
    assert wrong_body.location == "Document/BkToCstmrStmt"
    assert refusal(document()).location == "Document/BkToCstmrStmt/Stmt"


def test_the_refusal_names_the_statement_and_entry_of_a_missing_amount() -> None:
    entries = (entry_xml(), entry_xml(), entry_xml(amount=""))
    error = refusal(document(statement_xml(), statement_xml(entries=entries)))
    assert (error.location, error.message) == (
        "Document/BkToCstmrStmt/Stmt[2]/Ntry[3]/Amt",
        "required element is missing",
    )
    assert str(error) == "Document/BkToCstmrStmt/Stmt[2]/Ntry[3]/Amt: required element is missing"


@pytest.mark.parametrize(
    ("statement", "location"),
    [
        (statement_xml(account=None), "Document/BkToCstmrStmt/Stmt[1]/Acct"),
        (
            statement_xml(account="<Acct><Ccy>EUR</Ccy></Acct>"),
            "Document/BkToCstmrStmt/Stmt[1]/Acct/Id",
        ),
        (statement_xml(statement_id=None), "Document/BkToCstmrStmt/Stmt[1]/Id"),
        (
            statement_xml(entries=(entry_xml(indicator=""),)),
            "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/CdtDbtInd",
        ),
        (
            statement_xml(account="<Acct><Id><IBAN>X</IBAN></Id></Acct>"),
            "Document/BkToCstmrStmt/Stmt[1]/Acct/Ccy",
        ),
    ],
)
def test_a_missing_required_element_is_refused_with_its_path(statement: str, location: str) -> None:
    assert refusal(document(statement)).location == location


@pytest.mark.parametrize("amount", ["12,50", "abc", "-5.00", "1e3", "1 000.00"])
def test_an_amount_that_is_not_a_decimal_is_refused(amount: str) -> None:
    error = refusal(document(statement_xml(entries=(entry_xml(amount=amount),))))
    assert (error.location, error.message) == (
        "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt",
        f"amount {amount!r} is not a decimal",
    )


@pytest.mark.parametrize(
    ("statement", "location"),
    [
        (statement_xml(entries=(entry_xml(booking="2024-02-30"),)), "Ntry[1]/BookgDt/Dt"),
        (statement_xml(entries=(entry_xml(booking="11.03.2024"),)), "Ntry[1]/BookgDt/Dt"),
        (statement_xml(created_at="yesterday"), "CreDtTm"),
    ],
)
def test_a_date_that_is_not_a_date_is_refused(statement: str, location: str) -> None:
    error = refusal(document(statement))
    assert error.location == f"Document/BkToCstmrStmt/Stmt[1]/{location}"


@pytest.mark.parametrize("sequence", ["ElctrncSeqNb", "LglSeqNb"])
def test_a_sequence_number_that_is_not_a_number_is_refused(sequence: str) -> None:
    statement = statement_xml().replace("<CreDtTm>", f"<{sequence}>7a</{sequence}><CreDtTm>")
    error = refusal(document(statement))
    assert (error.location, error.message) == (
        f"Document/BkToCstmrStmt/Stmt[1]/{sequence}",
        "'7a' is not a sequence number",
    )


def test_an_unknown_credit_debit_indicator_or_status_is_refused() -> None:
    indicator = refusal(document(statement_xml(entries=(entry_xml(indicator="CR"),))))
    assert (indicator.location, indicator.message) == (
        "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/CdtDbtInd",
        "'CR' is neither CRDT nor DBIT",
    )
    odd_status = entry_xml().replace("<Sts>BOOK</Sts>", "<Sts><Cd>WHAT</Cd></Sts>")
    status = refusal(document(statement_xml(entries=(odd_status,))))
    assert status.location == "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Sts"
