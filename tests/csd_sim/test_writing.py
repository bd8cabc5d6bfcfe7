"""The answers as written: golden files, byte for byte (CRLF in the MT files)."""

import os
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from csd_sim.messages.advice import Advice, Confirmation, Header, Reason, StatusAdvice
from csd_sim.messages.iso20022_out import confirmation_xml, status_advice_xml
from csd_sim.messages.mt_out import confirmation_mt, status_advice_mt
from tests.csd_sim.support import AFTERNOON, BOND_RECEIPT, SETTLEMENT_DAY, SHARE_DELIVERY

GOLDEN = Path(__file__).parent / "golden"
HEADER = Header("SIMM000001", "MGTCBEBEECL", "COBADEFFXXX", AFTERNOON)
RECEIPT = replace(SHARE_DELIVERY, direction="RECE", credit_debit="DBIT")

ACCEPTED_MATCHED = StatusAdvice(
    "SI0001", "SIMT000001", processing="accepted", matching="matched", details=BOND_RECEIPT
)
UNMATCHED = StatusAdvice(
    "SI0001",
    "SIMT000001",
    processing="accepted",
    matching="unmatched",
    matching_reasons=(
        Reason("DQUA", "Counterparty instructs FAMT 990000,"),
        Reason("DMON", "Counterparty instructs EUR 790000,"),
    ),
    details=BOND_RECEIPT,
)
FAILING = StatusAdvice(
    "SI0001",
    "SIMT000001",
    matching="matched",
    settlement="failing",
    settlement_reasons=(Reason("CLAC", "Counterparty insufficient securities"),),
    details=BOND_RECEIPT,
)
FAILING_CASH = StatusAdvice(
    "SI0002",
    "SIMT000002",
    matching="matched",
    settlement="failing",
    settlement_reasons=(Reason("MONY", "Insufficient money in your account"),),
    details=RECEIPT,
)
HELD = StatusAdvice(
    "SI0002",
    "SIMT000002",
    matching="matched",
    settlement="pending",
    settlement_reasons=(
        Reason("CSDH", "Held by the CSD"),
        Reason("BLCK", "Blocked for a test", "SIMCSD"),
    ),
)
REJECTED = StatusAdvice(
    "SI0003",
    None,
    processing="rejected",
    processing_reasons=(Reason("DSEC", "SctiesSttlmTxInstr/FinInstrmId/ISIN is missing"),),
)
CANCELLED = StatusAdvice(
    "SI0001",
    "SIMT000001",
    processing="cancelled",
    processing_reasons=(Reason("CANI", "Cancelled by yourself"),),
)
PARTIAL = Confirmation(
    "SI0001",
    "SIMT000001",
    BOND_RECEIPT,
    SETTLEMENT_DAY,
    Decimal(400000),
    Decimal("316031.78"),
    "PAIN",
    Decimal(0),
    Decimal(600000),
)
FINAL = Confirmation(
    "SI0001",
    "SIMT000001",
    BOND_RECEIPT,
    SETTLEMENT_DAY,
    Decimal(600000),
    Decimal("474047.67"),
    "PARC",
    Decimal(400000),
    Decimal(0),
)
RECEIVED = Confirmation(
    "SI0002",
    "SIMT000002",
    RECEIPT,
    SETTLEMENT_DAY,
    Decimal(60),
    Decimal("11355.00"),
    "PAIN",
    Decimal(0),
    Decimal(40),
)
DELIVERED = Confirmation(
    "SI0002", "SIMT000002", SHARE_DELIVERY, SETTLEMENT_DAY, Decimal(100), Decimal("18925.00")
)
FREE = Confirmation(
    "SI0004",
    "SIMT000004",
    replace(
        BOND_RECEIPT,
        reference="SI0004",
        direction="DELI",
        payment="FREE",
        settlement_amount=None,
        currency=None,
        credit_debit=None,
    ),
    SETTLEMENT_DAY,
    Decimal(1000000),
    None,
)


def _xml(advice: Advice) -> bytes:
    if isinstance(advice, Confirmation):
        return confirmation_xml(advice, HEADER)
    return status_advice_xml(advice, HEADER)


def _mt(advice: Advice) -> bytes:
    if isinstance(advice, Confirmation):
        return confirmation_mt(advice, HEADER).encode()
    return status_advice_mt(advice, HEADER).encode()


CASES: list[tuple[str, Advice, Callable[[Advice], bytes]]] = [
    ("sese024_accepted_matched.xml", ACCEPTED_MATCHED, _xml),
    ("sese024_unmatched.xml", UNMATCHED, _xml),
    ("sese024_failing.xml", FAILING, _xml),
    ("sese024_pending_held.xml", HELD, _xml),
    ("sese024_rejected.xml", REJECTED, _xml),
    ("sese024_cancelled.xml", CANCELLED, _xml),
    ("sese025_partial.xml", PARTIAL, _xml),
    ("sese025_final.xml", FINAL, _xml),
    ("mt548_accepted_matched.txt", ACCEPTED_MATCHED, _mt),
    ("mt548_unmatched.txt", UNMATCHED, _mt),
    ("mt548_failing_cash.txt", FAILING_CASH, _mt),
    ("mt548_pending_held.txt", HELD, _mt),
    ("mt548_rejected.txt", REJECTED, _mt),
    ("mt548_cancelled.txt", CANCELLED, _mt),
    ("mt545_partial.txt", RECEIVED, _mt),
    ("mt547_delivered.txt", DELIVERED, _mt),
    ("mt546_free_famt.txt", FREE, _mt),
    ("mt545_famt_final.txt", FINAL, _mt),
]


@pytest.mark.parametrize(("name", "advice", "write"), CASES, ids=[c[0] for c in CASES])
def test_every_answer_is_written_as_its_golden_file(
    name: str, advice: Advice, write: Callable[[Advice], bytes]
):
    written = write(advice)
    if os.environ.get("CSD_SIM_WRITE_GOLDEN"):  # regenerate, then review the diff
        (GOLDEN / name).write_bytes(written)
    assert written == (GOLDEN / name).read_bytes()
