"""Every answer of the simulator reads with the service's parsers (``app.settlement.advices``
``iso20022`` and ``swift``): the values they take out are the ones the simulator meant. Tests
may import the app; the simulator never does."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.settlement.advices.iso20022 import read_advice
from app.settlement.advices.swift import read_mt
from csd_sim.messages.advice import Advice, Reason, StatusAdvice
from tests.csd_sim.test_writing import (
    ACCEPTED_MATCHED,
    FAILING,
    FINAL,
    PARTIAL,
    UNMATCHED,
    _xml,
)

PENDING = StatusAdvice(
    "SI0001",
    "SIMT000001",
    matching="matched",
    settlement="pending",
    settlement_reasons=(Reason("CSDH", "Held by the CSD"),),
    details=ACCEPTED_MATCHED.details,
)
RELEASED = StatusAdvice("SI0001", "SIMT000001", matching="matched", settlement="pending")
IDS = {"message_id": "SIMM000001", "reference": "SI0001"}
GOLDEN = Path(__file__).parent / "golden"


def iso(code: str, text: str) -> dict[str, Any]:
    return {"code": code, "text": text}


def matched(**settlement: Any) -> dict[str, Any]:
    blocks: dict[str, Any] = {"matching": {"status": "matched"}}
    if settlement:
        blocks["settlement"] = settlement
    return blocks


BOND = {"isin": "DE0001102614", "securities_movement": "RECE", "payment": "APMT"}


@pytest.mark.parametrize(
    ("advice", "expected"),
    [
        (
            ACCEPTED_MATCHED,
            {
                **IDS,
                **BOND,
                "processing": {"status": "acknowledged"},
                **matched(),
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
        (
            UNMATCHED,
            {
                **IDS,
                **BOND,
                "processing": {"status": "acknowledged"},
                "matching": {
                    "status": "unmatched",
                    "reasons": [
                        iso("DQUA", "Counterparty instructs FAMT 990000,"),
                        iso("DMON", "Counterparty instructs EUR 790000,"),
                    ],
                },
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
        (
            FAILING,
            {
                **IDS,
                **BOND,
                **matched(
                    status="failing",
                    reasons=[iso("CLAC", "Counterparty insufficient securities")],
                ),
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
        (
            PENDING,
            {
                **IDS,
                **BOND,
                **matched(status="pending", reasons=[iso("CSDH", "Held by the CSD")]),
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
        (RELEASED, {**IDS, **matched(status="pending")}),
        (
            PARTIAL,
            {
                **IDS,
                "securities_movement": "RECE",
                "payment": "APMT",
                "partial": True,
                "settlement_date": date(2026, 11, 26),
                "isin": "DE0001102614",
                "settled_quantity": Decimal(400000),
                "settled_amount": Decimal("316031.78"),
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
        (
            FINAL,
            {
                **IDS,
                "securities_movement": "RECE",
                "payment": "APMT",
                "partial": False,
                "settlement_date": date(2026, 11, 26),
                "isin": "DE0001102614",
                "settled_quantity": Decimal(600000),
                "settled_amount": Decimal("474047.67"),
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
    ],
    ids=["matched", "unmatched", "failing", "pending-held", "pending-released", "partial", "final"],
)
def test_the_services_parser_reads_what_the_simulator_writes(
    advice: Advice, expected: dict[str, Any]
):
    read = read_advice(_xml(advice))
    assert read.version == (
        "sese.025.001.12" if "settled_quantity" in expected else "sese.024.001.12"
    )
    values = read.advice.model_dump(exclude_defaults=True, mode="python")
    for name in ("message_type", "sender", "csd_reference"):
        values.pop(name, None)
    assert values == expected


SIMULATOR = {"message_id": "SIMM000001", "sender": "MGTCBEBEECL"}
BUND_RECEIPT = {
    "isin": "DE0001102614",
    "currency": "EUR",
    "credit_debit": "DBIT",
    "securities_movement": "RECE",
    "payment": "APMT",
}
UNMATCHED_REASONS = [
    iso("DQUA", "Counterparty instructs FAMT 990000,"),
    iso("DMON", "Counterparty instructs EUR 790000,"),
]
HELD_REASONS = [
    iso("CSDH", "Held by the CSD"),
    {"proprietary": True, "issuer": "SIMCSD", "code": "BLCK", "text": "Blocked for a test"},
]
# The MT548 rejection's free text is cut at 35 characters: the service joins the lines again.
REJECTED_REASONS = [iso("DSEC", "SctiesSttlmTxInstr/FinInstrmId/ISIN is missing")]


def status(reference: str, transaction: str | None, **blocks: Any) -> dict[str, Any]:
    found = {**SIMULATOR, "message_type": "sese.024", "reference": reference, **blocks}
    if transaction is not None:
        found["csd_reference"] = transaction
    return found


def confirmation(reference: str, transaction: str, **values: Any) -> dict[str, Any]:
    return {
        **SIMULATOR,
        "message_type": "sese.025",
        "reference": reference,
        "csd_reference": transaction,
        "settlement_date": date(2026, 11, 26),
        **values,
    }


ACKNOWLEDGED = {"status": "acknowledged"}
CANCELLED = {"status": "cancelled", "reasons": [iso("CANI", "Cancelled by yourself")]}
MATCHED = {"status": "matched"}
FINAL_BUND = confirmation(
    "SI0001",
    "SIMT000001",
    settled_quantity=Decimal(600000),
    settled_amount=Decimal("474047.67"),
    partial=False,
    **BUND_RECEIPT,
)
PARTIAL_BUND = confirmation(
    "SI0001",
    "SIMT000001",
    settled_quantity=Decimal(400000),
    settled_amount=Decimal("316031.78"),
    partial=True,
    **BUND_RECEIPT,
)
# Every golden answer of the simulator: the version the service reads and all it takes out
# (the MT548 carries no ISIN, amount or movement, so neither does what is read from it).
GOLDEN_READ: dict[str, tuple[str, dict[str, Any]]] = {
    "sese024_accepted_matched.xml": (
        "sese.024.001.12",
        status("SI0001", "SIMT000001", processing=ACKNOWLEDGED, matching=MATCHED, **BUND_RECEIPT),
    ),
    "sese024_unmatched.xml": (
        "sese.024.001.12",
        status(
            "SI0001",
            "SIMT000001",
            processing=ACKNOWLEDGED,
            matching={"status": "unmatched", "reasons": UNMATCHED_REASONS},
            **BUND_RECEIPT,
        ),
    ),
    "sese024_failing.xml": (
        "sese.024.001.12",
        status(
            "SI0001",
            "SIMT000001",
            matching=MATCHED,
            settlement={
                "status": "failing",
                "reasons": [iso("CLAC", "Counterparty insufficient securities")],
            },
            **BUND_RECEIPT,
        ),
    ),
    "sese024_pending_held.xml": (
        "sese.024.001.12",
        status(
            "SI0002",
            "SIMT000002",
            matching=MATCHED,
            settlement={"status": "pending", "reasons": HELD_REASONS},
        ),
    ),
    "sese024_rejected.xml": (
        "sese.024.001.12",
        status("SI0003", None, processing={"status": "rejected", "reasons": REJECTED_REASONS}),
    ),
    "sese024_cancelled.xml": (
        "sese.024.001.12",
        status("SI0001", "SIMT000001", processing=CANCELLED),
    ),
    "sese025_partial.xml": ("sese.025.001.12", PARTIAL_BUND),
    "sese025_final.xml": ("sese.025.001.12", FINAL_BUND),
    "mt548_accepted_matched.txt": (
        "MT548",
        status("SI0001", "SIMT000001", processing=ACKNOWLEDGED, matching=MATCHED),
    ),
    "mt548_unmatched.txt": (
        "MT548",
        status(
            "SI0001",
            "SIMT000001",
            processing=ACKNOWLEDGED,
            matching={"status": "unmatched", "reasons": UNMATCHED_REASONS},
        ),
    ),
    "mt548_failing_cash.txt": (
        "MT548",
        status(
            "SI0002",
            "SIMT000002",
            matching=MATCHED,
            settlement={
                "status": "failing",
                "reasons": [iso("MONY", "Insufficient money in your account")],
            },
        ),
    ),
    "mt548_pending_held.txt": (
        "MT548",
        status(
            "SI0002",
            "SIMT000002",
            matching=MATCHED,
            settlement={"status": "pending", "reasons": HELD_REASONS},
        ),
    ),
    "mt548_rejected.txt": (
        "MT548",
        status("SI0003", None, processing={"status": "rejected", "reasons": REJECTED_REASONS}),
    ),
    "mt548_cancelled.txt": ("MT548", status("SI0001", "SIMT000001", processing=CANCELLED)),
    "mt545_partial.txt": (
        "MT545",
        confirmation(
            "SI0002",
            "SIMT000002",
            settled_quantity=Decimal(60),
            settled_amount=Decimal(11355),
            partial=True,
            isin="FR0000120271",
            currency="EUR",
            credit_debit="DBIT",
            securities_movement="RECE",
            payment="APMT",
        ),
    ),
    "mt545_famt_final.txt": ("MT545", FINAL_BUND),
    # Settled in full at once: no PRTL in GENL, so ``partial`` stays unset.
    "mt546_free_famt.txt": (
        "MT546",
        confirmation(
            "SI0004",
            "SIMT000004",
            settled_quantity=Decimal(1000000),
            isin="DE0001102614",
            securities_movement="DELI",
            payment="FREE",
        ),
    ),
    "mt547_delivered.txt": (
        "MT547",
        confirmation(
            "SI0002",
            "SIMT000002",
            settled_quantity=Decimal(100),
            settled_amount=Decimal(18925),
            isin="FR0000120271",
            currency="EUR",
            credit_debit="CRDT",
            securities_movement="DELI",
            payment="APMT",
        ),
    ),
}


def test_every_golden_answer_of_the_simulator_has_its_expectation_here() -> None:
    assert sorted(path.name for path in GOLDEN.iterdir()) == sorted(GOLDEN_READ)


@pytest.mark.parametrize("name", sorted(GOLDEN_READ))
def test_the_services_parsers_read_every_golden_answer(name: str) -> None:
    data = (GOLDEN / name).read_bytes()
    version, expected = GOLDEN_READ[name]

    read = read_mt(data) if name.endswith(".txt") else read_advice(data)

    assert read.version == version
    assert read.advice.model_dump(exclude_defaults=True, mode="python") == expected
