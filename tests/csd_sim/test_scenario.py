"""Scenario files: TOML or JSON, numbers as strings or integers, every mistake named."""

import json
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from csd_sim.scenario import (
    HoldRule,
    LateConfirmation,
    Scenario,
    ScenarioError,
    Selector,
    Shortfall,
    load_scenario,
    scenario_from_dict,
)

DEMO = Path(__file__).parent / "scenarios" / "demo.toml"
BUND = "DE0001102614"


def test_a_toml_scenario_reads_whole():
    assert load_scenario(DEMO) == Scenario(
        bic="MGTCBEBEECL",
        participant_bic="COBADEFFXXX",
        message_prefix="EB",
        our_accounts=frozenset({"DEMO-EB-0001"}),
        securities={("DEMO-EB-0001", BUND): Decimal(0)},
        cash={("COBADEFFXXX", "EUR"): Decimal("1000000.00")},
        settlement_units={BUND: Decimal(1000)},
        quantity_thresholds={BUND: Decimal(100000)},
        cash_thresholds={"EUR": Decimal(10000)},
        partial_windows=((time(14), time(14, 15)), (time(15, 45), time(16))),
        holds=(HoldRule(Selector(isin="FR0000120271"), "CSDH", date(2026, 11, 27)),),
        late_confirmations=(LateConfirmation(Selector(reference="SI26112400001"), 1),),
        counterparty_shortfalls=(Shortfall(Selector(isin=BUND), Decimal(400000)),),
        holidays=frozenset({date(2026, 12, 25)}),
    )


def test_a_json_scenario_keeps_a_decimal_exact(tmp_path: Path):
    path = tmp_path / "scenario.json"
    path.write_text(
        json.dumps({"auto_match": False, "answer_format": "mt"})[:-1]
        + ', "cash": [{"participant": "X", "currency": "EUR", "amount": 0.1}]}'
    )
    scenario = load_scenario(path)
    assert (scenario.auto_match, scenario.answer_format) == (False, "mt")
    assert scenario.cash == {("X", "EUR"): Decimal("0.1")}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"answer_format": "pdf"}, "answer_format: 'pdf' is not auto, xml or mt"),
        ({"unlisted_balances": "some"}, "unlisted_balances: 'some' is not unlimited or empty"),
        (
            {"settlement_units": {BUND: 0.5}},
            f"settlement_units.{BUND}: write the number as a string or an integer, not 0.5",
        ),
        (
            {"cash": [{"participant": "X", "amount": "1"}]},
            "cash: every row needs participant, currency and amount ('currency' is missing)",
        ),
        (
            {"holds": [{"isin": BUND, "reason": "HOLD"}]},
            "holds[0].reason: 'HOLD' is not one of PREA, PRCY, CSDH, CVAL",
        ),
        ({"holds": [{"reason": "CSDH"}]}, "holds[0]: give a reference or an isin"),
        (
            {"holds": [{"isin": BUND, "reason": "CSDH", "until": "soon"}]},
            "holds[0]: 'soon' is not an ISO date",
        ),
        ({"partial_windows": [["14h", "15h"]]}, 'partial_windows: write [["14:00", "14:15"], ...]'),
        (
            {"counterparty_shortfalls": [{"isin": BUND, "available": "lots"}]},
            "counterparty_shortfalls[0].available: 'lots' is not a decimal",
        ),
    ],
)
def test_a_wrong_setting_is_named(data: dict[str, Any], message: str):
    with pytest.raises(ScenarioError) as raised:
        scenario_from_dict(data)
    assert str(raised.value) == message
