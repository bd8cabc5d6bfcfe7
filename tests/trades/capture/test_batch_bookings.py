"""A batch's trade-date bookings against the same trades booked one at a time: the same
postings in each trade entry, in the same order, the same positions and cash now and as of the
trade date; and batches racing single captures on the same positions all book, without a
deadlock, the balances equal to their postings: what any change to when a batch writes its
journal, or takes its positions' locks, must keep."""

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.positions.journal import repository as journal_repository
from tests.conftest import Database
from tests.factories import JPM, TOTAL, bund_trade_payload, trade_payload
from tests.positions.balances.test_positions_api import trade_date_view
from tests.positions.conftest import ledger_check, positions
from tests.support import Api


@pytest.fixture(params=["one-statement", "streamed"])
def journal_written(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A batch's journal in one statement over arrays, as a few hundred postings go, or, as
    thousands do on PostgreSQL, its entries streamed while costed, then its postings."""
    if request.param == "streamed":
        monkeypatch.setattr(journal_repository, "ARRAYS_AT_MOST", 50)
    return str(request.param)


def items() -> list[dict[str, Any]]:
    """80 trades on JPM, buys and sells one second apart from 15:00:01, one of them executed
    at 14:00 (before the trade booked at 15:00 beforehand: its position is restated), a trade
    on Xetra (confirmed at once) and a Bund."""
    trades = [
        trade_payload(
            external_id=f"FO-STAGED-{n:03d}",
            side="buy" if n % 3 else "sell",
            quantity=str(100 + 10 * (n % 7)),
            price=f"{180 + n % 11}.25",
            trade_time=f"2026-11-24T15:{(n + 1) // 60:02d}:{(n + 1) % 60:02d}Z",
        )
        for n in range(80)
    ]
    trades[40] = {**trades[40], "trade_time": "2026-11-24T14:00:00Z"}
    trades.append(
        trade_payload(
            external_id="FO-STAGED-TOTAL",
            isin=TOTAL,
            currency="EUR",
            venue="XPAR",
            price="61.30",
            commission="2.00",
            fees="0.10",
        )
    )
    trades.append(bund_trade_payload(external_id="FO-STAGED-BUND"))
    return trades


async def booked_first(api: Api) -> None:
    """A JPM buy at 15:00, booked alone before the trades compared."""
    body = trade_payload(external_id="FO-STAGED-FIRST", trade_time="2026-11-24T15:00:00Z")
    response = await api.post("/trades", json=body, role="trader")
    assert response.status_code == 201, response.text


async def journal_of(api: Api, trade_ids: list[str]) -> list[list[tuple[Any, ...]]]:
    """Each trade's trade entry: its postings in the journal's order, without cost and P&L
    (those of trades executed after a late one differ until the restatement)."""
    shown = []
    for trade_id in trade_ids:
        response = await api.get(
            "/journal-entries", params={"source_id": trade_id, "kind": "trade"}, role="operations"
        )
        assert response.status_code == 200, response.text
        [entry] = response.json()["items"]
        shown.append([(p["ledger_account"], p["asset"], p["amount"]) for p in entry["postings"]])
    return shown


async def book_state(api: Api) -> dict[str, Any]:
    return {
        "positions": [trade_date_view(p) for p in await positions(api)],
        "as_of_trade_date": [trade_date_view(p) for p in await positions(api, as_of="2026-11-24")],
        "cash": (await api.get("/cash-balances", role="operations")).json()["items"],
    }


async def test_a_batch_books_what_its_trades_booked_one_at_a_time_book(
    api: Api, db: Database, reference: None, journal_written: str
) -> None:
    await booked_first(api)
    alone = []
    for item in items():
        response = await api.post("/trades", json=item, role="trader")
        assert response.status_code == 201, response.text
        alone.append(response.json()["id"])
    one_at_a_time = await book_state(api), await journal_of(api, alone)
    assert (await ledger_check(api))["ok"] is True

    await db.load_reference()  # the same reference data, nothing booked
    await booked_first(api)
    response = await api.post("/trades/batch", json={"items": items()}, role="trader")
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created"] * 82
    in_a_batch = await book_state(api), await journal_of(api, [r["id"] for r in results])

    assert in_a_batch == one_at_a_time
    assert (await ledger_check(api))["ok"] is True
    # The book's securities line first in every trade entry, as a trade booked alone has it.
    assert {postings[0][0] for postings in in_a_batch[1]} == {"book:EQ-FLOW", "book:FI-RATES"}


async def test_batches_and_single_captures_at_once_all_book(
    api: Api, db: Database, reference: None, journal_written: str
) -> None:
    await booked_first(api)
    batches = [
        [
            trade_payload(
                external_id=f"FO-RACE-{b}-{n:03d}",
                side="buy" if (n + b) % 2 else "sell",
                quantity=str(100 * (1 + n % 3)),
            )
            for n in range(70)
        ]
        + [bund_trade_payload(external_id=f"FO-RACE-{b}-BUND")]
        for b in range(3)
    ]
    singles = [trade_payload(external_id=f"FO-RACE-ONE-{n}") for n in range(6)]

    answers: list[httpx.Response] = await asyncio.gather(
        *(api.post("/trades/batch", json={"items": b}, role="trader") for b in batches),
        *(api.post("/trades", json=s, role="trader") for s in singles),
    )

    assert [a.status_code for a in answers] == [200] * 3 + [201] * 6, [a.text for a in answers]
    for answer in answers[:3]:
        assert [r["outcome"] for r in answer.json()["results"]] == ["created"] * 71
    signed = Decimal(100) + sum(
        Decimal(t["quantity"]) * (1 if t["side"] == "buy" else -1)
        for t in [*(t for b in batches for t in b if t["isin"] == JPM), *singles]
    )
    [jpm] = await positions(api, book="EQ-FLOW", isin=JPM)
    assert Decimal(jpm["quantity"]) == signed
    [bund] = await positions(api, book="FI-RATES")
    assert Decimal(bund["quantity"]) == 3 * Decimal(bund_trade_payload()["quantity"])
    assert (await ledger_check(api))["ok"] is True
