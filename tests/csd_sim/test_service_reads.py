"""Every XML answer of the simulator, for the status blocks the service's parser knows, reads
with that parser (``app.settlement.advices.iso20022`` as it is): the values it takes out are
the ones the simulator meant. Tests may import the app; the simulator never does."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.settlement.advices.iso20022 import read_advice
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
IDS = {"message_id": "SIMM000001", "instruction_id": "SI0001"}
BOND = {"isin": "DE0001102614", "securities_movement": "RECE", "payment": "APMT"}


@pytest.mark.parametrize(
    ("advice", "expected"),
    [
        (
            ACCEPTED_MATCHED,
            {
                **IDS,
                **BOND,
                "status": "matched",
                "reasons": [],
                "currency": "EUR",
                "credit_debit": "DBIT",
            },
        ),
        (
            UNMATCHED,
            {
                **IDS,
                **BOND,
                "status": "unmatched",
                "currency": "EUR",
                "credit_debit": "DBIT",
                "reasons": [
                    {"code": "DQUA", "text": "Counterparty instructs FAMT 990000,"},
                    {"code": "DMON", "text": "Counterparty instructs EUR 790000,"},
                ],
            },
        ),
        (
            FAILING,
            {
                **IDS,
                **BOND,
                "status": "failing",
                "matched": True,
                "currency": "EUR",
                "credit_debit": "DBIT",
                "reasons": [{"code": "CLAC", "text": "Counterparty insufficient securities"}],
            },
        ),
        (
            PENDING,
            {
                **IDS,
                **BOND,
                "status": "pending",
                "matched": True,
                "currency": "EUR",
                "credit_debit": "DBIT",
                "reasons": [{"code": "CSDH", "text": "Held by the CSD"}],
            },
        ),
        (RELEASED, {**IDS, "status": "pending", "matched": True, "reasons": []}),
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
    values.pop("message_type")
    reasons = [
        {"code": reason["code"], "text": reason["text"]} for reason in values.pop("reasons", [])
    ]
    assert {**values, "reasons": reasons} == {"reasons": [], **expected}
