"""The message writers against golden files, byte for byte: sese.023.001.11 and
sese.020.001.07 (XML with their head.001.001.02 header) and MT540-543 (block 4 text, CRLF).
``UPDATE_GOLDEN=1 pytest tests/settlement/outbound/test_formats.py`` rewrites the files: read
the diff before committing it."""

import dataclasses
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from defusedxml import ElementTree as DefusedET

from app.settlement.outbound.formats import mt54x
from app.settlement.outbound.formats.facts import (
    DealPrice,
    Header,
    InstructionFacts,
    MessageFormat,
    PriceKind,
    Problem,
    Unwritable,
    problems,
)
from app.settlement.outbound.formats.writers import write

GOLDEN = Path(__file__).parent / "golden"
LVMH = "FR0000121014"
OAT = "FR001400WYO4"

SHARES = InstructionFacts(
    message_format=MessageFormat.ISO20022,
    receive=True,
    against_payment=True,
    trade_date=date(2026, 11, 23),
    settlement_date=date(2026, 11, 25),
    deal_price=DealPrice(value=Decimal("689.2000"), kind=PriceKind.AMOUNT, currency="EUR"),
    isin=LVMH,
    quantity=Decimal("400"),
    face_amount=False,
    safekeeping_account="DEMO-EOCF-0001",
    our_agent_bic="SICVFRPP",
    place_of_settlement="SICVFRPP",
    counterparty_agent_bic="BNPAFRPP",
    counterparty_account="DEMO-GS-EOCF-01",
    counterparty_bic="GOLDUS33",
    settlement_amount=Decimal("275681.50"),
    currency="EUR",
    credit_debit="DBIT",
    partial_indicator="NPAR",
    priority=50,
)
DELIVERY = dataclasses.replace(SHARES, receive=False, credit_debit="CRDT", priority=10)
FREE_DELIVERY = dataclasses.replace(
    DELIVERY, against_payment=False, settlement_amount=None, credit_debit=None, deal_price=None
)
BOND = dataclasses.replace(
    SHARES,
    isin=OAT,
    quantity=Decimal("1000000"),
    face_amount=True,
    deal_price=DealPrice(value=Decimal("101.25"), kind=PriceKind.PERCENT, currency="EUR"),
    settlement_amount=Decimal("1015876.71"),
    safekeeping_account="DEMO-EB-0001",
    our_agent_bic="MGTCBEBEECL",
    place_of_settlement="MGTCBEBEECL",
    counterparty_agent_bic="DEUTDEFF",
    counterparty_account="DEMO-DB-EB-01",
    counterparty_bic="DEUTDEFF",
    partial_indicator="PART",
)
HEADER = Header(
    reference="01KBV2A7Q9M3XT4C",
    sender_bic="DEMOFRPPXXX",
    created_at=datetime(2026, 11, 25, 15, 0, 0, 123456, tzinfo=UTC),
)
CANCELLING = dataclasses.replace(HEADER, reference="01KBV2C0D1E2F3G4", cancels=HEADER.reference)
MT = MessageFormat.ISO15022


def _mt(facts: InstructionFacts) -> InstructionFacts:
    return dataclasses.replace(facts, message_format=MT)


CASES = [
    ("sese023_rvp_shares.xml", SHARES, HEADER, "sese.023.001.11"),
    ("sese023_dvp_shares.xml", DELIVERY, HEADER, "sese.023.001.11"),
    ("sese023_dfp_shares.xml", FREE_DELIVERY, HEADER, "sese.023.001.11"),
    ("sese023_rvp_bond_famt.xml", BOND, HEADER, "sese.023.001.11"),
    ("sese020_cancel_rvp_shares.xml", SHARES, CANCELLING, "sese.020.001.07"),
    (
        "mt540_receive_free.txt",
        _mt(dataclasses.replace(SHARES, against_payment=False, settlement_amount=None)),
        HEADER,
        "MT540",
    ),
    ("mt541_receive_against_payment.txt", _mt(SHARES), HEADER, "MT541"),
    ("mt542_deliver_free.txt", _mt(FREE_DELIVERY), HEADER, "MT542"),
    ("mt543_deliver_against_payment.txt", _mt(DELIVERY), HEADER, "MT543"),
    (
        "mt543_bond_famt.txt",
        _mt(dataclasses.replace(BOND, receive=False, credit_debit="CRDT")),
        HEADER,
        "MT543",
    ),
    ("mt541_cancel.txt", _mt(SHARES), CANCELLING, "MT541"),
]


@pytest.mark.parametrize(
    ("name", "facts", "header", "message_format"), CASES, ids=[c[0] for c in CASES]
)
def test_each_format_writes_its_golden_file_byte_for_byte(
    name: str, facts: InstructionFacts, header: Header, message_format: str
) -> None:
    written_format, content = write(facts, header)
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(content.encode("utf-8"))
    assert written_format == message_format
    assert content.encode("utf-8") == golden.read_bytes()


@pytest.mark.parametrize(("name", "facts", "header", "message_format"), CASES[:5])
def test_the_xml_is_well_formed_and_names_our_reference_in_its_header(
    name: str, facts: InstructionFacts, header: Header, message_format: str
) -> None:
    _, content = write(facts, header)
    root = DefusedET.fromstring(content)
    head = "{urn:iso:std:iso:20022:tech:xsd:head.001.001.02}"
    assert root.tag == "Envelope"
    assert root.findtext(f"{head}AppHdr/{head}BizMsgIdr") == header.reference
    assert root.findtext(f"{head}AppHdr/{head}MsgDefIdr") == message_format
    assert root.findtext(f"{head}AppHdr/{head}CreDt") == "2026-11-25T15:00:00Z"
    document = root.find(f"{{urn:iso:std:iso:20022:tech:xsd:{message_format}}}Document")
    assert document is not None


def test_the_same_facts_give_the_same_bytes() -> None:
    assert write(SHARES, HEADER) == write(SHARES, HEADER)


def test_xml_text_is_escaped_not_concatenated() -> None:
    # '&' and '<' are legal in an ISO 20022 account (Max35Text): escaped, the XML still parses.
    facts = dataclasses.replace(SHARES, counterparty_account="A&B<C>'\"")
    _, content = write(facts, HEADER)
    assert "A&amp;B&lt;C&gt;'\"" in content
    ids = [e.text for e in DefusedET.fromstring(content).iter() if e.tag.endswith("}Id")]
    assert "A&B<C>'\"" in ids


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("100"), "100,"),
        (Decimal("1E+2"), "100,"),
        (Decimal("189.2500"), "189,25"),
        (Decimal("1234567.8"), "1234567,8"),
        (Decimal("0.5"), "0,5"),
    ],
)
def test_swift_numbers_take_a_decimal_comma_and_no_separators(value: Decimal, text: str) -> None:
    assert mt54x.number(value) == text


def test_an_account_outside_the_x_set_is_a_problem_for_iso15022_only() -> None:
    facts = dataclasses.replace(_mt(SHARES), counterparty_account="DEMO_GS#01")

    assert problems(facts) == [
        Problem(
            "counterparty_ssi.account",
            "'DEMO_GS#01' has characters outside the SWIFT X set: '_', '#'",
        )
    ]
    with pytest.raises(Unwritable):
        write(facts, HEADER)
    assert problems(dataclasses.replace(facts, message_format=MessageFormat.ISO20022)) == []


def test_an_account_longer_than_35_characters_cannot_be_written_in_either_format() -> None:
    long = "A" * 36
    for message_format in MessageFormat:
        facts = dataclasses.replace(SHARES, message_format=message_format, safekeeping_account=long)
        assert problems(facts) == [
            Problem("safekeeping_account", f"'{long}' is 36 characters, 35 at most")
        ]


def test_a_character_xml_cannot_carry_is_a_problem() -> None:
    facts = dataclasses.replace(SHARES, counterparty_account="DEMO\x01")
    assert [p.field for p in problems(facts)] == ["counterparty_ssi.account"]
