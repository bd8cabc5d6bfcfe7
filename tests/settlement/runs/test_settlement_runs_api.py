"""Settlement runs over HTTP: CCP instructions (matched on creation) settle against what our
accounts hold, or fail with LACK or MONY, and the journal, the trades and the report follow.

JPM trades of 2026-11-24 settle on 2026-11-25, the frozen clock's day, at NSCC into SEC-DTC and
CASH-USD. Commission and fees are zero so that every amount is quantity x price.
"""

from typing import Any

import pytest

from app.positions.bookings import service as positions_service
from app.settlement.runs import work as runs_work
from app.trades.capture import set_based
from tests.clearing.support import MORGAN, OPS, book_confirmed, clear, instructions, trade
from tests.factories import JPM
from tests.positions.conftest import Adjust, cash_balances, ledger_check, line, positions
from tests.support import Api, FrozenClock, problem_fields

DUE = "2026-11-25"
FREE = {"commission": "0", "fees": "0"}


async def jpm(api: Api, side: str, quantity: str, price: str, **overrides: Any) -> dict[str, Any]:
    return await book_confirmed(
        api, side=side, quantity=quantity, price=price, **{**FREE, **overrides}
    )


async def settle(api: Api, settlement_date: str = DUE, **body: Any) -> dict[str, Any]:
    response = await api.post(
        "/settlement-runs",
        json={"settlement_date": settlement_date, **body},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def inventory(adjust: Adjust, *, jpm: str = "0", usd: str = "0") -> None:
    lines = []
    if jpm != "0":
        lines += [line("SEC-DTC", JPM, jpm), line("book:EQ-FLOW", JPM, f"-{jpm}", cost="0.00")]
    if usd != "0":
        lines.append(line("CASH-USD", "USD", usd))
    await adjust("opening", *lines)


def state(instruction: dict[str, Any]) -> tuple[Any, ...]:
    return (
        instruction["status"],
        instruction["settled_quantity"],
        instruction["settled_amount"],
        instruction["fail_reason"],
    )


async def the_instruction(api: Api) -> dict[str, Any]:
    [instruction] = await instructions(api)
    return instruction


async def amend(api: Api, instruction: dict[str, Any], **changes: Any) -> dict[str, Any]:
    response = await api.patch(
        f"/settlement-instructions/{instruction['id']}",
        json=changes,
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def allow_partial(api: Api, instruction: dict[str, Any]) -> dict[str, Any]:
    """PATCH partial_allowed: NSCC and XNYS have no indicator of their own, so PART."""
    amended = await amend(api, instruction, partial_allowed=True)
    assert (amended["partial_allowed"], amended["partial_indicator"]) == (True, "PART")
    return amended


async def test_a_covered_receipt_settles_and_moves_securities_cash_and_the_trade(
    api: Api, adjust: Adjust
) -> None:
    await inventory(adjust, usd="50000.00")
    bought = await jpm(api, "buy", "100", "190.00")
    await clear(api, DUE)
    # Instructed, the payment shows as due: projected 50000.00 - 19000.00.
    [due] = await cash_balances(api, account="CASH-USD")
    assert (due["settled"], due["pending"], due["projected"]) == (
        "50000.00",
        "-19000.00",
        "31000.00",
    )

    run = await settle(api)

    assert (run["status"], run["total"], run["processed"], run["settled"]) == (
        "completed",
        1,
        1,
        1,
    )
    assert run["report"] == {
        "settled": 1,
        "partially_settled": 0,
        "failed": 0,
        "market_closed": 0,
        "trades_netted_out": 0,
        "fails": [],
        "held": 0,
        "held_ids": [],
        # An internal market's instruction: nothing at a depository.
        "at_csd": {
            "instructions": 0,
            "failing": 0,
            "failing_by_age": [
                {"bucket": bucket, "instructions": 0}
                for bucket in ("1", "2-3", "4-7", "8-15", "16+")
            ],
            "resent": 0,
            "not_sendable": 0,
            "not_sendable_ids": [],
        },
    }
    instruction = await the_instruction(api)
    assert state(instruction) == ("settled", "100", "19000.00", None)
    assert (await trade(api, bought["id"]))["status"] == "settled"
    [held] = await positions(api, basis="settlement_date")
    assert (held["account"], held["isin"], held["quantity"]) == ("SEC-DTC", JPM, "100")
    [cash] = await cash_balances(api, account="CASH-USD")
    # 50000.00 - 19000.00, nothing left pending.
    assert (cash["settled"], cash["pending"], cash["projected"]) == ("31000.00", "0.00", "31000.00")
    assert (await ledger_check(api))["ok"] is True


async def test_a_receipt_we_cannot_pay_for_fails_mony_and_recycles(
    api: Api, adjust: Adjust
) -> None:
    await inventory(adjust, usd="18999.99")
    bought = await jpm(api, "buy", "100", "190.00")
    await clear(api, DUE)

    run = await settle(api)

    assert (run["settled"], run["failed"]) == (0, 1)
    assert run["report"]["fails"] == [
        {"reason": "MONY", "currency": "USD", "instructions": 1, "unsettled_amount": "19000.00"}
    ]
    assert state(await the_instruction(api)) == ("matched", "0", "0", "MONY")
    assert (await trade(api, bought["id"]))["status"] == "instructed"

    await inventory(adjust, usd="0.01")
    again = await settle(api)

    assert (again["settled"], again["failed"]) == (1, 0)
    assert state(await the_instruction(api)) == ("settled", "100", "19000.00", None)


async def test_a_delivery_we_do_not_hold_fails_lack(api: Api, adjust: Adjust) -> None:
    await inventory(adjust, jpm="99")
    await jpm(api, "sell", "100", "190.00")
    await clear(api, DUE)

    run = await settle(api)

    assert run["report"]["fails"] == [
        {"reason": "LACK", "currency": "USD", "instructions": 1, "unsettled_amount": "19000.00"}
    ]
    assert state(await the_instruction(api)) == ("matched", "0", "0", "LACK")


async def test_a_partial_delivery_settles_what_is_there_and_the_rest_later(
    api: Api, adjust: Adjust
) -> None:
    await inventory(adjust, jpm="60")
    sold = await jpm(api, "sell", "100", "190.25")
    await clear(api, DUE)
    await allow_partial(api, await the_instruction(api))

    first = await settle(api)

    # 60 of 100 against 19025.00 x 60/100 = 11415.00; 40 and 7610.00 left, failing LACK.
    assert (first["settled"], first["partially_settled"], first["failed"]) == (0, 1, 0)
    assert first["report"]["fails"] == [
        {"reason": "LACK", "currency": "USD", "instructions": 1, "unsettled_amount": "7610.00"}
    ]
    assert state(await the_instruction(api)) == ("partially_settled", "60", "11415.00", "LACK")
    assert (await trade(api, sold["id"]))["status"] == "partially_settled"
    # The rest is still due: 40 JPM out, 7610.00 in.
    [cash] = await cash_balances(api, account="CASH-USD")
    assert (cash["settled"], cash["pending"], cash["projected"]) == (
        "11415.00",
        "7610.00",
        "19025.00",
    )

    await inventory(adjust, jpm="40")
    await settle(api)

    assert state(await the_instruction(api)) == ("settled", "100", "19025.00", None)
    assert (await trade(api, sold["id"]))["status"] == "settled"
    [cash] = await cash_balances(api, account="CASH-USD")
    assert cash["settled"] == "19025.00"
    assert (await ledger_check(api))["ok"] is True


async def test_a_dry_run_reports_the_same_and_settles_nothing(api: Api, adjust: Adjust) -> None:
    await inventory(adjust, usd="19000.00")
    await jpm(api, "buy", "100", "190.00")
    await jpm(api, "sell", "10", "70.00", isin="US1912161007")
    await clear(api, DUE)

    response = await api.post(
        "/settlement-runs", json={"settlement_date": DUE, "dry_run": True}, role=OPS
    )

    assert response.status_code == 200, response.text
    dry = response.json()
    assert (dry["id"], dry["status"], dry["total"], dry["settled"], dry["failed"]) == (
        None,
        "dry_run",
        2,
        1,
        1,
    )
    assert {i["status"] for i in await instructions(api)} == {"matched"}
    run = await settle(api)
    assert run["report"] == dry["report"]


async def test_a_run_that_fails_between_chunks_resumes_and_settles_each_instruction_once(
    api: Api, adjust: Adjust, monkeypatch: pytest.MonkeyPatch
) -> None:
    await inventory(adjust, usd="100000.00")
    for isin in ("US46625H1005", "US1912161007", "US4592001014"):
        await jpm(api, "buy", "10", "100.00", isin=isin)
    await clear(api, DUE)
    monkeypatch.setattr(runs_work, "CHUNK", 1)
    real = positions_service.post_settlements
    calls = 0

    async def fail_on_the_second(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the custodian link dropped")
        return await real(*args, **kwargs)

    monkeypatch.setattr(positions_service, "post_settlements", fail_on_the_second)

    failed = await settle(api)

    assert (failed["status"], failed["processed"], failed["error"]) == (
        "failed",
        1,
        "the custodian link dropped",
    )
    resumed = await api.post(
        f"/settlement-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS
    )
    assert resumed.status_code == 200, resumed.text
    run = resumed.json()
    assert (run["status"], run["processed"], run["settled"]) == ("completed", 3, 3)
    assert {state(i) for i in await instructions(api)} == {("settled", "10", "1000.00", None)}
    [cash] = await cash_balances(api, account="CASH-USD")
    assert cash["settled"] == "97000.00"
    assert (await ledger_check(api))["ok"] is True


async def test_trades_that_net_out_to_nothing_settle_on_their_date_without_an_instruction(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    # Bought from one counterparty and sold to another, 100 at 190.00, both novated to NSCC:
    # the obligation nets to zero securities and zero cash, so no instruction is made.
    later = {"settlement_date": "2026-11-27"}
    bought = await jpm(api, "buy", "100", "190.00", **later)
    sold = await jpm(api, "sell", "100", "190.00", counterparty_lei=MORGAN, **later)
    cleared = await clear(api, "2026-11-27")
    assert (cleared["obligations"], cleared["instructions"]) == (1, 0)

    early = await settle(api)  # 2026-11-25: not their day yet

    assert (early["total"], early["report"]["trades_netted_out"]) == (0, 0)
    assert {(await trade(api, t["id"]))["status"] for t in (bought, sold)} == {"instructed"}

    clock.advance(days=2)
    dry = await settle(api, "2026-11-27", dry_run=True)
    run = await settle(api, "2026-11-27")

    assert dry["report"]["trades_netted_out"] == run["report"]["trades_netted_out"] == 2
    assert (run["status"], run["total"], run["settled"]) == ("completed", 0, 0)
    for original in (bought, sold):
        history = await api.get(f"/trades/{original['id']}/history", role=OPS)
        assert history.status_code == 200, history.text
        last = history.json()[-1]
        assert (last["action"], last["after"]["status"]) == ("settled", "settled")
    again = await settle(api, "2026-11-27")
    assert again["report"]["trades_netted_out"] == 0
    assert await positions(api, basis="settlement_date") == []
    assert (await ledger_check(api))["ok"] is True


async def test_a_netted_out_obligation_with_more_trades_than_a_chunk_settles_them_all(
    api: Api, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three trades net to nothing; a chunk settles one trade at a time, so the obligation is
    # taken up again until none of its trades is left.
    booked = [
        await jpm(api, "buy", "100", "190.00"),
        await jpm(api, "sell", "60", "190.00", counterparty_lei=MORGAN),
        await jpm(api, "sell", "40", "190.00", counterparty_lei=MORGAN),
    ]
    cleared = await clear(api, DUE)
    assert (cleared["obligations"], cleared["instructions"]) == (1, 0)
    monkeypatch.setattr(runs_work, "CHUNK", 1)

    run = await settle(api)

    assert (run["status"], run["report"]["trades_netted_out"]) == ("completed", 3)
    assert {(await trade(api, t["id"]))["status"] for t in booked} == {"settled"}
    assert (await settle(api))["report"]["trades_netted_out"] == 0


async def test_netted_out_trades_clearing_has_not_handed_over_settle_in_a_later_run(
    api: Api, reference: None, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clearing run fails after netting, before handing the trades to settlement: they stay
    # ``cleared``. A settlement run on their date settles nothing of them and keeps the
    # obligation for later; once the resumed clearing run hands them over, the next one does.
    bought = await jpm(api, "buy", "100", "190.00")
    sold = await jpm(api, "sell", "100", "190.00", counterparty_lei=MORGAN)

    async def link_down(*args: Any, **kwargs: Any) -> str | None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(set_based, "instruct_cleared", link_down)
        failed = await clear(api, DUE)
    assert (failed["status"], failed["obligations"], failed["instructions"]) == ("failed", 1, 0)

    early = await settle(api)

    assert early["report"]["trades_netted_out"] == 0
    assert {(await trade(api, t["id"]))["status"] for t in (bought, sold)} == {"cleared"}
    resumed = await api.post(
        f"/clearing-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS
    )
    assert resumed.json()["status"] == "completed"
    later = await settle(api)

    assert later["report"]["trades_netted_out"] == 2
    assert {(await trade(api, t["id"]))["status"] for t in (bought, sold)} == {"settled"}
    assert (await settle(api))["report"]["trades_netted_out"] == 0


async def test_a_run_for_a_day_not_yet_come_is_422(api: Api, reference: None) -> None:
    response = await api.post("/settlement-runs", json={"settlement_date": "2026-11-26"}, role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {"settlement_date"}


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_runs_settlement(api: Api, reference: None, role: str) -> None:
    response = await api.post("/settlement-runs", json={"settlement_date": DUE}, role=role)

    assert response.status_code == 403


async def test_runs_are_listed_and_found(api: Api, adjust: Adjust) -> None:
    await inventory(adjust, usd="50000.00")
    await jpm(api, "buy", "100", "190.00", counterparty_lei=MORGAN)
    await clear(api, DUE)
    run = await settle(api)

    listed = await api.get("/settlement-runs", params={"settlement_date": DUE}, role="compliance")
    one = await api.get(f"/settlement-runs/{run['id']}", role="trader")
    unknown = await api.get("/settlement-runs/str_unknown", role=OPS)

    assert [r["id"] for r in listed.json()["items"]] == [run["id"]]
    assert one.json() == run
    assert unknown.status_code == 404


# T2S partial settlement: indicators, windows, thresholds ---------------------------------------
# XNYS's clock is New York's: the frozen clock's 15:00 UTC is 10:00 there (EST, UTC-5).


async def amend_reference(api: Api, path: str, **changes: Any) -> None:
    current = await api.get(path, role=OPS)
    response = await api.patch(
        path, json=changes, headers={"If-Match": current.headers["etag"]}, role=OPS
    )
    assert response.status_code == 200, response.text


async def dry_run(api: Api) -> dict[str, Any]:
    response = await api.post(
        "/settlement-runs", json={"settlement_date": DUE, "dry_run": True}, role=OPS
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_partial_settlement_happens_only_inside_the_markets_window(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    window = [{"from": "11:00", "to": "11:15"}]  # New York: 16:00 to 16:15 UTC
    await amend_reference(
        api, "/markets/XNYS", partial_settlement="PART", partial_settlement_windows=window
    )
    await inventory(adjust, jpm="60")
    await jpm(api, "sell", "100", "190.25")
    await clear(api, DUE)
    assert (await the_instruction(api))["partial_indicator"] == "PART"  # from XNYS, NSCC none
    clock.advance(minutes=30)  # 10:30 in New York

    dry_outside = await dry_run(api)
    outside = await settle(api)

    assert (dry_outside["partially_settled"], dry_outside["failed"]) == (0, 1)
    assert (outside["partially_settled"], outside["failed"]) == (0, 1)
    assert state(await the_instruction(api)) == ("matched", "0", "0", "LACK")

    clock.advance(minutes=35)  # 11:05 in New York
    dry_inside = await dry_run(api)
    inside = await settle(api)

    assert (dry_inside["partially_settled"], dry_inside["failed"]) == (1, 0)
    assert (inside["partially_settled"], inside["failed"]) == (1, 0)
    # 60 of 100 against 19025.00 x 60/100 = 11415.00.
    assert state(await the_instruction(api)) == ("partially_settled", "60", "11415.00", "LACK")
    assert (await ledger_check(api))["ok"] is True


async def test_lack_of_cash_fails_the_whole_instruction_even_where_partial_is_allowed(
    api: Api, adjust: Adjust
) -> None:
    # 18999.99 would pay for 99 of the 100: T2S settles in part for lack of securities only.
    await amend_reference(api, "/markets/XNYS", partial_settlement="PART")
    await inventory(adjust, usd="18999.99")
    await jpm(api, "buy", "100", "190.00")
    await clear(api, DUE)
    assert (await the_instruction(api))["partial_indicator"] == "PART"

    run = await settle(api)

    assert (run["settled"], run["partially_settled"], run["failed"]) == (0, 0, 1)
    assert run["report"]["fails"] == [
        {"reason": "MONY", "currency": "USD", "instructions": 1, "unsettled_amount": "19000.00"}
    ]
    assert state(await the_instruction(api)) == ("matched", "0", "0", "MONY")
    [cash] = await cash_balances(api, account="CASH-USD")
    assert cash["settled"] == "18999.99"


@pytest.mark.parametrize(
    ("indicator", "reference_change"),
    [
        pytest.param(
            "PARQ",
            ("/instruments/US46625H1005", {"partial_quantity_threshold": "70"}),
            id="PARQ-70-shares",
        ),
        pytest.param(
            "PARC",
            ("/markets/XNYS", {"partial_cash_thresholds": {"USD": "13317.50"}}),
            id="PARC-13317.50-USD",
        ),
    ],
)
async def test_below_its_threshold_a_partial_fails_whole_and_at_it_settles(
    api: Api, adjust: Adjust, indicator: str, reference_change: tuple[str, dict[str, Any]]
) -> None:
    path, change = reference_change
    await amend_reference(api, path, **change)
    await inventory(adjust, jpm="60")
    await jpm(api, "sell", "100", "190.25")
    await clear(api, DUE)
    await amend(api, await the_instruction(api), partial_indicator=indicator)

    below = await settle(api)

    # 60 shares, 11415.00: under 70 shares and under 13317.50.
    assert (below["partially_settled"], below["failed"]) == (0, 1)
    assert state(await the_instruction(api)) == ("matched", "0", "0", "LACK")

    await inventory(adjust, jpm="10")
    at_threshold = await settle(api)

    # 70 shares against 19025.00 x 70/100 = 13317.50: exactly the threshold.
    assert (at_threshold["partially_settled"], at_threshold["failed"]) == (1, 0)
    assert state(await the_instruction(api)) == ("partially_settled", "70", "13317.50", "LACK")
