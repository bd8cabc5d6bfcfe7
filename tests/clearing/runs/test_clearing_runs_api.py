"""Clearing runs over HTTP: novation to the CCP, netting into obligations with their lineage,
instructions, the report, and what a run leaves alone.

Commission and fees are zero unless a test is about them, so that every amount is quantity x
price. Demo reference: JPM settles on XNYS (CCP: NSCC) T+1 into SEC-DTC and CASH-USD; TotalEnergies
and LVMH on XPAR (CCP: LCH) T+2 into SEC-EOCF and CASH-EUR; bonds trade off venue (XOFF, no CCP)
into SEC-EB; Deutsche Bank and BNP Paribas net bilaterally, Goldman Sachs and Morgan Stanley
settle gross.
"""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.clearing.runs import work as clearing_work
from app.core.snapshots import row_snapshot
from app.models import metadata
from app.positions.bookings import service as positions
from app.positions.journal.models import PendingEntry
from app.settlement.instructions.models import SettlementInstruction
from app.trades.capture import set_based
from tests.clearing.support import (
    BNP,
    LCH,
    LVMH,
    MORGAN,
    NSCC,
    OPS,
    book,
    book_confirmed,
    clear,
    instructions,
    obligations,
    trade,
)
from tests.conftest import Database
from tests.factories import DEUTSCHE, GOLDMAN, JPM, TOTAL, bund_trade_payload
from tests.positions.conftest import ledger_check
from tests.support import Api, problem_fields

FREE = {"commission": "0", "fees": "0"}
JPM_DUE = "2026-11-25"  # traded 2026-11-24, T+1
OTHER_DATE = "2026-11-26"
# Paris and off-venue trades of 2026-11-23 are due with JPM's of 2026-11-24 (T+2 and T+1).
TWO_DAYS_AGO = {"trade_date": "2026-11-23", "trade_time": "2026-11-23T10:00:00Z"}


def bund(**overrides: Any) -> dict[str, Any]:
    return bund_trade_payload(**{**TWO_DAYS_AGO, **overrides})


async def jpm(api: Api, side: str, quantity: str, price: str, **overrides: Any) -> dict[str, Any]:
    return await book_confirmed(
        api, side=side, quantity=quantity, price=price, **{**FREE, **overrides}
    )


def obligation_view(obligation: dict[str, Any]) -> tuple[Any, ...]:
    return (
        obligation["netting_set"],
        obligation["counterparty_lei"],
        obligation["isin"],
        obligation["net_quantity"],
        obligation["net_amount"],
        obligation["direction"],
    )


# --- Netting at the CCP: to long, to short, to flat with cash, to nothing ----------------------


async def test_ccp_trades_net_to_long_into_one_obligation_and_one_matched_instruction(
    api: Api, reference: None
) -> None:
    # We buy 100 at 190.00 from Goldman (pay 19000.00) and sell 40 at 191.00 to Morgan Stanley
    # (receive 7640.00): both novated to NSCC, net +60 JPM against -11360.00 USD.
    bought = await jpm(api, "buy", "100", "190.00")
    sold = await jpm(api, "sell", "40", "191.00", counterparty_lei=MORGAN)

    run = await clear(api, JPM_DUE)

    assert (run["status"], run["total"], run["processed"]) == ("completed", 2, 2)
    assert (run["obligations"], run["instructions"], run["dry_run"]) == (1, 1, False)
    [obligation] = await obligations(api, run_id=run["id"])
    assert obligation == {
        "id": obligation["id"],
        "run_id": run["id"],
        "netting_set": "ccp",
        "counterparty_lei": NSCC,
        "securities_account": "SEC-DTC",
        "cash_account": "CASH-USD",
        "isin": JPM,
        "currency": "USD",
        "settlement_date": JPM_DUE,
        "net_quantity": "60",
        "net_amount": "-11360.00",
        "gross_quantity": "140",
        "gross_amount": "26640.00",
        "trade_count": 2,
        "direction": "receive",
        "trade_ids": sorted([bought["id"], sold["id"]]),
        "created_at": "2026-11-25T15:00:00Z",
    }
    for original, counterparty in ((bought, GOLDMAN), (sold, MORGAN)):
        after = await trade(api, original["id"])
        assert (after["status"], after["counterparty_lei"]) == ("instructed", counterparty)
        assert (after["counterparty_of_record"], after["obligation_id"]) == (NSCC, obligation["id"])
    [instruction] = await instructions(api, obligation_id=obligation["id"])
    assert (instruction["delivery_type"], instruction["status"]) == ("RVP", "matched")
    assert (instruction["quantity"], instruction["amount"], instruction["credit_debit"]) == (
        "60",
        "11360.00",
        "DBIT",
    )


async def test_the_report_gives_gross_and_net_and_the_efficiency_per_ccp(
    api: Api, reference: None
) -> None:
    await jpm(api, "buy", "100", "190.00")
    await jpm(api, "sell", "40", "191.00", counterparty_lei=MORGAN)

    run = await clear(api, JPM_DUE)

    # Gross 19000.00 + 7640.00 = 26640.00; net |-11360.00|; by value 1 - 11360/26640 =
    # 0.57357... -> 0.5736; by count 1 - 1/2 = 0.5.
    assert run["report"] == {
        "trades": 2,
        "obligations": 1,
        "by_counterparty": [
            {
                "netting_set": "ccp",
                "counterparty_lei": NSCC,
                "currency": "USD",
                "trades": 2,
                "gross_value": "26640.00",
                "obligations": 1,
                "net_value": "11360.00",
                "efficiency_by_value": "0.5736",
                "efficiency_by_count": "0.5000",
            }
        ],
        "exceptions_count": 0,
        "exceptions": [],
    }
    assert run == (await api.get(f"/clearing-runs/{run['id']}", role="compliance")).json()


async def test_more_sold_than_bought_nets_to_a_delivery(api: Api, reference: None) -> None:
    # Sell 150 at 190.00 (+28500.00), buy 50 at 189.00 (-9450.00): deliver 100 against 19050.00.
    await jpm(api, "sell", "150", "190.00")
    await jpm(api, "buy", "50", "189.00", counterparty_lei=MORGAN)

    run = await clear(api, JPM_DUE)

    [obligation] = await obligations(api, run_id=run["id"])
    assert obligation_view(obligation) == ("ccp", NSCC, JPM, "-100", "19050.00", "deliver")
    [instruction] = await instructions(api, obligation_id=obligation["id"])
    assert (instruction["delivery_type"], instruction["quantity"], instruction["amount"]) == (
        "DVP",
        "100",
        "19050.00",
    )
    assert instruction["credit_debit"] == "CRDT"


async def test_flat_in_securities_with_a_cash_residue_is_a_cash_only_instruction(
    api: Api, reference: None
) -> None:
    # Buy 100 at 190.00, sell 100 at 191.00: no securities move, we receive 100.00.
    await jpm(api, "buy", "100", "190.00")
    await jpm(api, "sell", "100", "191.00", counterparty_lei=MORGAN)

    run = await clear(api, JPM_DUE)

    [obligation] = await obligations(api, run_id=run["id"])
    assert obligation_view(obligation) == ("ccp", NSCC, JPM, "0", "100.00", "cash_only")
    [instruction] = await instructions(api, obligation_id=obligation["id"])
    assert (instruction["delivery_type"], instruction["quantity"], instruction["amount"]) == (
        "PFOD",
        "0",
        "100.00",
    )
    assert (instruction["credit_debit"], instruction["status"]) == ("CRDT", "matched")


async def test_flat_in_securities_and_cash_makes_no_instruction(api: Api, reference: None) -> None:
    # Buy and sell 100 at 190.00: the obligation is kept for its lineage, nothing is instructed,
    # and its trades are handed to settlement all the same (they settle on their date).
    bought = await jpm(api, "buy", "100", "190.00")
    sold = await jpm(api, "sell", "100", "190.00", counterparty_lei=MORGAN)

    run = await clear(api, JPM_DUE)

    assert (run["obligations"], run["instructions"]) == (1, 0)
    assert run["report"]["obligations"] == 0
    [obligation] = await obligations(api, run_id=run["id"])
    assert obligation_view(obligation) == ("ccp", NSCC, JPM, "0", "0.00", "none")
    assert await instructions(api) == []
    for original in (bought, sold):
        assert (await trade(api, original["id"]))["status"] == "instructed"


# --- Several ISINs and currencies; CCP and bilateral mixed ---------------------------------------


async def test_several_isins_and_currencies_each_net_at_their_own_ccp(
    api: Api, reference: None
) -> None:
    # All due 2026-11-25: JPM traded the day before (T+1), Paris trades two days before (T+2).
    await jpm(api, "buy", "10", "190.00")
    await jpm(api, "buy", "5", "191.00")
    paris = {"venue": "XPAR", "currency": "EUR", **TWO_DAYS_AGO, **FREE}
    await book_confirmed(api, isin=TOTAL, side="sell", quantity="30", price="55.10", **paris)
    await book_confirmed(
        api, isin=TOTAL, side="buy", quantity="10", price="55.00", counterparty_lei=MORGAN, **paris
    )
    await book_confirmed(api, isin=LVMH, side="buy", quantity="2", price="610.00", **paris)

    run = await clear(api, JPM_DUE)

    found = sorted(obligation_view(o) for o in await obligations(api, run_id=run["id"]))
    assert found == [
        # JPM: +15 against -1900.00 - 955.00 = -2855.00.
        ("ccp", NSCC, JPM, "15", "-2855.00", "receive"),
        # TotalEnergies: -30 + 10 = -20; +1653.00 - 550.00 = +1103.00.
        ("ccp", LCH, TOTAL, "-20", "1103.00", "deliver"),
        # LVMH: +2 against -1220.00.
        ("ccp", LCH, LVMH, "2", "-1220.00", "receive"),
    ]
    rows = {(r["counterparty_lei"], r["currency"]): r for r in run["report"]["by_counterparty"]}
    assert sorted(rows) == [(NSCC, "USD"), (LCH, "EUR")]
    # LCH: gross 1653.00 + 550.00 + 1220.00 = 3423.00, net 1103.00 + 1220.00 = 2323.00;
    # 1 - 2323/3423 = 0.32135... and 1 - 2/3. NSCC: two buys net 2855.00 of 2855.00 gross.
    lch, nscc = rows[LCH, "EUR"], rows[NSCC, "USD"]
    assert (lch["trades"], lch["gross_value"], lch["obligations"], lch["net_value"]) == (
        3,
        "3423.00",
        2,
        "2323.00",
    )
    assert (lch["efficiency_by_value"], lch["efficiency_by_count"]) == ("0.3214", "0.3333")
    assert (nscc["efficiency_by_value"], nscc["efficiency_by_count"]) == ("0.0000", "0.5000")


async def test_bilateral_netting_gross_settlement_and_the_ccp_side_by_side(
    api: Api, reference: None
) -> None:
    ccp_trade = await jpm(api, "buy", "10", "190.00")
    # Deutsche Bank nets bilaterally: its two Bund trades make one obligation with it.
    bund_buy = await book_confirmed(api, **bund(quantity="1000000"))
    bund_sell = await book_confirmed(api, **bund(side="sell", quantity="400000", price="78.60"))
    # Goldman settles gross: each of its Bund trades is an obligation of its own.
    gross_one = await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    gross_two = await book_confirmed(
        api, **bund(counterparty_lei=GOLDMAN, side="sell", quantity="250000")
    )

    run = await clear(api, JPM_DUE)

    by_trade = {
        trade_id: o for o in await obligations(api, run_id=run["id"]) for trade_id in o["trade_ids"]
    }
    assert len({o["id"] for o in by_trade.values()}) == 4
    bilateral = by_trade[bund_buy["id"]]
    assert bilateral is by_trade[bund_sell["id"]]
    # The net amounts carry accrued interest: the obligation is the sale's cash in less the
    # purchase's cash out.
    net_amount = Decimal(bund_sell["net_amount"]) - Decimal(bund_buy["net_amount"])
    assert obligation_view(bilateral) == (
        "bilateral",
        DEUTSCHE,
        bund_buy["isin"],
        "600000",
        str(net_amount),
        "receive",
    )
    assert (bilateral["securities_account"], bilateral["cash_account"]) == ("SEC-EB", "CASH-EUR")
    assert by_trade[gross_one["id"]]["trade_ids"] == [gross_one["id"]]
    assert by_trade[gross_two["id"]]["trade_ids"] == [gross_two["id"]]
    assert obligation_view(by_trade[gross_two["id"]]) == (
        "gross",
        GOLDMAN,
        bund_buy["isin"],
        "-250000",
        gross_two["net_amount"],
        "deliver",
    )
    assert by_trade[ccp_trade["id"]]["netting_set"] == "ccp"
    # Only the CCP trade has a counterparty of record other than its own.
    records = [
        (await trade(api, t["id"]))["counterparty_of_record"]
        for t in (ccp_trade, bund_buy, gross_one)
    ]
    assert records == [NSCC, None, None]
    assert len(await instructions(api)) == 4


async def test_bilateral_netting_keeps_each_counterparty_apart(api: Api, reference: None) -> None:
    await book_confirmed(api, **bund())
    await book_confirmed(api, **bund(counterparty_lei=BNP, side="sell"))

    run = await clear(api, JPM_DUE)

    found = sorted(
        (o["counterparty_lei"], o["net_quantity"]) for o in await obligations(api, run_id=run["id"])
    )
    assert found == sorted([(DEUTSCHE, "1000000"), (BNP, "-1000000")])


# --- Which trades a run takes --------------------------------------------------------------------


async def test_only_confirmed_trades_due_on_the_date_are_cleared(api: Api, reference: None) -> None:
    confirmed = await jpm(api, "buy", "100", "190.00")
    captured = await book(api, **FREE)
    other_date = await jpm(
        api, "buy", "100", "190.00", trade_date="2026-11-25", trade_time="2026-11-25T14:00:00Z"
    )

    run = await clear(api, JPM_DUE)

    [obligation] = await obligations(api, run_id=run["id"])
    assert obligation["trade_ids"] == [confirmed["id"]]
    assert (await trade(api, captured["id"]))["status"] == "captured"
    assert (await trade(api, other_date["id"]))["status"] == "confirmed"


async def test_a_late_trade_goes_into_a_second_run_and_a_third_run_says_there_is_nothing(
    api: Api, reference: None
) -> None:
    early = await jpm(api, "buy", "100", "190.00")
    first = await clear(api, JPM_DUE)
    late = await jpm(api, "sell", "30", "191.00", counterparty_lei=MORGAN)

    second = await clear(api, JPM_DUE)
    third = await clear(api, JPM_DUE)

    [first_obligation] = await obligations(api, run_id=first["id"])
    [second_obligation] = await obligations(api, run_id=second["id"])
    assert (first_obligation["trade_ids"], first_obligation["net_quantity"]) == (
        [early["id"]],
        "100",
    )
    assert (second_obligation["trade_ids"], second_obligation["net_quantity"]) == (
        [late["id"]],
        "-30",
    )
    assert (second["total"], second["processed"], second["instructions"]) == (1, 1, 1)
    assert third == {
        **second,
        "note": f"Nothing to clear: no confirmed trade is due on {JPM_DUE}; the last run for "
        f"the date is {second['id']}.",
    }
    assert len(await api_runs(api)) == 2


async def api_runs(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/clearing-runs", params=params, role=OPS)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_date_with_no_trades_at_all_is_a_no_op_that_says_so(
    api: Api, reference: None
) -> None:
    run = await clear(api, JPM_DUE)

    assert run == {
        "id": None,
        "settlement_date": JPM_DUE,
        "status": "completed",
        "dry_run": False,
        "total": 0,
        "processed": 0,
        "obligations": 0,
        "instructions": 0,
        "report": None,
        "error": None,
        "note": f"Nothing to clear: no confirmed trade is due on {JPM_DUE}.",
        "created_at": None,
        "finished_at": None,
        "worker": None,
        "heartbeat_at": None,
        "stalled_after": None,
    }
    assert await api_runs(api) == []


async def test_a_trade_whose_account_cannot_be_found_waits_for_a_later_run_with_the_reason(
    api: Api, reference: None
) -> None:
    waiting = await jpm(api, "buy", "100", "190.00")
    account = await api.get("/accounts/SEC-DTC", role=OPS)
    unlinked = await api.patch(
        "/accounts/SEC-DTC",
        json={"markets": []},
        role=OPS,
        headers={"If-Match": account.headers["etag"]},
    )
    assert unlinked.status_code == 200, unlinked.text

    run = await clear(api, JPM_DUE)

    assert (run["status"], run["total"], run["processed"], run["obligations"]) == (
        "completed",
        1,
        1,
        0,
    )
    assert run["report"]["exceptions_count"] == 1
    assert run["report"]["exceptions"] == [
        {
            "trade_id": waiting["id"],
            "reason": "our securities account for market XNYS: exactly one is needed, found none",
        }
    ]
    assert (await trade(api, waiting["id"]))["status"] == "confirmed"

    relinked = await api.patch(
        "/accounts/SEC-DTC",
        json={"markets": ["XNYS"]},
        role=OPS,
        headers={"If-Match": unlinked.headers["etag"]},
    )
    assert relinked.status_code == 200, relinked.text
    again = await clear(api, JPM_DUE)
    assert (again["obligations"], again["report"]["exceptions_count"]) == (1, 0)
    assert (await trade(api, waiting["id"]))["status"] == "instructed"


# --- Dry run -------------------------------------------------------------------------------------


async def every_row(db: Database) -> dict[str, list[dict[str, Any]]]:
    async with db.engine.connect() as connection:
        return {
            table.name: [dict(row) for row in (await connection.execute(select(table))).mappings()]
            for table in metadata.sorted_tables
        }


async def test_a_dry_run_answers_the_report_the_run_gives_and_changes_no_row(
    api: Api, reference: None, db: Database
) -> None:
    await jpm(api, "buy", "100", "190.00")
    await jpm(api, "sell", "40", "191.00", counterparty_lei=MORGAN)
    await book_confirmed(api, **bund_trade_payload(settlement_date=JPM_DUE))
    before = await every_row(db)

    dry = await clear(api, JPM_DUE, dry_run=True)

    assert await every_row(db) == before
    assert (dry["id"], dry["status"], dry["dry_run"], dry["total"]) == (None, "dry_run", True, 3)
    run = await clear(api, JPM_DUE)
    assert dry["report"] == run["report"]
    assert dry["obligations"] == run["obligations"] == 2


# --- The journal: novation moves what is unsettled to the CCP -----------------------------------


async def postings_of(api: Api, **params: str) -> list[tuple[str, str, str]]:
    response = await api.get("/journal-entries", params=params, role=OPS)
    assert response.status_code == 200, response.text
    return sorted(
        (p["ledger_account"], p["asset"], p["amount"])
        for entry in response.json()["items"]
        for p in entry["postings"]
    )


async def test_novation_moves_the_unsettled_trades_to_the_ccp_and_the_ledger_stays_whole(
    api: Api, reference: None
) -> None:
    await jpm(api, "buy", "100", "190.00")
    await jpm(api, "sell", "40", "191.00", counterparty_lei=MORGAN)
    await book_confirmed(api, **bund_trade_payload(settlement_date=JPM_DUE))

    run = await clear(api, JPM_DUE)

    # Goldman owed us 100 JPM and we owed it 19000.00; Morgan Stanley the other way round.
    # Both now stand against NSCC, which nets them; the Bund trade is not novated.
    assert await postings_of(api, kind="novation", source_id=run["id"]) == sorted(
        [
            (f"counterparty:{GOLDMAN}", JPM, "-100"),
            (f"counterparty:{NSCC}", JPM, "100"),
            (f"counterparty:{GOLDMAN}", "USD", "19000.00"),
            (f"counterparty:{NSCC}", "USD", "-19000.00"),
            (f"counterparty:{MORGAN}", JPM, "40"),
            (f"counterparty:{NSCC}", JPM, "-40"),
            (f"counterparty:{MORGAN}", "USD", "-7640.00"),
            (f"counterparty:{NSCC}", "USD", "7640.00"),
        ]
    )
    check = await ledger_check(api)
    assert check["ok"] is True, check


# --- Audit, in the background, resuming ---------------------------------------------------------


async def test_each_trade_step_and_the_run_are_on_the_audit_trail(
    api: Api, reference: None, db: Database
) -> None:
    bought = await jpm(api, "buy", "100", "190.00")

    run = await clear(api, JPM_DUE)

    async with db.sessionmaker() as session:
        records = (
            await session.execute(
                select(AuditRecord.entity_type, AuditRecord.entity_id, AuditRecord.action)
                .where(AuditRecord.entity_id.in_([bought["id"], run["id"]]))
                .order_by(AuditRecord.id)
            )
        ).all()
    assert [tuple(r) for r in records][-4:] == [
        ("clearing_run", run["id"], "started"),
        ("trade", bought["id"], "cleared"),
        ("trade", bought["id"], "instructed"),
        ("clearing_run", run["id"], "completed"),
    ]


async def test_an_instruction_is_audited_as_stored_with_its_pending_entry(
    api: Api, reference: None, db: Database
) -> None:
    await jpm(api, "buy", "100", "190.00")
    await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))

    await clear(api, JPM_DUE)

    async with db.sessionmaker() as session:
        stored = (await session.scalars(select(SettlementInstruction))).all()
        created = await session.execute(
            select(AuditRecord.entity_id, AuditRecord.after).where(
                AuditRecord.entity_type == "settlement_instruction", AuditRecord.action == "created"
            )
        )
        audited: dict[str, Any] = dict(created.all())
        pending = dict(
            (await session.execute(select(PendingEntry.source_id, PendingEntry.id))).all()
        )
    assert len(stored) == 2
    assert audited == {i.id: row_snapshot(i) for i in stored}
    assert {i.id: i.pending_id for i in stored} == {i.id: pending[i.id] for i in stored}


async def test_without_wait_the_run_answers_202_and_finishes_in_the_background(
    api: Api, reference: None
) -> None:
    await jpm(api, "buy", "100", "190.00")

    response = await api.post("/clearing-runs", json={"settlement_date": JPM_DUE}, role=OPS)

    assert response.status_code == 202, response.text
    started = response.json()
    assert (started["status"], started["total"], started["processed"]) == ("running", 1, 0)
    assert response.headers["location"] == f"/api/v1/clearing-runs/{started['id']}"
    finished = (await api.get(f"/clearing-runs/{started['id']}", role=OPS)).json()
    assert (finished["status"], finished["processed"], finished["instructions"]) == (
        "completed",
        1,
        1,
    )


async def test_a_run_that_fails_between_chunks_is_resumed_and_clears_every_trade_once(
    api: Api, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked = [await jpm(api, "buy", "10", "190.00") for _ in range(3)]
    booked += [await jpm(api, "sell", "4", "191.00", counterparty_lei=MORGAN) for _ in range(2)]
    monkeypatch.setattr(clearing_work, "CHUNK", 2)
    real_novate = positions.novate
    calls = 0

    async def novate_failing_on_the_second_chunk(*args: Any, **kwargs: Any) -> str | None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the database went away")
        return await real_novate(*args, **kwargs)

    monkeypatch.setattr(positions, "novate", novate_failing_on_the_second_chunk)

    failed = await clear(api, JPM_DUE)

    assert (failed["status"], failed["processed"], failed["error"]) == (
        "failed",
        2,
        "the database went away",
    )
    statuses = sorted([(await trade(api, t["id"]))["status"] for t in booked])
    assert statuses == ["cleared", "cleared", "confirmed", "confirmed", "confirmed"]

    resumed = await api.post(
        f"/clearing-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS
    )

    assert resumed.status_code == 200, resumed.text
    run = resumed.json()
    assert (run["status"], run["processed"], run["obligations"], run["instructions"]) == (
        "completed",
        5,
        1,
        1,
    )
    [obligation] = await obligations(api, run_id=run["id"])
    # 3 x 10 bought, 2 x 4 sold: +22; -5700.00 + 1528.00 = -4172.00.
    assert obligation_view(obligation) == ("ccp", NSCC, JPM, "22", "-4172.00", "receive")
    assert obligation["trade_ids"] == sorted(t["id"] for t in booked)
    assert {(await trade(api, t["id"]))["status"] for t in booked} == {"instructed"}
    assert (await ledger_check(api))["ok"] is True


async def test_only_a_failed_run_can_be_resumed(api: Api, reference: None) -> None:
    await jpm(api, "buy", "10", "190.00")
    run = await clear(api, JPM_DUE)

    response = await api.post(f"/clearing-runs/{run['id']}/resume", role=OPS)

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


# --- Reading, refusals ---------------------------------------------------------------------------


async def test_runs_and_obligations_are_listed_by_date_and_found_by_id(
    api: Api, reference: None
) -> None:
    await jpm(api, "buy", "10", "190.00")
    run = await clear(api, JPM_DUE)
    [obligation] = await obligations(api, run_id=run["id"])

    assert [r["id"] for r in await api_runs(api, settlement_date=JPM_DUE)] == [run["id"]]
    assert await api_runs(api, settlement_date=OTHER_DATE) == []
    one = await api.get(f"/obligations/{obligation['id']}", role="trader")
    assert (one.status_code, one.json()) == (200, obligation)
    assert await obligations(api, counterparty_lei=NSCC, isin=JPM) == [obligation]
    assert await obligations(api, counterparty_lei=GOLDMAN) == []
    assert await obligations(api, settlement_date=OTHER_DATE) == []


@pytest.mark.parametrize(
    "path", ["/clearing-runs/clr_unknown", "/obligations/obl_unknown"], ids=["run", "obligation"]
)
async def test_unknown_run_or_obligation_is_404(api: Api, reference: None, path: str) -> None:
    response = await api.get(path, role=OPS)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"settlement_date"}, id="missing-date"),
        pytest.param({"settlement_date": "2026-11-31"}, {"settlement_date"}, id="bad-date"),
        pytest.param(
            {"settlement_date": JPM_DUE, "dry_run": "perhaps"}, {"dry_run"}, id="bad-dry-run"
        ),
        pytest.param({"settlement_date": JPM_DUE, "isin": JPM}, {"isin"}, id="extra-field"),
    ],
)
async def test_a_bad_run_request_is_422_naming_the_field(
    api: Api, reference: None, body: dict[str, Any], fields: set[str]
) -> None:
    response = await api.post("/clearing-runs", json=body, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == fields


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_runs_clearing(api: Api, reference: None, role: str) -> None:
    await jpm(api, "buy", "10", "190.00")

    response = await api.post("/clearing-runs", json={"settlement_date": JPM_DUE}, role=role)

    assert response.status_code == 403
    assert (await trade_statuses(api)) == ["confirmed"]


async def trade_statuses(api: Api) -> list[str]:
    response = await api.get("/trades", role=OPS)
    return [t["status"] for t in response.json()["items"]]


async def test_without_a_key_clearing_is_401(api: Api, reference: None) -> None:
    response = await api.post("/clearing-runs", json={"settlement_date": JPM_DUE})

    assert response.status_code == 401


@pytest.mark.parametrize("role", ["trader", "operations", "compliance"])
@pytest.mark.parametrize("path", ["/clearing-runs", "/obligations"])
async def test_every_business_role_reads_clearing(
    api: Api, reference: None, role: str, path: str
) -> None:
    response = await api.get(path, role=role)

    assert response.status_code == 200


async def test_a_run_resumed_after_its_instructions_exist_clears_no_late_trade_into_them(
    api: Api, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = await jpm(api, "buy", "100", "190.00")

    async def link_down(*args: Any, **kwargs: Any) -> str | None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(set_based, "instruct_cleared", link_down)
        failed = await clear(api, JPM_DUE)
    late = await jpm(api, "sell", "30", "191.00", counterparty_lei=MORGAN)

    assert (failed["status"], failed["instructions"]) == ("failed", 1)
    assert (await trade(api, early["id"]))["status"] == "cleared"
    resumed = await api.post(
        f"/clearing-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS
    )

    assert resumed.status_code == 200, resumed.text
    assert (resumed.json()["status"], resumed.json()["processed"]) == ("completed", 1)
    [obligation] = await obligations(api, run_id=failed["id"])
    assert (obligation["trade_ids"], obligation["net_quantity"]) == ([early["id"]], "100")
    assert (await trade(api, early["id"]))["status"] == "instructed"
    # The late trade waits for the next run, which nets it on its own.
    assert (await trade(api, late["id"]))["status"] == "confirmed"
    following = await clear(api, JPM_DUE)
    [second] = await obligations(api, run_id=following["id"])
    assert second["trade_ids"] == [late["id"]]
