"""`settlement demo --days`: the demo week played through the API against the test database, two
days with a handful of random trades each. The script is seeded, so what it books is known in
advance (``demo_week.script.plan_day``), and the incidents it stages are exact facts: on the
second day LCH delivers no LVMH (a fail, CLAC), Eurex only 600 of the 1,000 Allianz (a partial),
the depository holds the Siemens delivery (CSDH) and confirms the BNP Paribas receipt only the
day after; the bank charges a 25.00 fee the book does not know each day, and on the second day
has not booked one of our payments yet."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest

from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.positions.adjustments.demo import load_demo_opening
from app.reference.demo import load_demo_reference
from demo_week import script, statements
from demo_week.week import EU_SETTLEMENT, NeedsFreshDatabase, run_week, week_days
from tests.conftest import Database
from tests.support import Api, FrozenClock

DAYS = [date(2026, 11, 23), date(2026, 11, 24)]
SEED = 7
COUNT = (4, 6)


async def load_demo(db: Database) -> None:
    """The demo data as `settlement demo --days` loads it: the evening before the week."""
    loaded_at = datetime.combine(DAYS[0] - timedelta(days=1), time(18), tzinfo=UTC)
    async with db.sessionmaker() as session, UnitOfWork(session):
        await load_demo_reference(session, actor=SYSTEM_ACTOR, now=loaded_at)
        await load_demo_opening(session, now=loaded_at)


async def play(app: Any, db: Database, clock: FrozenClock, *, fresh: bool = True) -> Any:
    keys = {str(role): secret for role, secret in db.keys.items()}
    transport = httpx.ASGITransport(app=app)
    return await run_week(
        transport, keys, clock, DAYS, seed=SEED, count=COUNT, echo=lambda _: None,
        opening_loaded_for_week=fresh,
    )  # fmt: skip


async def instruction(api: Api, isin: str) -> dict[str, Any]:
    response = await api.get("/settlement-instructions", params={"isin": isin}, role="operations")
    assert response.status_code == 200, response.text
    [found] = response.json()["items"]
    assert isinstance(found, dict)
    return found


def planned_trades() -> list[int]:
    prices = script.closing_prices(DAYS, SEED)
    return [
        len(
            script.plan_day(
                day, i, next_day=EU_SETTLEMENT.add_business_days(day, 1), seed=SEED,
                count=COUNT, prices=prices[i],
            ).trades
        )
        for i, day in enumerate(DAYS)
    ]  # fmt: skip


def test_the_week_is_the_business_days_before_today() -> None:
    # Thursday 26 November 2026 is Thanksgiving (NYSE closed): the week skips it.
    assert week_days(date(2026, 11, 30), 3) == [
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
    ]


async def test_the_demo_week_stages_its_incidents(
    app: Any, api: Api, clock: FrozenClock, db: Database
) -> None:
    await load_demo(db)
    summary = await play(app, db, clock)
    assert summary is not None

    # Every trade the script generated is booked, day by day (4 to 6 random, 5 scripted).
    for day, planned in zip(DAYS, planned_trades(), strict=True):
        response = await api.get(
            "/trades", params={"trade_date": day.isoformat(), "limit": 1000}, role="operations"
        )
        assert len(response.json()["items"]) == planned
    assert summary.trades == sum(planned_trades())

    # The depository's day: a fail, a partial, a hold, a confirmation still to come.
    lvmh = await instruction(api, script.LVMH)
    assert (lvmh["status"], lvmh["settled_quantity"], lvmh["fail_reason"]) == (
        "matched",
        "0",
        "CLAC",
    )
    allianz = await instruction(api, script.ALLIANZ)
    assert (allianz["status"], allianz["settled_quantity"], allianz["fail_reason"]) == (
        "partially_settled",
        str(script.SHORTFALL_PARTIAL),
        "CLAC",
    )
    siemens = await instruction(api, script.SIEMENS)
    assert (siemens["status"], siemens["fail_reason"]) == ("on_hold", script.HOLD_REASON)
    # Its intended settlement day's end of day charges LCH (CLAC: the counterparty fails) the
    # liquid-share rate, 1 basis point a day, of the failed quantity at that day's close.
    [close] = (
        await api.get(
            "/prices", params={"isin": script.LVMH, "date": DAYS[1].isoformat()}, role="operations"
        )
    ).json()["items"]
    owed = (Decimal(lvmh["quantity"]) * Decimal(close["price"]) * Decimal("0.0001")).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN
    )
    penalties = await api.get(
        "/penalties", params={"instruction_id": lvmh["id"]}, role="operations"
    )
    assert [
        (p["day"], p["kind"], p["payer"], p["fail_reason"], Decimal(p["amount"]))
        for p in penalties.json()["items"]
    ] == [(DAYS[1].isoformat(), "settlement_fail", "counterparty", "CLAC", owed)]
    active = await api.get("/penalties", params={"status": "active"}, role="operations")
    assert summary.counts["CSDR penalties"] == len(active.json()["items"])
    bnp = await instruction(api, script.BNP_PARIBAS)
    assert (bnp["status"], bnp["settled_quantity"]) == ("matched", "0")

    # The bank's statements are stored, and reconciliation found the fee the book lacks.
    stored = await api.get("/statements", params={"account": "CASH-EUR"}, role="operations")
    assert stored.status_code == 200, stored.text
    assert sorted(s["statement_id"] for s in stored.json()["items"]) == [
        "DEMO-EUR-20261123",
        "DEMO-EUR-20261124",
    ]
    breaks = (await api.get("/breaks", params={"limit": 1000}, role="operations")).json()
    fees = [b for b in breaks["items"] if b["kind"] == "missing_in_book"]
    assert sorted((b["value_date"], Decimal(b["amount"])) for b in fees) == [
        (day.isoformat(), statements.BANK_FEE) for day in DAYS
    ]
    assert any(b["kind"] == "missing_at_bank" for b in breaks["items"])

    # Each day closed with one end-of-day run, every step completed: the first day's clearing
    # took the trades due the next settlement day (the scripted incidents, T+1), whose
    # instructions the simulator answered on the second day.
    runs = await api.get("/eod-runs", params={"limit": 100}, role="operations")
    closed = {run["date"]: run for run in runs.json()["items"]}
    assert sorted(closed) == [day.isoformat() for day in DAYS]
    for run in closed.values():
        assert run["status"] == "completed"
        assert {step["status"] for step in run["steps"]} == {"completed"}
    first_clearing = next(
        s for s in closed[DAYS[0].isoformat()]["steps"] if s["name"] == "clearing"
    )
    assert sorted(first_clearing["child_runs"]) == [
        EU_SETTLEMENT.add_business_days(DAYS[0], 1).isoformat()
    ]

    # Closing a day of the week again is a no-op: the completed run is the answer.
    for day in DAYS:
        again = await api.post(
            "/eod-runs", json={"date": day.isoformat()}, params={"wait": "true"}, role="operations"
        )
        assert again.status_code == 200, again.text
        run = closed[day.isoformat()]
        assert (again.json()["id"], again.json()["status"]) == (run["id"], "completed")
        assert (
            again.json()["note"] == f"The end of day for {day} is already complete ({run['id']})."
        )

    # A second run finds the week there and does nothing.
    assert await play(app, db, clock) is None


async def test_a_week_is_not_played_over_demo_data_loaded_before_it(
    app: Any, api: Api, clock: FrozenClock, db: Database
) -> None:
    # `settlement demo` ran earlier (its opening is dated then): the week would find no opening
    # balances on its first days, so it refuses and books nothing.
    await load_demo(db)
    with pytest.raises(NeedsFreshDatabase):
        await play(app, db, clock, fresh=False)
    response = await api.get("/trades", params={"limit": 1}, role="operations")
    assert response.json()["items"] == []
