"""Drift, without a database: how a row is compared with its last after-image, how entity ids
name rows, and that every audited table is registered as its writers record it."""

import re
from datetime import date

import pytest

from app.audit.drift import DRIFT_LIMIT, AuditedTable, Drift, DriftKind, DriftReport, compare
from app.audit.router import ENTITY_TYPES
from app.audited import AUDITED_TABLES
from app.reference.markets.models import MarketClosedDay
from app.reference.prices.models import Price
from app.trades.capture.models import Trade
from tests.factories import JPM

TRADES = AuditedTable("trade", Trade)
RUNS = next(table for table in AUDITED_TABLES if table.entity_type == "settlement_run")


def test_a_row_as_recorded_has_no_drift() -> None:
    row = {"id": "trd_1", "quantity": "100", "status": "captured"}
    assert compare(TRADES, "trd_1", dict(row), row) is None


def test_a_changed_row_names_only_the_differing_columns_sorted() -> None:
    audited = {"id": "trd_1", "quantity": "100", "side": "buy", "status": "captured"}
    current = {"id": "trd_1", "quantity": "999", "side": "sell", "status": "captured"}

    assert compare(TRADES, "trd_1", audited, current) == Drift(
        "trade",
        "trd_1",
        DriftKind.CHANGED,
        ("quantity", "side"),
        {"quantity": "100", "side": "buy"},
        {"quantity": "999", "side": "sell"},
    )


def test_a_column_the_record_predates_is_not_compared() -> None:
    """A migration adds a column to a table: no record before it can vouch for its value,
    and the row must not drift for that (the entity's next change records it)."""
    audited = {"id": "XNYS", "name": "NYSE"}

    assert compare(TRADES, "XNYS", audited, {**audited, "locked_in": True}) is None
    assert compare(TRADES, "XNYS", audited, {"id": "XNYS", "name": "x", "locked_in": True}) == (
        Drift("trade", "XNYS", DriftKind.CHANGED, ("name",), {"name": "NYSE"}, {"name": "x"})
    )


def test_a_row_whose_last_record_deleted_it_is_unaudited() -> None:
    row = {"id": "trd_1"}
    assert compare(TRADES, "trd_1", None, row) == Drift(
        "trade", "trd_1", DriftKind.UNAUDITED, (), None, row
    )


def test_a_running_runs_progress_moves_without_a_record_until_a_record_ends_it() -> None:
    started = {"id": "srn_1", "status": "running", "processed": 0, "settled": 0, "error": None}
    between_chunks = {**started, "processed": 500, "settled": 480}
    completed = {**between_chunks, "status": "completed"}

    assert compare(RUNS, "srn_1", started, between_chunks) is None
    assert compare(RUNS, "srn_1", completed, {**completed, "settled": 1}) is not None
    # Even while running, what the chunks do not touch must stay as recorded.
    assert compare(RUNS, "srn_1", started, {**between_chunks, "error": "x"}) is not None


def test_an_unrecorded_column_is_never_compared() -> None:
    instructions = next(t for t in AUDITED_TABLES if t.entity_type == "settlement_instruction")
    audited = {"id": "sin_1", "last_run_id": None, "status": "matched"}

    assert compare(instructions, "sin_1", audited, {**audited, "last_run_id": "srn_1"}) is None


@pytest.mark.parametrize(
    ("table", "key", "entity_id"),
    [
        (AuditedTable("price", Price), (JPM, date(2026, 11, 24)), f"{JPM}/2026-11-24"),
        (
            AuditedTable("market_closed_day", MarketClosedDay),
            ("XNYS", date(2026, 12, 24)),
            "XNYS/2026-12-24",
        ),
        (TRADES, ("trd_1",), "trd_1"),
    ],
)  # fmt: skip
def test_an_entity_id_names_its_primary_key_and_back(
    table: AuditedTable, key: tuple[object, ...], entity_id: str
) -> None:
    assert table.entity_id(key) == entity_id
    assert table.key_of(entity_id) == key


@pytest.mark.parametrize("entity_id", ["US46625H1005", "US46625H1005/24.11.2026"])
def test_an_entity_id_that_names_no_possible_row(entity_id: str) -> None:
    assert AuditedTable("price", Price).key_of(entity_id) is None


def test_the_report_shows_the_first_drifts_and_counts_them_all() -> None:
    report = DriftReport()
    for n in range(DRIFT_LIMIT + 5):
        report.add(Drift("trade", f"trd_{n}", DriftKind.UNAUDITED, (), None, {}))

    assert (len(report.items), report.count) == (DRIFT_LIMIT, DRIFT_LIMIT + 5)
    assert report.items[-1].entity_id == f"trd_{DRIFT_LIMIT - 1}"


def test_every_entity_type_the_trail_documents_is_registered_once_with_its_table() -> None:
    types = [table.entity_type for table in AUDITED_TABLES]
    documented = re.findall(r"`([a-z_]+)`", ENTITY_TYPES)
    # Obligations are not compared yet: their records are newer than this check.
    assert sorted(types) == sorted(set(documented) - {"obligation"})
    assert len(types) == len(set(types)) == len({table.model for table in AUDITED_TABLES}) == 35
