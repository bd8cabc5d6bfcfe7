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


@pytest.mark.parametrize("name", sorted(path.name for path in GOLDEN.iterdir()))
def test_the_services_parsers_read_every_golden_answer(name: str) -> None:
    data = (GOLDEN / name).read_bytes()

    read = read_mt(data) if name.endswith(".txt") else read_advice(data)

    assert (read.advice.sender, read.advice.message_id) == ("MGTCBEBEECL", "SIMM000001")
    assert read.version.startswith("MT5" if name.startswith("mt") else "sese.02")
