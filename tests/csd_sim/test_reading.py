"""Our outbound instructions as the simulator reads them: every format, and the malformed."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from csd_sim.messages.instruction import DealPrice, Instruction, MalformedMessage
from csd_sim.messages.reading import read_instruction

MESSAGES = Path(__file__).parent / "messages"


def _read(name: str, message_format: str, reference: str | None = None) -> Instruction:
    content = (MESSAGES / name).read_text()
    return read_instruction(message_format, content, reference=reference)


def test_a_sese023_bond_receipt_against_payment_in_face_amount():
    assert _read("sese023_bond_rece.xml", "sese.023.001.11") == Instruction(
        reference="SI26112400001",
        family="xml",
        message_type="sese.023.001.11",
        direction="RECE",
        payment="APMT",
        isin="DE0001102614",
        quantity=Decimal("1000000"),
        quantity_type="FAMT",
        trade_date=date(2026, 11, 24),
        settlement_date=date(2026, 11, 26),
        safekeeping_account="DEMO-EB-0001",
        deal_price=DealPrice(Decimal("101.25"), "PRCT"),
        place_of_settlement="MGTCBEBEECL",
        counterparty_agent="GOLDUS33",
        counterparty_account="DEMO-GS-EB-01",
        counterparty="GOLDUS33",
        settlement_amount=Decimal("790079.45"),
        currency="EUR",
        credit_debit="DBIT",
        partial_indicator="PART",
        priority="0050",
    )


def test_a_sese023_share_delivery_in_an_envelope_reads_the_receiving_side_as_the_counterparty():
    read = _read("sese023_shares_deli.xml", "sese.023.001.11")
    assert (read.reference, read.direction, read.payment) == ("SI26112400002", "DELI", "APMT")
    assert (read.quantity, read.quantity_type) == (Decimal("100"), "UNIT")
    assert read.deal_price == DealPrice(Decimal("189.25"), "ACTU", "EUR")
    assert (read.counterparty_agent, read.counterparty_account, read.counterparty) == (
        "BNPAFRPP",
        "DEMO-BNP-EOCF-01",
        None,
    )
    assert (read.settlement_amount, read.credit_debit) == (Decimal("18925.00"), "CRDT")
    assert (read.partial_indicator, read.priority) == ("NPAR", "0004")
    assert read.place_of_settlement == "SICVFRPPXXX"


def test_a_sese020_names_the_instruction_it_cancels_and_takes_its_own_reference_from_the_queue():
    assert _read("sese020_cancel.xml", "sese.020.001.07", reference="SI26112400009") == Instruction(
        reference="SI26112400009",
        family="xml",
        message_type="sese.020.001.07",
        cancels="SI26112400001",
        direction="RECE",
        payment="APMT",
        isin="DE0001102614",
        quantity=Decimal("1000000"),
        quantity_type="FAMT",
        trade_date=date(2026, 11, 24),
        settlement_date=date(2026, 11, 26),
        safekeeping_account="DEMO-EB-0001",
    )


def test_a_sese020_of_the_first_contract_naming_the_cancelled_reference_as_text_is_refused():
    text = (MESSAGES / "sese020_cancel.xml").read_text()
    iso_reference = """<AcctOwnrTxId>
      <SctiesSttlmTxId>
        <TxId>SI26112400001</TxId>
        <SctiesMvmntTp>RECE</SctiesMvmntTp>
        <Pmt>APMT</Pmt>
      </SctiesSttlmTxId>
    </AcctOwnrTxId>"""
    assert iso_reference in text
    text = text.replace(iso_reference, "<AcctOwnrTxId>SI26112400001</AcctOwnrTxId>")
    with pytest.raises(MalformedMessage) as raised:
        read_instruction("sese.020.001.07", text, reference="SI26112400009")
    assert (raised.value.element, raised.value.code) == (
        "SctiesTxCxlReq/AcctOwnrTxId/SctiesSttlmTxId/TxId",
        "OTHR",
    )


def test_an_mt541_with_crlf_and_a_description_line_under_35b():
    assert _read("mt541_shares.txt", "MT541") == Instruction(
        reference="SI26112400003",
        family="mt",
        message_type="MT541",
        direction="RECE",
        payment="APMT",
        isin="FR0000120271",
        quantity=Decimal("100"),
        quantity_type="UNIT",
        trade_date=date(2026, 11, 24),
        settlement_date=date(2026, 11, 26),
        safekeeping_account="DEMO-EOCF-0001",
        deal_price=DealPrice(Decimal("189.25"), "ACTU", "EUR"),
        place_of_settlement="SICVFRPP",
        counterparty_agent="BNPAFRPP",
        counterparty_account="DEMO-BNP-EOCF-01",
        counterparty="BNPAFRPP",
        settlement_amount=Decimal("18925"),
        currency="EUR",
        credit_debit="DBIT",
        partial_indicator="PARQ",
        priority="0050",
    )


def test_an_mt542_cancellation_of_a_bond_delivery_in_famt_whole_message():
    read = _read("mt542_bond_cancel.txt", "MT542")
    assert (read.reference, read.cancels, read.family) == ("SI26112400005", "SI26112400004", "mt")
    assert (read.direction, read.payment) == ("DELI", "FREE")
    assert (read.quantity, read.quantity_type) == (Decimal("1000000"), "FAMT")
    assert read.deal_price == DealPrice(Decimal("101.25"), "PRCT")
    assert (read.counterparty_agent, read.counterparty_account, read.counterparty) == (
        "DEUTDEFF",
        "DEMO-DB-EB-01",
        None,
    )
    assert (read.settlement_amount, read.currency, read.credit_debit) == (None, None, None)


def test_an_mt543_delivery_against_payment_credits_the_amount():
    text = (MESSAGES / "mt541_shares.txt").read_text().replace(":95P::DEAG//", ":95P::REAG//")
    text = text.replace(":95P::SELL//", ":95P::BUYR//")
    read = read_instruction("MT543", text, reference=None)
    assert (read.direction, read.payment, read.credit_debit) == ("DELI", "APMT", "CRDT")
    assert (read.counterparty_agent, read.counterparty) == ("BNPAFRPP", "BNPAFRPP")


def test_an_mt540_receives_free():
    text = (MESSAGES / "mt542_bond_cancel.txt").read_text().replace(":23G:CANC", ":23G:NEWM")
    text = text.replace(":95P::REAG//", ":95P::DEAG//")
    read = read_instruction("MT540", text, reference=None)
    assert (read.direction, read.payment, read.cancels) == ("RECE", "FREE", None)
    assert (read.counterparty_agent, read.counterparty_account) == ("DEUTDEFF", "DEMO-DB-EB-01")


def _bond(old: str, new: str) -> str:
    text = (MESSAGES / "sese023_bond_rece.xml").read_text()
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("message_format", "content", "element", "code"),
    [
        ("sese.023.001.11", "<Document>", "body", "OTHR"),
        (
            "sese.023.001.11",
            "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
            "body",
            "OTHR",
        ),
        ("sese.023.001.11", "<Envelope/>", "Document", "OTHR"),
        ("sese.023.001.11", _bond("sese.023.001.11", "sese.023.001.09"), "Document", "OTHR"),
        ("sese.020.001.07", _bond("", ""), "Document", "OTHR"),
        (
            "sese.023.001.11",
            _bond("<ISIN>DE0001102614</ISIN>", ""),
            "SctiesSttlmTxInstr/FinInstrmId/ISIN",
            "DSEC",
        ),
        (
            "sese.023.001.11",
            _bond("DE0001102614", "DE0001102615"),
            "SctiesSttlmTxInstr/FinInstrmId/ISIN",
            "DSEC",
        ),
        (
            "sese.023.001.11",
            _bond("<FaceAmt>1000000</FaceAmt>", "<FaceAmt>1e6</FaceAmt>"),
            "SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/FaceAmt",
            "DQUA",
        ),
        (
            "sese.023.001.11",
            _bond("<Dt>2026-11-26</Dt>", "<Dt>26/11/2026</Dt>"),
            "SctiesSttlmTxInstr/TradDtls/SttlmDt/Dt/Dt",
            "DDAT",
        ),
        (
            "sese.023.001.11",
            _bond("<SctiesMvmntTp>RECE", "<SctiesMvmntTp>RECV"),
            "SctiesSttlmTxInstr/SttlmTpAndAddtlParams/SctiesMvmntTp",
            "OTHR",
        ),
        (
            "sese.023.001.11",
            _bond(' Ccy="EUR">790079.45', ">790079.45"),
            "SctiesSttlmTxInstr/SttlmAmt/Amt/@Ccy",
            "OTHR",
        ),
        (
            "sese.023.001.11",
            _bond("<Nmrc>0050</Nmrc>", "<Nmrc>50</Nmrc>"),
            "SctiesSttlmTxInstr/SttlmParams/Prty/Nmrc",
            "OTHR",
        ),
        (
            "sese.023.001.11",
            _bond("<PrtlSttlmInd>PART", "<PrtlSttlmInd>PARX"),
            "SctiesSttlmTxInstr/SttlmParams/PrtlSttlmInd",
            "OTHR",
        ),
        (
            "sese.023.001.11",
            _bond(
                "<SfkpgAcct><Id>DEMO-EB-0001</Id></SfkpgAcct>\n    </QtyAndAcctDtls>",
                "</QtyAndAcctDtls>",
            ),
            "SctiesSttlmTxInstr/QtyAndAcctDtls/SfkpgAcct/Id",
            "SAFE",
        ),
        ("MT541", ":16R:GENL\n:20C::SEME//X\n:23G:NEWM\n:16S:GENL\n", "FIAC/:36B::SETT//", "DQUA"),
        ("MT541", ":16R:GENL\n:20C::SEME//X\n:23G:NEWM\n", ":16R:GENL", "OTHR"),
        ("MT541", "garbage\n:16R:GENL\n", "line 1", "OTHR"),
        ("MT544", ":16R:GENL\n", "format", "OTHR"),
    ],
)
def test_a_malformed_message_names_the_element_and_the_rejection_reason(
    message_format: str, content: str, element: str, code: str
):
    with pytest.raises(MalformedMessage) as raised:
        read_instruction(message_format, content, reference=None)
    assert (raised.value.element, raised.value.code) == (element, code)


@pytest.mark.parametrize(
    ("old", "new", "element", "code"),
    [
        ("UNIT/100,", "UNIT/100.5", "FIAC/:36B::SETT//", "DQUA"),
        ("UNIT/100,", "SHRS/100,", "FIAC/:36B::SETT//", "DQUA"),
        (":98A::SETT//20261126", ":98A::SETT//2026-11-26", "TRADDET/:98A::SETT//", "DDAT"),
        (":35B:ISIN FR0000120271", ":35B:/XX/123", "TRADDET/:35B:", "DSEC"),
        (":23G:NEWM", ":23G:REPL", "GENL/:23G:", "OTHR"),
        (":22F::STCO//PARQ", ":22F::STCO//PARX", "SETDET/:22F::STCO//", "OTHR"),
        (":16S:FIAC", ":16S:FIAX", ":16S:FIAX", "OTHR"),
        (":19A::SETT//EUR18925,", ":19A::SETT//EUR18925", "AMT/:19A::SETT//", "OTHR"),
    ],
)
def test_a_malformed_mt_names_the_field(old: str, new: str, element: str, code: str):
    text = (MESSAGES / "mt541_shares.txt").read_text()
    assert old in text
    with pytest.raises(MalformedMessage) as raised:
        read_instruction("MT541", text.replace(old, new), reference=None)
    assert (raised.value.element, raised.value.code) == (element, code)
