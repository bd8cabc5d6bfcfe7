"""The depository's daily penalty list (semt.044.001.01) read into plain values, and every
malformed message refused naming the element."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import PenaltyReportError, PenaltyUpdate, ReportedPenalty
from app.penalties.reports.semt044 import parse_semt044

GOLDEN = Path(__file__).parent / "semt044_daily.xml"
RPT = "Document/SctiesTxPnltiesRpt"
FIRST = f"{RPT}/Pnlty[1]/PnltyPerCtrPty[1]/PnltyDtls[1]"


def golden() -> bytes:
    return GOLDEN.read_bytes()


def test_the_report_header_reads_sender_date_and_list() -> None:
    report = parse_semt044(golden())

    assert (report.report_id, report.report_date, report.message_id) == (
        "DPL-20261124-0042",
        date(2026, 11, 25),
        "PNL20261125000001",
    )
    assert (report.sender, report.account_owner, report.safekeeping_account) == (
        "CSDXDEFFXXX",
        "OURBDEFFXXX",
        "OURB-SAFE-01",
    )
    assert (report.list_type, report.page, report.last_page) == ("FWIS", 1, True)


def test_every_penalty_of_every_currency_and_counterparty_is_a_line() -> None:
    lines = parse_semt044(golden()).lines

    assert lines == (
        ReportedPenalty(
            penalty_id="PEN-EUR-0001",
            kind=PenaltyKind.SETTLEMENT_FAIL,
            our_reference="SEME-0001",
            their_reference="T2S-7700001",
            isin="DE0005557508",
            days=(date(2026, 11, 24),),
            amount=Decimal("12.34"),
            currency="EUR",
            payer=Party.US,
            update=PenaltyUpdate.NEW,
            status="ACTV",
            computed_on=date(2026, 11, 24),
            intended_settlement_date=date(2026, 11, 20),
            counterparty_bic="DEUTDEFFXXX",
            counterparty_lei="7LTWFZYICNSX8D621K86",
            location=FIRST,
        ),
        ReportedPenalty(
            penalty_id="PEN-EUR-0002",
            kind=PenaltyKind.LATE_MATCHING_FAIL,
            our_reference="SEME-0002",
            their_reference="MITI-7700002",
            isin="FR0000120271",
            days=(date(2026, 11, 20), date(2026, 11, 23)),
            amount=Decimal("7.50"),
            currency="EUR",
            payer=Party.COUNTERPARTY,
            update=PenaltyUpdate.NEW,
            status="ACTV",
            computed_on=date(2026, 11, 24),
            counterparty_bic="DEUTDEFFXXX",
            counterparty_lei="7LTWFZYICNSX8D621K86",
            location=f"{RPT}/Pnlty[1]/PnltyPerCtrPty[1]/PnltyDtls[2]",
        ),
        ReportedPenalty(
            penalty_id="PEN-EUR-0003",
            kind=PenaltyKind.SETTLEMENT_FAIL,
            our_reference="SEME-0003",
            their_reference="T2S-7700003",
            isin=None,
            days=(date(2026, 11, 24),),  # no ClctnData: the day computed
            amount=Decimal("0.85"),
            currency="EUR",
            payer=Party.US,
            update=PenaltyUpdate.REMOVED,
            status="REMO",
            computed_on=date(2026, 11, 24),
            counterparty_bic="BNPAFRPPXXX",
            counterparty_lei="R0MUWSFPU8MPRO8K5P83",
            location=f"{RPT}/Pnlty[1]/PnltyPerCtrPty[2]/PnltyDtls[1]",
        ),
        ReportedPenalty(
            penalty_id="PEN-DKK-0001",
            kind=PenaltyKind.SETTLEMENT_FAIL,
            our_reference="SEME-0004",
            their_reference="T2S-7700004",
            isin="DK0010244508",
            days=(date(2026, 11, 24),),
            amount=Decimal("95.20"),
            currency="DKK",
            payer=Party.COUNTERPARTY,
            computed_on=date(2026, 11, 24),
            intended_settlement_date=date(2026, 11, 23),
            counterparty_bic="DABADKKKXXX",
            location=f"{RPT}/Pnlty[2]/PnltyPerCtrPty[1]/PnltyDtls[1]",
        ),
    )


def test_the_document_alone_reads_with_the_message_id_given() -> None:
    text = golden().decode()
    document = text[text.index("<Document") : text.index("</Document>") + len("</Document>")]

    report = parse_semt044(document.encode(), message_id="GIVEN-1")

    assert (report.message_id, report.sender, len(report.lines)) == ("GIVEN-1", "CSDXDEFFXXX", 4)


def test_an_amended_list_modifies_its_lines() -> None:
    amended = golden().replace(b"<Cd>FWIS</Cd>", b"<Cd>FWAM</Cd>")

    updates = [line.update for line in parse_semt044(amended).lines]

    assert updates == [
        PenaltyUpdate.MODIFIED,
        PenaltyUpdate.MODIFIED,
        PenaltyUpdate.REMOVED,
        PenaltyUpdate.MODIFIED,
    ]


def test_a_switched_penalty_is_a_modification() -> None:
    switched = golden().replace(b"<Cd>ACTV</Cd>", b"<Cd>SWIC</Cd>", 1)

    first = parse_semt044(switched).lines[0]

    assert (first.status, first.update) == ("SWIC", PenaltyUpdate.MODIFIED)


def _refused(data: bytes, **kwargs: str) -> PenaltyReportError:
    with pytest.raises(PenaltyReportError) as caught:
        parse_semt044(data, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "location", "message"),
    [
        (b"<Tp>SEFP</Tp>", b"<Tp>XXXX</Tp>", f"{FIRST}/Tp", "'XXXX' is not one of SEFP, LMFP"),
        (
            b'<Amt Ccy="EUR">12.34</Amt><CdtDbt>DBIT</CdtDbt></CmptdAmt>',
            b'<Amt Ccy="EUR">-12.34</Amt><CdtDbt>DBIT</CdtDbt></CmptdAmt>',
            f"{FIRST}/CmptdAmt/Amt",
            "'-12.34' is not a non-negative decimal",
        ),
        (
            b'<Amt Ccy="EUR">12.34</Amt><CdtDbt>DBIT</CdtDbt></CmptdAmt>',
            b'<Amt Ccy="EUR">12.34</Amt></CmptdAmt>',
            f"{FIRST}/CmptdAmt/CdtDbt",
            "is missing: the amount says neither DBIT (we pay) nor CRDT (we receive)",
        ),
        (
            b'<Amt Ccy="EUR">12.34</Amt><CdtDbt>DBIT</CdtDbt></CmptdAmt>',
            b'<Amt Ccy="USD">12.34</Amt><CdtDbt>DBIT</CdtDbt></CmptdAmt>',
            f"{FIRST}/CmptdAmt/Amt/@Ccy",
            "'USD' is not the block's currency EUR",
        ),
        (
            b"<AcctOwnrTxId>SEME-0001</AcctOwnrTxId>",
            b"",
            f"{FIRST}/RltdTx/Ref/AcctOwnrTxId",
            "required element is missing",
        ),
        (
            b"<ISIN>DE0005557508</ISIN>",
            b"<ISIN>DE0005557509</ISIN>",
            f"{FIRST}/ClctnData[1]/FinInstrmAttrbts/Id/ISIN",
            "'DE0005557509' is not a valid ISIN (The number's checksum or check digit is invalid.)",
        ),
        (
            b"<Dt>2026-11-23</Dt>",
            b"<Dt>2026-11-31</Dt>",
            f"{RPT}/Pnlty[1]/PnltyPerCtrPty[1]/PnltyDtls[2]/ClctnData[1]/Dt",
            "'2026-11-31' is not a date",
        ),
        (
            b"<Sts><Sts><Cd>ACTV</Cd>",
            b"<Sts><Sts><Cd>GONE</Cd>",
            f"{FIRST}/Sts/Sts/Cd",
            "'GONE' is not one of ACTV, NCOM, OTHR, RLOC, REIC, REMO, SWIC",
        ),
        (
            b"<RptId>DPL-20261124-0042</RptId>",
            b"",
            f"{RPT}/RptGnlDtls/RptId",
            "required element is missing",
        ),
        (
            b"<AnyBIC>DEUTDEFF</AnyBIC>",
            b"<AnyBIC>DEUT</AnyBIC>",
            f"{RPT}/Pnlty[1]/PnltyPerCtrPty[1]/PtyId/Id/Id/AnyBIC",
            "'DEUT' is not a BIC",
        ),
        (
            b"<Cd>FWIS</Cd>",
            b"<Cd>DAIL</Cd>",
            f"{RPT}/RptGnlDtls/PnltyListTp/Cd",
            "'DAIL' is not one of FWIS, FWAM, CURR",
        ),
        (
            b"<MsgDefIdr>semt.044.001.01</MsgDefIdr>",
            b"<MsgDefIdr>sese.024.001.12</MsgDefIdr>",
            "AppHdr/MsgDefIdr",
            "'sese.024.001.12' is not the Document's semt.044.001.01",
        ),
    ],
)
def test_a_malformed_element_is_refused_by_its_path(
    old: bytes, new: bytes, location: str, message: str
) -> None:
    data = golden()
    assert old in data

    error = _refused(data.replace(old, new, 1))

    assert (error.location, error.message) == (location, message)


def test_a_settlement_fail_over_two_days_is_refused() -> None:
    end_of_first = b"</ClctnData>\n            <RltdTx>"
    data = golden().replace(
        end_of_first,
        b"</ClctnData><ClctnData><Dt>2026-11-25</Dt></ClctnData>" + end_of_first[12:],
        1,
    )

    error = _refused(data)

    assert (error.location, error.message) == (
        f"{FIRST}/ClctnData",
        "holds 2 days: a settlement fail penalty is for one business day",
    )


def test_another_message_is_refused_by_its_namespace() -> None:
    data = golden().replace(b'semt.044.001.01"', b'semt.044.001.09"')

    error = _refused(data)

    assert (error.location, error.message) == (
        "Document",
        "namespace 'urn:iso:std:iso:20022:tech:xsd:semt.044.001.09' is not semt.044.001.01",
    )


def test_a_message_id_other_than_the_headers_is_refused() -> None:
    error = _refused(golden(), message_id="OTHER")

    assert (error.location, error.message) == (
        "AppHdr/BizMsgIdr",
        "'PNL20261125000001' differs from the message id given ('OTHER')",
    )


def test_entities_are_never_expanded() -> None:
    data = b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x "y">]>\n<Document/>'

    error = _refused(data)

    assert error.location == "line 2"


def test_an_envelope_without_a_document_is_refused() -> None:
    error = _refused(b"<BizMsg><Other/></BizMsg>")

    assert (error.location, error.message) == (
        "Document",
        "is missing: the message (BizMsg) holds no ISO 20022 Document",
    )
