"""Settlement the depository decides, end to end with the CSD simulator (csd_sim) in process.

Four trades of Monday 23 November, due Wednesday the 25th, all bought from Goldman: three on
Euronext Paris (novated to LCH, instructed in sese.023) and one on Xetra (novated to Eurex,
instructed in MT541). The simulator claims the messages, acknowledges and matches them (it
plays the CCPs' side), and settles on the 25th against its own books, where LCH holds only 300
of the 500 LVMH it must deliver and our cash account holds 406,650.00 EUR. By hand:

- 1,000 TotalEnergies at 57.42 = 57,420.00: settles in full;
- 500 LVMH at 689.20 = 344,600.00: LCH lacks the securities, 300 settle in part (PART is the
  market's default) for 206,760.00, the 200 left keep failing (CLAC: the counterparty lacks);
- 200 SAP at 212.35 = 42,470.00: settles on the 25th, confirmed (MT545) only on the 26th;
- 2,000 BNP Paribas at 79.86 = 159,720.00, reprioritised to 90 (its message cancelled and sent
  again): goes last, and the 100,000.00 left after the others (406,650.00 - 57,420.00 -
  206,760.00 - 42,470.00) do not pay it: fails whole for lack of cash (MONY), never in part.

The book moves only on the confirmations, each on its effective settlement date, so the SAP
receipt confirmed a day late is in the settlement-date position of the 25th, yet what the book
knew on the evening of the 25th did not have it.
"""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.core.auth import Role
from csd_sim.client import ServiceClient, connect
from csd_sim.engine import Engine
from csd_sim.loop import Simulator
from csd_sim.scenario import LateConfirmation, Scenario, Selector, Shortfall
from tests.clearing.support import OPS, book_confirmed, clear
from tests.conftest import Database
from tests.positions.conftest import Adjust, cash_balances, ledger_check, line, positions
from tests.settlement.support import get_instruction, instruction_of
from tests.support import Api, FrozenClock, seal

TOTAL = "FR0000120271"
LVMH = "FR0000121014"
BNP_PARIBAS = "FR0000131104"
SAP = "DE0007164600"
DUE = date(2026, 11, 25)
NEXT_DAY = date(2026, 11, 26)
MONDAY = {"trade_date": "2026-11-23", "trade_time": "2026-11-23T10:00:00Z"}
FREE = {"commission": "0", "fees": "0", "currency": "EUR"}
OUR_CASH_AT_THE_CSD = Decimal("406650.00")


def paris(isin: str, quantity: str, price: str) -> dict[str, Any]:
    return {"isin": isin, "venue": "XPAR", "quantity": quantity, "price": price, **MONDAY, **FREE}


@pytest.fixture
async def gateway(app: Any, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The simulator's connection to the service, in process, with a gateway key."""
    transport = httpx.ASGITransport(app=app)
    async with connect("http://test", db.keys[Role.GATEWAY], transport=transport) as http:
        yield http


def simulator(http: httpx.AsyncClient, sap_reference: str) -> Simulator:
    scenario = Scenario(
        cash={("COBADEFFXXX", "EUR"): OUR_CASH_AT_THE_CSD},
        counterparty_shortfalls=(Shortfall(Selector(isin=LVMH), Decimal(300)),),
        late_confirmations=(LateConfirmation(Selector(reference=sap_reference), 1),),
    )
    return Simulator(Engine(scenario), ServiceClient(http))


async def reprioritise(api: Api, instruction: dict[str, Any], priority: int) -> None:
    response = await api.patch(
        f"/settlement-instructions/{instruction['id']}",
        json={"priority": priority},
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=OPS,
    )
    assert response.status_code == 200, response.text


async def messages(api: Api, instruction: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.get(f"/settlement-instructions/{instruction['id']}/messages", role=OPS)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def settled_position(api: Api, isin: str, **params: str) -> str:
    found = await positions(api, basis="settlement_date", isin=isin, **params)
    return found[0]["quantity"] if found else "0"


async def test_the_depository_settles_fails_and_confirms_late_and_the_book_follows_it(
    api: Api, gateway: httpx.AsyncClient, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    await adjust("opening", line("CASH-EUR", "EUR", "1000000.00"))
    clock.set(datetime(2026, 11, 23, 18, tzinfo=UTC))
    trades = {
        TOTAL: await book_confirmed(api, **paris(TOTAL, "1000", "57.42")),
        LVMH: await book_confirmed(api, **paris(LVMH, "500", "689.20")),
        BNP_PARIBAS: await book_confirmed(api, **paris(BNP_PARIBAS, "2000", "79.86")),
        SAP: await book_confirmed(
            api, isin=SAP, venue="XETR", quantity="200", price="212.35", **MONDAY, **FREE
        ),
    }
    clock.set(datetime(2026, 11, 24, 18, tzinfo=UTC))
    cleared = await clear(api, DUE.isoformat())
    assert cleared["status"] == "completed", cleared
    instructed = {isin: await instruction_of(api, trade) for isin, trade in trades.items()}
    # Novated to the CCPs, whose instructions are pre-matched at the depository.
    assert {
        isin: (i["delivery_type"], i["status"]) for isin, i in instructed.items()
    } == dict.fromkeys(trades, ("RVP", "matched"))
    await reprioritise(api, instructed[BNP_PARIBAS], 90)
    [sap_message] = await messages(api, instructed[SAP])
    assert (sap_message["format"], sap_message["status"]) == ("MT541", "pending")
    sim = simulator(gateway, sap_message["reference"])

    # The evening before: the simulator claims the six messages and acknowledges them.
    evening = await sim.step(date(2026, 11, 24), datetime(2026, 11, 24, 19, tzinfo=UTC))
    assert (len(evening.claimed), evening.malformed) == (6, [])
    assert [p.status_code for p in evening.posted if not p.accepted] == []
    assert [
        (m["kind"], m["format"], m["status"]) for m in await messages(api, instructed[BNP_PARIBAS])
    ] == [
        ("new", "sese.023.001.11", "acknowledged"),
        ("cancel", "sese.020.001.07", "acknowledged"),
        ("new", "sese.023.001.11", "acknowledged"),
    ]

    # Settlement day at the depository.
    clock.set(datetime(2026, 11, 25, 16, tzinfo=UTC))
    day = await sim.run_day(DUE, datetime(2026, 11, 25, 16, tzinfo=UTC))
    assert [p.problem for p in day.posted if not p.accepted] == []
    assert len(sim.engine.waiting) == 1  # SAP's confirmation, held back a day
    now = {isin: await get_instruction(api, i["id"]) for isin, i in instructed.items()}
    assert {
        isin: (i["status"], i["settled_quantity"], i["settled_amount"], i["fail_reason"])
        for isin, i in now.items()
    } == {
        TOTAL: ("settled", "1000", "57420.00", None),
        LVMH: ("partially_settled", "300", "206760.00", "CLAC"),
        BNP_PARIBAS: ("matched", "0", "0", "MONY"),
        SAP: ("matched", "0", "0", None),
    }
    evening_of_the_25th = datetime(2026, 11, 25, 20, tzinfo=UTC).isoformat()
    clock.set(datetime(2026, 11, 25, 20, tzinfo=UTC))
    assert await settled_position(api, SAP, as_of="2026-11-25") == "0"

    # The next day the depository confirms SAP, settled on the 25th.
    clock.set(datetime(2026, 11, 26, 16, tzinfo=UTC))
    late = await sim.run_day(NEXT_DAY, datetime(2026, 11, 26, 16, tzinfo=UTC))
    assert [p.problem for p in late.posted if not p.accepted] == []
    sap = await get_instruction(api, instructed[SAP]["id"])
    assert (sap["status"], sap["settled_quantity"], sap["settled_amount"]) == (
        "settled",
        "200",
        "42470.00",
    )
    assert {
        isin: await settled_position(api, isin, as_of="2026-11-25")
        for isin in (TOTAL, LVMH, BNP_PARIBAS, SAP)
    } == {TOTAL: "1000", LVMH: "300", BNP_PARIBAS: "0", SAP: "200"}
    # What the book knew on the evening of the 25th never changes.
    assert await settled_position(api, SAP, as_of="2026-11-25", known_at=evening_of_the_25th) == "0"
    # Cash: 1,000,000.00 - 57,420.00 - 206,760.00 - 42,470.00, all value the 25th.
    [eur] = await cash_balances(api, account="CASH-EUR", as_of="2026-11-25")
    assert eur["settled"] == "693350.00"
    # Trades follow their instructions.
    trade_status = {
        isin: (await api.get(f"/trades/{t['id']}", role=OPS)).json()["status"]
        for isin, t in trades.items()
    }
    assert trade_status == {
        TOTAL: "settled",
        LVMH: "partially_settled",
        BNP_PARIBAS: "instructed",
        SAP: "settled",
    }
    # Two still failing on the 26th, one business day each.
    fails = (await api.get("/reports/fails", role=OPS)).json()
    # Unsettled: 344,600.00 - 206,760.00 of LVMH and the whole 159,720.00 of BNP Paribas.
    assert (fails["instructions"], fails["unsettled"]) == (
        2,
        [{"currency": "EUR", "amount": "297560.00"}],
    )
    assert [(r["fail_reason"], r["instructions"]) for r in fails["by_reason"]] == [
        ("CLAC", 1),
        ("MONY", 1),
    ]
    for isin in (LVMH, BNP_PARIBAS):
        assert (await get_instruction(api, instructed[isin]["id"]))["days_failing"] == 1

    # Every block the depository sent about LVMH is in its status history, in order.
    history = (
        await api.get(f"/settlement-instructions/{instructed[LVMH]['id']}/status-history", role=OPS)
    ).json()["items"]
    assert [(e["block"], e["status"], [r["code"] for r in e["reasons"]]) for e in history] == [
        ("processing", "acknowledged", []),
        ("matching", "matched", []),
        ("confirmation", "partially_settled", []),
        ("matching", "matched", []),
        # What is left lacks LCH's securities, and the 100,000.00 left could not pay it either.
        ("settlement", "failing", ["CLAC", "MONY"]),
    ]

    assert (await ledger_check(api))["ok"] is True
    await seal(db.sessionmaker)
    trail = (await api.get("/audit/verify", role="compliance")).json()
    assert (trail["ok"], trail["first_bad_seq"], trail["drift"]) == (True, None, [])
