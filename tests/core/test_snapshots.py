"""Rows rebuilt from their audit snapshots: every column type comes back as it was."""

from datetime import UTC, date, datetime
from decimal import Decimal

from app.core.db import table_of
from app.core.snapshots import jsonable, row_from_snapshot, row_imager, row_snapshot
from app.trades.confirmations.models import Confirmation


def confirmation(**changes: object) -> Confirmation:
    values: dict[str, object] = {
        "id": "cnf_1",
        "confirmation_id": "GS-1",
        "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
        "trade_reference": None,
        "isin": "US46625H1005",
        "side": "sell",
        "quantity": Decimal("100"),
        "price": Decimal("189.2500"),
        "currency": "USD",
        "trade_date": date(2026, 11, 24),
        "settlement_date": date(2026, 11, 25),
        "net_amount": Decimal("-18926.52"),
        "status": "unmatched",
        "trade_id": "trd_1",
        "reasons": [{"code": "DQUA", "field": "quantity", "ours": "100", "theirs": "90"}],
        "candidates": [],
        "version": 2,
        "received_at": datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 25, 15, 10, 30, 250000, tzinfo=UTC),
        "received_by": "key_1",
        "force_match_proposed_by": None,
        "force_match_reason": None,
        "force_match_proposed_at": None,
        "force_match_trade_id": None,
        "force_match_approved_by": None,
    }
    values.update(changes)
    return Confirmation(**values)


def test_a_row_comes_back_from_its_snapshot_with_its_python_types() -> None:
    row = confirmation()

    rebuilt = row_from_snapshot(Confirmation, row_snapshot(row))

    assert row_snapshot(rebuilt) == row_snapshot(row)
    assert rebuilt.price == Decimal("189.2500")
    assert str(rebuilt.price) == "189.2500"
    assert rebuilt.trade_date == date(2026, 11, 24)
    assert rebuilt.updated_at == datetime(2026, 11, 25, 15, 10, 30, 250000, tzinfo=UTC)
    assert rebuilt.reasons == row.reasons
    assert rebuilt.trade_reference is None


def test_a_column_the_snapshot_predates_is_left_empty() -> None:
    snapshot = row_snapshot(confirmation())
    del snapshot["force_match_reason"]

    rebuilt = row_from_snapshot(Confirmation, {**snapshot, "status": "matched"})

    assert (rebuilt.force_match_reason, rebuilt.status) == (None, "matched")


def test_negative_zero_is_recorded_as_zero() -> None:
    """PostgreSQL's numeric has no -0: recorded as "-0.00", the row would read back "0.00"."""
    assert [jsonable(Decimal(v)) for v in ("-0.00", "-0", "0.00", "-1.50", "1E+2")] == [
        "0.00",
        "0",
        "0.00",
        "-1.50",
        "100",
    ]


def test_an_image_of_a_core_row_is_the_snapshot_of_the_same_row() -> None:
    row = confirmation(net_amount=Decimal("-0.00"), price=Decimal("1E+2"), received_by=None)
    columns = table_of(Confirmation).columns

    image = row_imager(columns)(tuple(getattr(row, column.key) for column in columns))

    assert image == row_snapshot(row)
    assert (image["net_amount"], image["price"], image["trade_date"]) == (
        "0.00",
        "100",
        "2026-11-24",
    )
