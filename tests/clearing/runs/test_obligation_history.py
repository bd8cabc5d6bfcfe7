"""An obligation's own audit trail: one record when a chunk of the clearing run makes it, one
each time a later chunk nets more trades into it; read whole on /audit/entities, and rebuilt
by GET /obligations/{id}?as_of= with the trades cleared into it by then.

JPM from Goldman clears to NSCC: 10 at 190.00 each, commission and fees zero, so each trade is
a 1,900.00 payment for 10 received."""

from typing import Any

import pytest

from app.clearing.runs import work as clearing_work
from app.positions.bookings import service as positions
from tests.clearing.support import MORGAN, NSCC, OPS, book_confirmed, clear, obligations
from tests.conftest import Database
from tests.factories import DEUTSCHE, JPM
from tests.settlement.support import bund
from tests.support import Api, FrozenClock, seal

DUE = "2026-11-25"
BUND_DUE = "2026-11-26"


async def jpm(api: Api, **overrides: Any) -> dict[str, Any]:
    return await book_confirmed(
        api, quantity="10", price="190.00", commission="0", fees="0", **overrides
    )


async def history(api: Api, db: Database, obligation_id: str) -> list[dict[str, Any]]:
    await seal(db.sessionmaker)
    response = await api.get(f"/audit/entities/obligation/{obligation_id}", role="compliance")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def image(obligation: dict[str, Any], **totals: Any) -> dict[str, Any]:
    """The obligation's row as its audit records hold it."""
    row = {k: v for k, v in obligation.items() if k != "trade_ids"}
    row["created_at"] = "2026-11-25T15:00:00+00:00"
    row["netting_key"] = f"ccp|{NSCC}|SEC-DTC|CASH-USD|{JPM}|USD|{DUE}|"
    return {**row, **totals}


async def test_a_chunk_records_each_obligation_it_makes_once(
    api: Api, reference: None, db: Database
) -> None:
    # Off venue: Morgan Stanley settles gross (one obligation per trade), Deutsche Bank nets.
    for counterparty in (MORGAN, MORGAN, DEUTSCHE, DEUTSCHE):
        await book_confirmed(api, **bund(counterparty_lei=counterparty))

    run = await clear(api, BUND_DUE)

    made = await obligations(api, run_id=run["id"])
    assert len(made) == 3
    for obligation in made:
        [record] = await history(api, db, obligation["id"])
        assert (record["action"], record["event_type"], record["before"]) == (
            "created",
            "obligation.created",
            None,
        )
        assert record["actor"]["role"] == OPS
        assert record["after"]["trade_count"] == obligation["trade_count"]


async def test_a_later_chunk_nets_into_the_obligation_on_record(
    api: Api,
    reference: None,
    db: Database,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trade_ids = sorted([(await jpm(api))["id"] for _ in range(3)])
    monkeypatch.setattr(clearing_work, "CHUNK", 2)
    real_novate = positions.novate
    calls = 0

    async def failing_on_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the database went away")
        return await real_novate(*args, **kwargs)

    monkeypatch.setattr(positions, "novate", failing_on_the_second_chunk)
    # 15:00: the first two trades clear, the third chunk fails; 15:10: resumed.
    failed = await clear(api, DUE)
    clock.advance(minutes=10)
    resumed = await api.post(
        f"/clearing-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS
    )
    assert resumed.status_code == 200, resumed.text
    [obligation] = await obligations(api, run_id=failed["id"])
    path = f"/obligations/{obligation['id']}"

    records = await history(api, db, obligation["id"])

    first = image(
        obligation,
        net_quantity="20",
        net_amount="-3800.00",
        gross_quantity="20",
        gross_amount="3800.00",
        trade_count=2,
    )
    last = image(obligation)
    assert [(r["action"], r["occurred_at"], r["before"], r["after"]) for r in records] == [
        ("created", "2026-11-25T15:00:00Z", None, first),
        ("netted", "2026-11-25T15:10:00Z", first, last),
    ]
    assert (last["net_quantity"], last["net_amount"], last["trade_count"]) == ("30", "-5700.00", 3)
    assert obligation["trade_ids"] == trade_ids
    between = await api.get(path, params={"as_of": "2026-11-25T15:09:59Z"}, role="trader")
    assert between.status_code == 200, between.text
    assert between.json() == {
        **obligation,
        "net_quantity": "20",
        "net_amount": "-3800.00",
        "gross_quantity": "20",
        "gross_amount": "3800.00",
        "trade_count": 2,
        "trade_ids": trade_ids[:2],
    }
    at_resume = await api.get(path, params={"as_of": "2026-11-25T15:10:00Z"}, role="trader")
    assert at_resume.json() == obligation
