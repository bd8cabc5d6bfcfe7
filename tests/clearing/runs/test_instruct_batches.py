"""How a clearing run hands its obligations' trades to settlement: obligation ids in batches of
about a chunk of trades; an obligation bigger than a chunk goes alone (its trades are then
taken a chunk at a time)."""

from app.clearing.runs.work import batches


def test_obligations_are_batched_by_their_trade_counts() -> None:
    sent = [("o1", 400), ("o2", 500), ("o3", 200), ("o4", 2500), ("o5", 1), ("o6", 999)]

    # 400 + 500 = 900, + 200 would pass 1,000; 200 alone, + 2,500 would pass; 2,500 alone;
    # 1 + 999 = 1,000 exactly.
    assert list(batches(sent, 1000)) == [["o1", "o2"], ["o3"], ["o4"], ["o5", "o6"]]


def test_no_obligations_make_no_batch() -> None:
    assert list(batches([], 1000)) == []
