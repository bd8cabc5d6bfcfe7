"""Every golden message of the service's writers (tests/settlement/outbound/golden) read with
the simulator's readers, each value asserted as the file holds it: what the service sends is
what the simulator settles. The expectations were taken from the files by hand."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from csd_sim.engine import Engine
from csd_sim.messages.advice import Reason, StatusAdvice
from csd_sim.messages.instruction import DealPrice, Instruction
from csd_sim.messages.reading import read_instruction
from csd_sim.scenario import Scenario

SERVICE_GOLDEN = Path(__file__).parents[1] / "settlement" / "outbound" / "golden"
INSTRUCTED = "01KBV2A7Q9M3XT4C"
CANCELLATION = "01KBV2C0D1E2F3G4"

RVP_SHARES = Instruction(
    reference=INSTRUCTED,
    family="xml",
    message_type="sese.023.001.11",
    direction="RECE",
    payment="APMT",
    isin="FR0000121014",
    quantity=Decimal(400),
    quantity_type="UNIT",
    trade_date=date(2026, 11, 23),
    settlement_date=date(2026, 11, 25),
    safekeeping_account="DEMO-EOCF-0001",
    deal_price=DealPrice(Decimal("689.2"), "ACTU", "EUR"),
    place_of_settlement="SICVFRPP",
    counterparty_agent="BNPAFRPP",
    counterparty_account="DEMO-GS-EOCF-01",
    counterparty="GOLDUS33",
    settlement_amount=Decimal("275681.5"),
    currency="EUR",
    credit_debit="DBIT",
    partial_indicator="NPAR",
    priority="0050",
)
DVP_SHARES = replace(RVP_SHARES, direction="DELI", credit_debit="CRDT", priority="0010")
DFP_SHARES = replace(
    DVP_SHARES,
    payment="FREE",
    deal_price=None,
    settlement_amount=None,
    currency=None,
    credit_debit=None,
)
RVP_BOND = replace(
    RVP_SHARES,
    isin="FR001400WYO4",
    quantity=Decimal(1000000),
    quantity_type="FAMT",
    safekeeping_account="DEMO-EB-0001",
    deal_price=DealPrice(Decimal("101.25"), "PRCT"),
    place_of_settlement="MGTCBEBEECL",
    counterparty_agent="DEUTDEFF",
    counterparty_account="DEMO-DB-EB-01",
    counterparty="DEUTDEFF",
    settlement_amount=Decimal("1015876.71"),
    partial_indicator="PART",
)
# The ISO sese.020 repeats the parties and the amount, but no price, partial flag or priority.
SESE020_CANCEL = replace(
    RVP_SHARES,
    reference=CANCELLATION,
    message_type="sese.020.001.07",
    cancels=INSTRUCTED,
    deal_price=None,
    priority=None,
)


def _mt(instruction: Instruction, message_type: str) -> Instruction:
    return replace(instruction, family="mt", message_type=message_type)


EXPECTED: dict[str, tuple[str, Instruction]] = {
    "sese023_rvp_shares.xml": ("sese.023.001.11", RVP_SHARES),
    "sese023_dvp_shares.xml": ("sese.023.001.11", DVP_SHARES),
    "sese023_dfp_shares.xml": ("sese.023.001.11", DFP_SHARES),
    "sese023_rvp_bond_famt.xml": ("sese.023.001.11", RVP_BOND),
    "sese020_cancel_rvp_shares.xml": ("sese.020.001.07", SESE020_CANCEL),
    # An MT540 keeps the deal price (:90B:) though it moves no cash.
    "mt540_receive_free.txt": (
        "MT540",
        _mt(
            replace(
                RVP_SHARES, payment="FREE", settlement_amount=None, currency=None, credit_debit=None
            ),
            "MT540",
        ),
    ),
    "mt541_receive_against_payment.txt": ("MT541", _mt(RVP_SHARES, "MT541")),
    "mt541_cancel.txt": (
        "MT541",
        _mt(replace(RVP_SHARES, reference=CANCELLATION, cancels=INSTRUCTED), "MT541"),
    ),
    "mt542_deliver_free.txt": ("MT542", _mt(DFP_SHARES, "MT542")),
    "mt543_deliver_against_payment.txt": ("MT543", _mt(DVP_SHARES, "MT543")),
    "mt543_bond_famt.txt": (
        "MT543",
        _mt(replace(RVP_BOND, direction="DELI", credit_debit="CRDT"), "MT543"),
    ),
}


def test_every_golden_file_of_the_service_has_its_expectation_here():
    assert sorted(path.name for path in SERVICE_GOLDEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_simulator_reads_the_services_golden_message(name: str):
    message_format, expected = EXPECTED[name]
    content = (SERVICE_GOLDEN / name).read_bytes().decode()
    # The queue gives no reference to an XML message: its AppHdr's BizMsgIdr names it.
    read = read_instruction(message_format, content, reference=None)
    assert read == expected


@pytest.mark.parametrize(
    ("instruction", "cancellation", "family"),
    [
        ("sese023_rvp_shares.xml", "sese020_cancel_rvp_shares.xml", "xml"),
        ("mt541_receive_against_payment.txt", "mt541_cancel.txt", "mt"),
    ],
)
def test_the_services_cancellation_cancels_its_instruction_at_the_depository(
    instruction: str, cancellation: str, family: str
):
    engine = Engine(Scenario(auto_match=False))
    for name in (instruction, cancellation):
        message_format, _ = EXPECTED[name]
        content = (SERVICE_GOLDEN / name).read_bytes().decode()
        engine.receive(read_instruction(message_format, content, reference=None))

    answers = engine.take(date(2026, 11, 25))

    assert [(answer.advice, answer.family) for answer in answers][1:] == [
        (
            StatusAdvice(
                INSTRUCTED,
                "SIMT000001",
                processing="cancelled",
                processing_reasons=(Reason("CANI", "Cancelled by yourself"),),
                details=EXPECTED[instruction][1],
            ),
            family,
        )
    ]
    assert engine.leg(INSTRUCTED).state == "cancelled"
