"""Effective-dated settlement cycles: app.reference.cycles.cycle_days_on (pure, no database)."""

from datetime import date
from typing import Any

import pytest

from app.reference import demo_data
from app.reference.cycles import cycle_days_on

CYCLES = {market["mic"]: market["settlement_cycle_days"] for market in demo_data.MARKETS}


@pytest.mark.parametrize(
    ("mic", "trade_date", "days"),
    [
        pytest.param("XPAR", date(2014, 10, 5), None, id="XPAR-before-first-step"),
        pytest.param("XPAR", date(2014, 10, 6), 2, id="XPAR-first-step-boundary"),
        pytest.param("XPAR", date(2026, 11, 24), 2, id="XPAR-today"),
        pytest.param("XPAR", date(2027, 10, 8), 2, id="XPAR-last-T+2-friday"),
        pytest.param("XPAR", date(2027, 10, 10), 2, id="XPAR-sunday-before-T+1"),
        pytest.param("XPAR", date(2027, 10, 11), 1, id="XPAR-T+1-boundary"),
        pytest.param("XPAR", date(2040, 1, 2), 1, id="XPAR-far-future"),
        pytest.param("XETR", date(2027, 10, 8), 2, id="XETR-last-T+2"),
        pytest.param("XETR", date(2027, 10, 11), 1, id="XETR-T+1"),
        pytest.param("XOFF", date(2027, 10, 11), 1, id="XOFF-T+1"),
        pytest.param("XNYS", date(2017, 9, 4), None, id="XNYS-before-first-step"),
        pytest.param("XNYS", date(2017, 9, 5), 2, id="XNYS-T+2-boundary"),
        pytest.param("XNYS", date(2024, 5, 27), 2, id="XNYS-last-T+2"),
        pytest.param("XNYS", date(2024, 5, 28), 1, id="XNYS-T+1-boundary"),
        pytest.param("XNYS", date(2026, 11, 24), 1, id="XNYS-today"),
    ],
)
def test_demo_market_cycles(mic: str, trade_date: date, days: int | None) -> None:
    assert cycle_days_on(CYCLES[mic], trade_date) == days


def test_no_steps_means_no_cycle() -> None:
    assert cycle_days_on([], date(2026, 11, 24)) is None


def test_a_single_step_applies_from_its_date_on() -> None:
    steps = [{"from": "2020-01-01", "days": 3}]

    assert cycle_days_on(steps, date(2019, 12, 31)) is None
    assert cycle_days_on(steps, date(2020, 1, 1)) == 3
    assert cycle_days_on(steps, date(2099, 12, 31)) == 3


@pytest.mark.parametrize(
    ("trade_date", "days"),
    [
        (date(2000, 1, 1), 3),
        (date(2010, 6, 30), 3),
        (date(2010, 7, 1), 2),
        (date(2029, 12, 31), 2),
        (date(2030, 1, 1), 0),
    ],
)
def test_three_steps_including_same_day_settlement(trade_date: date, days: int) -> None:
    steps: list[dict[str, Any]] = [
        {"from": "2000-01-01", "days": 3},
        {"from": "2010-07-01", "days": 2},
        {"from": "2030-01-01", "days": 0},
    ]

    assert cycle_days_on(steps, trade_date) == days


def test_days_stored_as_text_are_read_as_integers() -> None:
    assert cycle_days_on([{"from": "2020-01-01", "days": "2"}], date(2021, 1, 1)) == 2
