"""Fail ageing without a database: the report's buckets and tallies."""

from decimal import Decimal

import pytest

from app.settlement.instructions.fails import AGE_BUCKETS, Fail, FailsTally, bucket_of


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (1, "1"),
        (2, "2-3"),
        (3, "2-3"),
        (4, "4-7"),
        (7, "4-7"),
        (8, "8-15"),
        (15, "8-15"),
        (16, "16+"),
        (400, "16+"),
    ],
)
def test_each_age_falls_in_its_bucket(days: int, bucket: str) -> None:
    assert bucket_of(days) == bucket


def test_an_empty_tally_lists_every_age_bucket_and_nothing_else() -> None:
    assert FailsTally().report() == {
        "instructions": 0,
        "unsettled": [],
        "by_age": [
            {"bucket": label, "instructions": 0, "unsettled": []} for label, _, _ in AGE_BUCKETS
        ],
        "by_reason": [],
        "by_counterparty": [],
    }


def test_fails_are_counted_by_age_reason_and_counterparty_with_cash_per_currency() -> None:
    tally = FailsTally()
    tally.add(Fail(1, "LACK", "LEI-B", "EUR", Decimal("100.50")))
    tally.add(Fail(5, None, "LEI-A", "USD", Decimal("20")))
    tally.add(Fail(5, "LACK", "LEI-A", "EUR", Decimal("0.50")))

    report = tally.report()

    assert (report["instructions"], report["unsettled"]) == (
        3,
        [{"currency": "EUR", "amount": "101.00"}, {"currency": "USD", "amount": "20"}],
    )
    assert [(row["bucket"], row["instructions"]) for row in report["by_age"]] == [
        ("1", 1),
        ("2-3", 0),
        ("4-7", 2),
        ("8-15", 0),
        ("16+", 0),
    ]
    assert report["by_reason"] == [
        {
            "fail_reason": "LACK",
            "instructions": 2,
            "unsettled": [{"currency": "EUR", "amount": "101.00"}],
        },
        {
            "fail_reason": "NONE",
            "instructions": 1,
            "unsettled": [{"currency": "USD", "amount": "20"}],
        },
    ]
    assert [
        (row["counterparty_lei"], row["instructions"]) for row in report["by_counterparty"]
    ] == [
        ("LEI-A", 2),
        ("LEI-B", 1),
    ]
