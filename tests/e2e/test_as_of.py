"""A trade and a settlement instruction read `as_of` moments of their lives, over HTTP: each
answer is exactly what the API answered at that moment, rebuilt from the audit trail; before
the entity existed it is a 404.

The trade: we buy 100 JPM at 189.25 from Goldman (net 18926.52), amend it to 150 (150 x 189.25
+ 1.52 = 28389.02), Goldman confirms 150, clearing novates it to the CCP and instructs it.
The instruction: 1,000,000 Bund bought from Goldman (785,000.00 + 5,079.45 accrued = 790,079.45),
matched on creation off venue, held, released, settled on its date 2026-11-26.
"""

from datetime import UTC, datetime
from typing import Any

from tests.clearing.support import NSCC, OPS, book_confirmed, clear
from tests.factories import GOLDMAN, trade_payload
from tests.positions.conftest import Adjust, line
from tests.settlement.support import INSTRUCTIONS, bund, instruction_of
from tests.support import Api, FrozenClock
from tests.trades.confirmations.factories import confirm, confirmation_payload

PROBLEMS = "https://settlement.example/problems/"


async def read(api: Api, path: str, as_of: str | None = None, role: str = OPS) -> dict[str, Any]:
    params = {} if as_of is None else {"as_of": as_of}
    response = await api.get(path, params=params, role=role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def not_found_before(api: Api, path: str, moment: str) -> dict[str, Any]:
    response = await api.get(path, params={"as_of": moment}, role="compliance")
    assert response.status_code == 404, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + "not-found"
    return body


async def test_a_trade_as_of_capture_amendment_confirmation_and_clearing(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    # 15:00 captured.
    created = await api.post("/trades", json=trade_payload(external_id="FO-ASOF-1"), role="trader")
    assert created.status_code == 201, created.text
    captured = created.json()
    path = f"/trades/{captured['id']}"
    # 15:10 amended to 150.
    clock.advance(minutes=10)
    response = await api.patch(
        path, json={"quantity": "150"}, headers={"If-Match": '"1"'}, role="trader"
    )
    assert response.status_code == 200, response.text
    amended = response.json()
    # 15:20 Goldman confirms 150.
    clock.advance(minutes=10)
    await confirm(
        api,
        confirmation_payload(trade_reference="FO-ASOF-1", quantity="150", net_amount="28389.02"),
    )
    confirmed = await read(api, path)
    # 15:30 cleared and instructed.
    clock.advance(minutes=10)
    await clear(api, "2026-11-25")
    now = await read(api, path)

    assert await read(api, path, "2026-11-25T15:05:00Z") == captured
    assert await read(api, path, "2026-11-25T15:15:00Z", role="compliance") == amended
    assert await read(api, path, "2026-11-25T10:25:00-05:00") == confirmed
    assert await read(api, path, "2026-11-25T15:30:00Z") == now
    assert [
        (t["status"], t["version"], t["quantity"], t["net_amount"], t["counterparty_of_record"])
        for t in (captured, amended, confirmed, now)
    ] == [
        ("captured", 1, "100", "18926.52", None),
        ("captured", 2, "150", "28389.02", None),
        ("confirmed", 3, "150", "28389.02", None),
        ("instructed", 5, "150", "28389.02", NSCC),
    ]
    assert (captured["obligation_id"], confirmed["obligation_id"]) == (None, None)
    assert now["obligation_id"] is not None
    problem = await not_found_before(api, path, "2026-11-25T14:59:59Z")
    assert problem["detail"] == (
        f"Trade '{captured['id']}' did not exist at 2026-11-25T14:59:59+00:00."
    )


async def test_an_instruction_as_of_creation_hold_release_and_settlement(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    await adjust("opening", line("CASH-EUR", "EUR", "790079.45"))
    bought = await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    # 15:00 made by clearing, matched at once (the off-venue market matches itself).
    await clear(api, "2026-11-26")
    created = await instruction_of(api, bought)
    path = f"{INSTRUCTIONS}/{created['id']}"
    # 15:10 held; 15:20 released.
    clock.advance(minutes=10)
    held = await act(api, path, "hold")
    clock.advance(minutes=10)
    released = await act(api, path, "release")
    # 2026-11-26 15:00 settled by the day's run.
    clock.set(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
    run = await api.post(
        "/settlement-runs",
        json={"settlement_date": "2026-11-26"},
        params={"wait": "true"},
        role=OPS,
    )
    assert run.status_code == 200, run.text
    settled = await read(api, path)

    assert await read(api, path, "2026-11-25T15:00:00Z") == created
    assert await read(api, path, "2026-11-25T15:19:59Z", role="compliance") == held
    assert await read(api, path, "2026-11-26T14:59:59Z") == released
    assert await read(api, path, "2026-11-27T09:00:00Z", role="trader") == settled
    assert [
        (i["status"], i["held_from"], i["version"], i["settled_quantity"], i["settled_amount"])
        for i in (created, held, released, settled)
    ] == [
        ("matched", None, 1, "0", "0"),
        ("on_hold", "matched", 2, "0", "0"),
        ("matched", None, 3, "0", "0"),
        ("settled", None, 4, "1000000", "790079.45"),
    ]
    assert (created["settled_on"], settled["settled_on"]) == (None, "2026-11-26")
    problem = await not_found_before(api, path, "2026-11-25T14:59:59Z")
    assert problem["detail"] == (
        f"Settlement instruction '{created['id']}' did not exist at 2026-11-25T14:59:59+00:00."
    )


async def act(api: Api, path: str, action: str) -> dict[str, Any]:
    response = await api.post(f"{path}/{action}", role=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
