"""POST /confirmations and its queries over HTTP: matching, reason codes, tolerances, candidates,
alleged confirmations, corrections, re-matching after amendments, conflicts, validation, roles.

Unless a test says otherwise the trade is the default ``trade_payload`` (we buy 100 JPM at 189.25
USD from Goldman, net 18926.52) and the confirmation is Goldman's matching view of it (sell).
The demo USD tolerance allows 0.0001 on the price and 0.05 on the net amount.
"""

from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from app.trades.capture.states import TradeEvent
from tests.conftest import Database
from tests.factories import DEUTSCHE, GOLDMAN, JPM, TOTAL, trade_payload
from tests.support import Api, FrozenClock, problem_fields
from tests.trades.confirmations.factories import (
    confirm,
    confirmation_body,
    confirmation_payload,
    get_json,
    reason,
    send_confirmation,
    trade_status,
)
from tests.trades.conftest import AdvanceTrade, BookTrade

TYPE_BASE = "https://settlement.example/problems/"
IBM = "US4592001014"  # a demo instrument other than JPM
BARCLAYS = "G5GSEF7VJP5I7OUK5573"  # a valid LEI that is not a demo counterparty


async def audit_count(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


async def history_actions(api: Api, trade_id: str) -> list[str]:
    history = await get_json(api, f"/trades/{trade_id}/history", role="compliance")
    return [entry["action"] for entry in history]


async def amend(api: Api, trade_id: str, changes: dict[str, Any], version: int) -> Any:
    response = await api.patch(
        f"/trades/{trade_id}", json=changes, headers={"If-Match": str(version)}, role="trader"
    )
    assert response.status_code == 200, response.text
    return response.json()


# Matched ------------------------------------------------------------------------------------


async def test_matched_by_trade_reference_confirms_the_trade(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"])

    response = await send_confirmation(api, payload)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("cnf_")
    assert body == confirmation_body(
        payload, id_=body["id"], status="matched", trade_id=booked["id"]
    )
    assert response.headers["location"] == f"/api/v1/confirmations/{body['id']}"
    assert await get_json(api, f"/confirmations/{body['id']}") == body
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)
    assert await history_actions(api, booked["id"]) == ["captured", "confirmation_matched"]


async def test_matched_by_economics_without_a_reference(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    other_day = await book_trade(trade_date="2026-11-23", trade_time="2026-11-23T15:00:00Z")
    other_side = await book_trade(side="sell")
    other_counterparty = await book_trade(counterparty_lei=DEUTSCHE)
    payload = confirmation_payload()
    assert payload["trade_reference"] is None

    body = await confirm(api, payload)

    assert body == confirmation_body(
        payload, id_=body["id"], status="matched", trade_id=booked["id"]
    )
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)
    for untouched in (other_day, other_side, other_counterparty):
        assert await trade_status(api, untouched["id"]) == ("captured", 1)


async def test_a_matching_eur_confirmation_confirms_a_paris_trade(
    api: Api, book_trade: BookTrade
) -> None:
    # 100 x 61.37 = 6137.00; buy: + 1.50 + 0.02 = 6138.52; XPAR settles T+2 on TARGET.
    booked = await book_trade(
        isin=TOTAL, counterparty_lei=DEUTSCHE, currency="EUR", venue="XPAR", price="61.37"
    )
    payload = confirmation_payload(
        counterparty_lei=DEUTSCHE,
        isin=TOTAL,
        price="61.37",
        currency="EUR",
        settlement_date="2026-11-26",
        net_amount="6138.52",
    )
    body = await confirm(api, payload)
    assert (body["status"], body["trade_id"], body["reasons"]) == ("matched", booked["id"], [])


# Unmatched: one reason each ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": "90"}, reason("DQUA", "quantity", "100", "90")),
        ({"price": "189.30"}, reason("DDEA", "price", "189.25", "189.30")),
        ({"price": "189.20"}, reason("DDEA", "price", "189.25", "189.20")),
        ({"net_amount": "18926.60"}, reason("DMON", "net_amount", "18926.52", "18926.60")),
        ({"net_amount": "18920.00"}, reason("DMON", "net_amount", "18926.52", "18920.00")),
        # Another currency: NCRR alone, the amounts are not compared (no DMON repeats it).
        ({"currency": "EUR"}, reason("NCRR", "currency", "USD", "EUR")),
        ({"isin": IBM}, reason("DSEC", "isin", JPM, IBM)),
        ({"trade_date": "2026-11-23"}, reason("DTRD", "trade_date", "2026-11-24", "2026-11-23")),
        (
            {"settlement_date": "2026-11-27"},
            reason("DDAT", "settlement_date", "2026-11-25", "2026-11-27"),
        ),
        # Goldman says it bought too: both sides buy.
        ({"side": "buy"}, reason("DELN", "side", "buy", "buy")),
    ],
    ids=[
        "DQUA",
        "DDEA-up",
        "DDEA-down",
        "DMON-up",
        "DMON-down",
        "NCRR",
        "DSEC",
        "DTRD",
        "DDAT",
        "DELN",
    ],
)
async def test_each_difference_is_reported_with_its_code_and_both_values(
    api: Api, book_trade: BookTrade, changes: dict[str, str], expected: dict[str, str]
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"], **changes)

    body = await confirm(api, payload)

    assert body == confirmation_body(
        payload, id_=body["id"], status="unmatched", trade_id=booked["id"], reasons=[expected]
    )
    assert await trade_status(api, booked["id"]) == ("mismatched", 2)
    assert await history_actions(api, booked["id"]) == ["captured", "confirmation_unmatched"]


async def test_several_differences_are_all_reported_in_field_order(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(
        trade_reference=booked["external_id"],
        net_amount="17040.02",
        settlement_date="2026-11-27",
        price="189.30",
        quantity="90",
    )
    body = await confirm(api, payload)
    assert body["status"] == "unmatched"
    assert body["reasons"] == [
        reason("DQUA", "quantity", "100", "90"),
        reason("DDEA", "price", "189.25", "189.30"),
        reason("DDAT", "settlement_date", "2026-11-25", "2026-11-27"),
        reason("DMON", "net_amount", "18926.52", "17040.02"),
    ]
    assert await trade_status(api, booked["id"]) == ("mismatched", 2)


async def test_the_only_trade_that_day_is_compared_even_without_a_reference(
    api: Api, book_trade: BookTrade
) -> None:
    # No reference and a quantity that fits no trade: the one same-day trade with Goldman is the
    # one it can be about, so it is compared and the difference explained (not left alleged).
    booked = await book_trade()
    payload = confirmation_payload(quantity="90", net_amount="17034.02")
    body = await confirm(api, payload)
    assert body == confirmation_body(
        payload,
        id_=body["id"],
        status="unmatched",
        trade_id=booked["id"],
        reasons=[
            reason("DQUA", "quantity", "100", "90"),
            reason("DMON", "net_amount", "18926.52", "17034.02"),
        ],
    )
    assert await trade_status(api, booked["id"]) == ("mismatched", 2)


# Tolerances ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "matched"),
    [
        ({"price": "189.2501"}, True),  # 0.0001 off: the limit itself matches
        ({"price": "189.2499"}, True),
        ({"price": "189.2502"}, False),
        ({"price": "189.2498"}, False),
        ({"net_amount": "18926.57"}, True),  # 0.05 off: the limit itself matches
        ({"net_amount": "18926.47"}, True),
        ({"net_amount": "18926.58"}, False),  # 0.06 off
        ({"net_amount": "18926.46"}, False),
        ({"net_amount": "18926.520000"}, True),  # more places, same amount
    ],
)
async def test_usd_tolerance_edges(
    api: Api, book_trade: BookTrade, changes: dict[str, str], matched: bool
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"], **changes)
    body = await confirm(api, payload)
    assert (body["status"], body["trade_id"]) == (
        "matched" if matched else "unmatched",
        booked["id"],
    )
    assert len(body["reasons"]) == (0 if matched else 1)
    assert await trade_status(api, booked["id"]) == (
        "confirmed" if matched else "mismatched",
        2,
    )


async def test_a_price_within_tolerance_is_found_by_economics(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    body = await confirm(api, confirmation_payload(price="189.2501", net_amount="18926.53"))
    assert (body["status"], body["trade_id"], body["reasons"]) == ("matched", booked["id"], [])


@pytest.mark.parametrize(
    ("net_amount", "matched"),
    [
        # Our net 6138.52: 0.1 bp of it is 0.061385, more generous than the 0.05 absolute.
        ("6138.58", True),
        ("6138.46", True),
        ("6138.59", False),  # 0.07 off: beyond both allowances
    ],
)
async def test_eur_basis_point_tolerance_is_used_when_more_generous(
    api: Api, book_trade: BookTrade, net_amount: str, matched: bool
) -> None:
    booked = await book_trade(
        isin=TOTAL, counterparty_lei=DEUTSCHE, currency="EUR", venue="XPAR", price="61.37"
    )
    payload = confirmation_payload(
        counterparty_lei=DEUTSCHE,
        trade_reference=booked["external_id"],
        isin=TOTAL,
        price="61.37",
        currency="EUR",
        settlement_date="2026-11-26",
        net_amount=net_amount,
    )
    body = await confirm(api, payload)
    if matched:
        assert (body["status"], body["reasons"]) == ("matched", [])
    else:
        assert body["status"] == "unmatched"
        assert body["reasons"] == [reason("DMON", "net_amount", "6138.52", net_amount)]


# Candidates: never guessed -------------------------------------------------------------------


async def test_two_trades_fitting_the_economics_are_candidates_and_neither_is_touched(
    api: Api, book_trade: BookTrade
) -> None:
    first = await book_trade()
    second = await book_trade()  # the same economics, another external_id
    ids = sorted([first["id"], second["id"]])
    payload = confirmation_payload()

    body = await confirm(api, payload)

    assert body == confirmation_body(
        payload,
        id_=body["id"],
        status="unmatched",
        trade_id=None,
        candidates=ids,
        reasons=[reason("MULT", "economics", f"2 trades fit: {ids[0]}, {ids[1]}", "no reference")],
    )
    for trade in (first, second):
        assert await trade_status(api, trade["id"]) == ("captured", 1)
        assert await history_actions(api, trade["id"]) == ["captured"]


async def test_a_reference_naming_trades_in_two_books_lists_both(
    api: Api, book_trade: BookTrade
) -> None:
    flow = await book_trade(external_id="FO-SHARED-1")
    rates = await book_trade(external_id="FO-SHARED-1", book="FI-RATES")
    ids = sorted([flow["id"], rates["id"]])
    payload = confirmation_payload(trade_reference="FO-SHARED-1")

    body = await confirm(api, payload)

    assert (body["status"], body["trade_id"], body["candidates"]) == ("unmatched", None, ids)
    assert body["reasons"] == [
        reason("MULT", "trade_reference", f"2 trades fit: {ids[0]}, {ids[1]}", "FO-SHARED-1")
    ]
    for trade in (flow, rates):
        assert await trade_status(api, trade["id"]) == ("captured", 1)


# Alleged -------------------------------------------------------------------------------------


async def test_alleged_then_the_trade_is_booked_confirms_it(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    payload = confirmation_payload()
    alleged = await confirm(api, payload)
    assert alleged == confirmation_body(payload, id_=alleged["id"], status="alleged", trade_id=None)

    clock.advance(minutes=5)
    created = await api.post("/trades", json=trade_payload(), role="trader")
    assert created.status_code == 201, created.text
    trade = created.json()
    assert (trade["status"], trade["version"]) == ("confirmed", 2)

    after = await get_json(api, f"/confirmations/{alleged['id']}")
    assert after == confirmation_body(
        payload,
        id_=alleged["id"],
        status="matched",
        trade_id=trade["id"],
        version=2,
        updated_at="2026-11-25T15:05:00Z",
    )
    assert await trade_status(api, trade["id"]) == ("confirmed", 2)
    history = await get_json(api, f"/trades/{trade['id']}/history", role="compliance")
    assert [(h["action"], h["actor_role"]) for h in history] == [
        ("captured", "trader"),
        ("confirmation_matched", "trader"),
    ]


async def test_alleged_with_a_reference_waits_for_that_trade(api: Api, reference: None) -> None:
    payload = confirmation_payload(trade_reference="FO-20261124-ALLEGED")
    alleged = await confirm(api, payload)
    assert (alleged["status"], alleged["trade_id"]) == ("alleged", None)

    unrelated = await api.post("/trades", json=trade_payload(), role="trader")
    assert unrelated.json()["status"] == "captured"
    assert (await get_json(api, f"/confirmations/{alleged['id']}"))["status"] == "alleged"

    named = await api.post(
        "/trades", json=trade_payload(external_id="FO-20261124-ALLEGED"), role="trader"
    )
    assert named.json()["status"] == "confirmed"
    after = await get_json(api, f"/confirmations/{alleged['id']}")
    assert (after["status"], after["trade_id"], after["version"]) == (
        "matched",
        named.json()["id"],
        2,
    )
    assert unrelated.json()["status"] == "captured"


async def test_alleged_then_a_differing_trade_is_booked_is_unmatched(
    api: Api, reference: None
) -> None:
    payload = confirmation_payload(trade_reference="FO-20261124-ALLEGED", quantity="90")
    alleged = await confirm(api, payload)
    created = await api.post(
        "/trades", json=trade_payload(external_id="FO-20261124-ALLEGED"), role="trader"
    )
    assert created.json()["status"] == "mismatched"
    after = await get_json(api, f"/confirmations/{alleged['id']}")
    assert (after["status"], after["trade_id"]) == ("unmatched", created.json()["id"])
    assert after["reasons"] == [reason("DQUA", "quantity", "100", "90")]


async def test_alleged_then_the_trade_is_booked_in_a_batch_confirms_it(
    api: Api, reference: None
) -> None:
    payload = confirmation_payload()
    alleged = await confirm(api, payload)
    batch = await api.post(
        "/trades/batch",
        json={"items": [trade_payload(side="sell"), trade_payload()]},
        role="trader",
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "created"]
    sold, bought = results[0]["id"], results[1]["id"]

    after = await get_json(api, f"/confirmations/{alleged['id']}")
    assert (after["status"], after["trade_id"], after["version"]) == ("matched", bought, 2)
    assert await trade_status(api, bought) == ("confirmed", 2)
    assert await trade_status(api, sold) == ("captured", 1)
    assert await history_actions(api, bought) == ["captured", "confirmation_matched"]


# Corrections, supersession, conflicts --------------------------------------------------------


async def test_a_corrected_confirmation_matches_and_bumps_the_version(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    booked = await book_trade()
    wrong = confirmation_payload(trade_reference=booked["external_id"], quantity="90")
    first = await confirm(api, wrong)
    assert first["status"] == "unmatched"
    assert await trade_status(api, booked["id"]) == ("mismatched", 2)

    clock.advance(minutes=30)
    fixed = {**wrong, "quantity": "100"}
    second = await confirm(api, fixed)

    assert second == confirmation_body(
        fixed,
        id_=first["id"],
        status="matched",
        trade_id=booked["id"],
        version=2,
        updated_at="2026-11-25T15:30:00Z",
    )
    assert await trade_status(api, booked["id"]) == ("confirmed", 3)
    listed = await get_json(api, "/confirmations")
    assert [c["id"] for c in listed["items"]] == [first["id"]]


async def test_a_correction_can_break_a_match(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"])
    first = await confirm(api, payload)
    assert first["status"] == "matched"
    second = await confirm(api, {**payload, "price": "189.30"})
    assert (second["id"], second["status"], second["version"]) == (first["id"], "unmatched", 2)
    assert second["reasons"] == [reason("DDEA", "price", "189.25", "189.30")]
    assert await trade_status(api, booked["id"]) == ("mismatched", 3)


async def test_the_same_confirmation_id_from_another_counterparty_is_another_confirmation(
    api: Api, book_trade: BookTrade
) -> None:
    goldman = await book_trade()
    deutsche = await book_trade(counterparty_lei=DEUTSCHE)
    first = await confirm(api, confirmation_payload(confirmation_id="CP-1"))
    second = await confirm(
        api, confirmation_payload(confirmation_id="CP-1", counterparty_lei=DEUTSCHE)
    )
    assert first["id"] != second["id"]
    assert (first["trade_id"], second["trade_id"]) == (goldman["id"], deutsche["id"])
    assert first["status"] == second["status"] == "matched"


async def test_an_amended_trade_matching_its_confirmation_becomes_confirmed(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    # Goldman's 90: 90 x 189.25 = 17032.50; + 1.52 = 17034.02.
    payload = confirmation_payload(
        trade_reference=booked["external_id"], quantity="90", net_amount="17034.02"
    )
    unmatched = await confirm(api, payload)
    assert unmatched["reasons"] == [
        reason("DQUA", "quantity", "100", "90"),
        reason("DMON", "net_amount", "18926.52", "17034.02"),
    ]

    amended = await amend(api, booked["id"], {"quantity": "90"}, version=2)

    # Amended (v3, captured), then matched again in the same request (v4, confirmed).
    assert (amended["status"], amended["version"], amended["net_amount"]) == (
        "confirmed",
        4,
        "17034.02",
    )
    after = await get_json(api, f"/confirmations/{unmatched['id']}")
    assert after == confirmation_body(
        payload, id_=unmatched["id"], status="matched", trade_id=booked["id"], version=2
    )
    assert await history_actions(api, booked["id"]) == [
        "captured",
        "confirmation_unmatched",
        "amended",
        "confirmation_matched",
    ]


async def test_a_confirmed_trade_amended_away_is_mismatched(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"])
    matched = await confirm(api, payload)
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)

    amended = await amend(api, booked["id"], {"price": "189.30"}, version=2)

    # 100 x 189.30 = 18930.00; + 1.52 = 18931.52.
    assert (amended["status"], amended["version"]) == ("mismatched", 4)
    after = await get_json(api, f"/confirmations/{matched['id']}")
    assert after == confirmation_body(
        payload,
        id_=matched["id"],
        status="unmatched",
        trade_id=booked["id"],
        version=2,
        reasons=[
            reason("DDEA", "price", "189.30", "189.25"),
            reason("DMON", "net_amount", "18931.52", "18926.52"),
        ],
    )


async def test_an_amended_trade_may_match_an_alleged_confirmation(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    # Goldman says the trade was on Monday 23rd: no trade of ours that day, so it is alleged.
    payload = confirmation_payload(trade_date="2026-11-23", settlement_date="2026-11-24")
    alleged = await confirm(api, payload)
    assert (alleged["status"], alleged["trade_id"]) == ("alleged", None)

    amended = await amend(
        api, booked["id"], {"trade_date": "2026-11-23", "trade_time": "2026-11-23T15:00:00Z"}, 1
    )

    assert (amended["status"], amended["version"], amended["settlement_date"]) == (
        "confirmed",
        3,
        "2026-11-24",
    )
    after = await get_json(api, f"/confirmations/{alleged['id']}")
    assert after == confirmation_body(
        payload, id_=alleged["id"], status="matched", trade_id=booked["id"], version=2
    )


async def test_a_second_confirmation_for_a_confirmed_trade_is_409_naming_the_first(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade()
    first = await confirm(
        api, confirmation_payload(confirmation_id="CP-FIRST", trade_reference=booked["external_id"])
    )
    assert first["status"] == "matched"
    records = await audit_count(db)

    response = await send_confirmation(
        api,
        confirmation_payload(
            confirmation_id="CP-SECOND", trade_reference=booked["external_id"], quantity="90"
        ),
    )

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == TYPE_BASE + "conflict"
    assert problem["detail"] == (
        f"Trade {booked['id']} is already confirmed by CP-FIRST ({first['id']})."
    )
    assert problem["confirmation_id"] == first["id"]
    listed = await get_json(api, "/confirmations")
    assert listed["items"] == [first]
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)
    assert await audit_count(db) == records


async def test_a_newer_confirmation_supersedes_an_unmatched_one(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    booked = await book_trade()
    old_payload = confirmation_payload(
        confirmation_id="CP-OLD", trade_reference=booked["external_id"], quantity="90"
    )
    old = await confirm(api, old_payload)
    assert old["status"] == "unmatched"

    clock.advance(minutes=10)
    new = await confirm(
        api, confirmation_payload(confirmation_id="CP-NEW", trade_reference=booked["external_id"])
    )

    assert (new["status"], new["trade_id"]) == ("matched", booked["id"])
    assert await get_json(api, f"/confirmations/{old['id']}") == confirmation_body(
        old_payload,
        id_=old["id"],
        status="superseded",
        trade_id=booked["id"],
        reasons=old["reasons"],
        version=2,
        updated_at="2026-11-25T15:10:00Z",
    )
    assert await trade_status(api, booked["id"]) == ("confirmed", 3)

    again = await send_confirmation(api, {**old_payload, "quantity": "100"})
    assert again.status_code == 409
    assert again.json()["detail"] == "Confirmation CP-OLD was superseded by a newer one."


async def test_confirming_a_cleared_trade_is_409_and_writes_nothing(
    api: Api, book_trade: BookTrade, advance_trade: AdvanceTrade, db: Database
) -> None:
    booked = await book_trade()
    await advance_trade(booked["id"], TradeEvent.CONFIRMATION_MATCHED, TradeEvent.CLEARED)
    records = await audit_count(db)

    response = await send_confirmation(
        api, confirmation_payload(trade_reference=booked["external_id"])
    )

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == TYPE_BASE + "invalid-transition"
    assert (problem["current_status"], problem["event"]) == ("cleared", "confirmation_matched")
    assert (await get_json(api, "/confirmations"))["items"] == []
    assert await trade_status(api, booked["id"]) == ("cleared", 3)
    assert await audit_count(db) == records


async def test_cancelled_trades_are_never_matched(api: Api, book_trade: BookTrade) -> None:
    booked = await book_trade()
    cancelled = await api.post(
        f"/trades/{booked['id']}/cancel", json={"reason": "Booked in error"}, role="trader"
    )
    assert cancelled.status_code == 200

    by_reference = await confirm(api, confirmation_payload(trade_reference=booked["external_id"]))
    by_economics = await confirm(api, confirmation_payload())

    for body in (by_reference, by_economics):
        assert (body["status"], body["trade_id"], body["candidates"]) == ("alleged", None, [])
    assert await trade_status(api, booked["id"]) == ("cancelled", 2)
    # The replacement trade is the one the alleged confirmations are about.
    replacement = await api.post(
        "/trades", json=trade_payload(external_id=booked["external_id"] + "-R"), role="trader"
    )
    assert replacement.json()["status"] == "confirmed"


# Idempotency ---------------------------------------------------------------------------------


async def test_the_same_idempotency_key_replays_the_first_answer(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"])
    headers = {"Idempotency-Key": "cnf-key-1"}
    first = await send_confirmation(api, payload, headers=headers)
    records = await audit_count(db)
    replay = await send_confirmation(api, payload, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert replay.headers["location"] == first.headers["location"]
    assert await audit_count(db) == records
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)


async def test_the_same_idempotency_key_with_another_body_is_422_and_writes_nothing(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade()
    headers = {"Idempotency-Key": "cnf-key-2"}
    first = await send_confirmation(
        api, confirmation_payload(trade_reference=booked["external_id"]), headers=headers
    )
    assert first.status_code == 201
    records = await audit_count(db)
    other = await send_confirmation(api, confirmation_payload(quantity="90"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == TYPE_BASE + "idempotency-key-reused"
    assert await audit_count(db) == records
    assert len((await get_json(api, "/confirmations"))["items"]) == 1


async def test_a_resent_confirmation_without_a_key_changes_nothing(
    api: Api, book_trade: BookTrade, db: Database, clock: FrozenClock
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"])
    first = await confirm(api, payload)
    records = await audit_count(db)
    clock.advance(minutes=1)
    # The same terms written differently are still the same terms.
    again = await confirm(api, {**payload, "quantity": 100, "price": "189.2500"})
    assert again == first
    assert await audit_count(db) == records
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)


# Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"counterparty_lei": "G5GSEF7VJP5I7OUK5574"}, "counterparty_lei"),  # bad check digits
        ({"counterparty_lei": BARCLAYS}, "counterparty_lei"),  # valid, but not a counterparty
        ({"quantity": 100.0}, "quantity"),
        ({"quantity": "ten"}, "quantity"),
        ({"price": 189.25}, "price"),
        ({"net_amount": "1.0000000000001"}, "net_amount"),
        ({"status": "matched"}, "status"),
        ({"trade_id": "trd_x"}, "trade_id"),
        ({"side": "short"}, "side"),
        ({"isin": "US46625H1006"}, "isin"),
        ({"currency": "XYZ"}, "currency"),
        ({"trade_date": "2026-11-31"}, "trade_date"),
        ({"settlement_date": "tomorrow"}, "settlement_date"),
        ({"confirmation_id": ""}, "confirmation_id"),
        ({"confirmation_id": "x" * 65}, "confirmation_id"),
        ({"trade_reference": "has space"}, "trade_reference"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api: Api, book_trade: BookTrade, db: Database, changes: dict[str, Any], field: str
) -> None:
    booked = await book_trade()
    records = await audit_count(db)
    response = await send_confirmation(
        api, confirmation_payload(**{"trade_reference": booked["external_id"], **changes})
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == TYPE_BASE + "validation-error"
    assert field in problem_fields(response)
    assert await audit_count(db) == records
    assert await trade_status(api, booked["id"]) == ("captured", 1)


@pytest.mark.parametrize(
    "missing",
    ["confirmation_id", "counterparty_lei", "isin", "side", "quantity", "price", "net_amount"],
)
async def test_a_missing_field_is_422_naming_it(api: Api, reference: None, missing: str) -> None:
    payload = confirmation_payload()
    del payload[missing]
    response = await send_confirmation(api, payload)
    assert response.status_code == 422
    assert problem_fields(response) == {missing}


async def test_an_unknown_counterparty_is_named_in_the_problem(api: Api, reference: None) -> None:
    response = await send_confirmation(api, confirmation_payload(counterparty_lei=BARCLAYS))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "counterparty_lei", "message": f"counterparty '{BARCLAYS}' is not known"}
    ]


# Roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["gateway", "operations"])
async def test_gateway_and_operations_may_send_confirmations(
    api: Api, book_trade: BookTrade, role: str
) -> None:
    booked = await book_trade()
    body = await confirm(api, confirmation_payload(), role=role)
    assert (body["status"], body["trade_id"]) == ("matched", booked["id"])


@pytest.mark.parametrize("role", ["trader", "compliance", "admin"])
async def test_other_roles_may_not_send_confirmations(
    api: Api, book_trade: BookTrade, db: Database, role: str
) -> None:
    booked = await book_trade()
    records = await audit_count(db)
    response = await send_confirmation(api, confirmation_payload(), role=role)
    assert response.status_code == 403
    assert response.json()["type"] == TYPE_BASE + "forbidden"
    assert await audit_count(db) == records
    assert await trade_status(api, booked["id"]) == ("captured", 1)


async def test_sending_without_a_key_is_401(api: Api, reference: None) -> None:
    response = await api.post("/confirmations", json=confirmation_payload())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == TYPE_BASE + "unauthenticated"


def _read_paths(confirmation_id: str) -> list[str]:
    return [
        "/confirmations",
        f"/confirmations/{confirmation_id}",
        "/confirmations/exceptions",
        "/reports/unaffirmed",
    ]


@pytest.mark.parametrize("role", ["trader", "gateway", "operations", "compliance"])
async def test_reads_are_allowed_to_business_roles(
    api: Api, book_trade: BookTrade, role: str
) -> None:
    await book_trade()
    sent = await confirm(api, confirmation_payload(quantity="90", net_amount="17034.02"))
    for path in _read_paths(sent["id"]):
        response = await api.get(path, role=role)
        assert response.status_code == 200, (path, response.text)


async def test_reads_are_refused_to_admin_and_without_a_key(
    api: Api, book_trade: BookTrade
) -> None:
    await book_trade()
    sent = await confirm(api, confirmation_payload())
    for path in _read_paths(sent["id"]):
        assert (await api.get(path, role="admin")).status_code == 403, path
        assert (await api.get(path)).status_code == 401, path


# Queries -------------------------------------------------------------------------------------


async def test_exceptions_list_unmatched_and_alleged_with_their_age(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    goldman = await book_trade()
    matched_trade = await book_trade(quantity="50")
    deutsche = await book_trade(
        isin=TOTAL, counterparty_lei=DEUTSCHE, currency="EUR", venue="XPAR", price="61.37"
    )
    unmatched = await confirm(
        api, confirmation_payload(trade_reference=goldman["external_id"], quantity="90")
    )  # 15:00
    clock.advance(minutes=30)
    alleged = await confirm(api, confirmation_payload(trade_reference="FO-UNKNOWN"))  # 15:30
    clock.advance(minutes=15)
    matched = await confirm(
        api,
        confirmation_payload(
            trade_reference=matched_trade["external_id"], quantity="50", net_amount="9464.02"
        ),
    )  # 15:45
    assert matched["status"] == "matched"
    clock.advance(minutes=15)
    deutsche_unmatched = await confirm(
        api,
        confirmation_payload(
            counterparty_lei=DEUTSCHE,
            trade_reference=deutsche["external_id"],
            isin=TOTAL,
            price="61.40",
            currency="EUR",
            settlement_date="2026-11-26",
            net_amount="6141.52",
        ),
    )  # 16:00
    assert deutsche_unmatched["status"] == "unmatched"
    clock.advance(hours=1)  # 17:00

    everything = await get_json(api, "/confirmations/exceptions")
    assert everything["next_cursor"] is None
    by_id = {item["id"]: item for item in everything["items"]}
    assert set(by_id) == {unmatched["id"], alleged["id"], deutsche_unmatched["id"]}
    assert by_id[unmatched["id"]] == {**unmatched, "age_seconds": 7200}
    assert by_id[alleged["id"]] == {**alleged, "age_seconds": 5400}
    assert by_id[deutsche_unmatched["id"]] == {**deutsche_unmatched, "age_seconds": 3600}

    goldman_only = await get_json(api, f"/confirmations/exceptions?counterparty_lei={GOLDMAN}")
    assert {item["id"] for item in goldman_only["items"]} == {unmatched["id"], alleged["id"]}
    refused = await api.get("/confirmations/exceptions?counterparty_lei=nonsense", role="trader")
    assert refused.status_code == 422
    assert "counterparty_lei" in problem_fields(refused)


async def test_a_corrected_exception_keeps_its_age_and_leaves_when_matched(
    api: Api, book_trade: BookTrade, clock: FrozenClock
) -> None:
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"], quantity="90")
    first = await confirm(api, payload)
    clock.advance(minutes=20)
    second = await confirm(api, {**payload, "quantity": "95"})
    clock.advance(minutes=20)
    items = (await get_json(api, "/confirmations/exceptions"))["items"]
    assert [(i["id"], i["version"], i["age_seconds"]) for i in items] == [(first["id"], 2, 2400)]
    assert second["reasons"] == [reason("DQUA", "quantity", "100", "95")]
    await confirm(api, {**payload, "quantity": "100"})
    assert (await get_json(api, "/confirmations/exceptions"))["items"] == []


async def test_get_of_an_unknown_confirmation_is_404(api: Api, reference: None) -> None:
    response = await api.get("/confirmations/cnf_nothing", role="operations")
    assert response.status_code == 404
    assert response.json()["detail"] == "No confirmation 'cnf_nothing'."
    assert response.json()["type"] == TYPE_BASE + "not-found"


async def test_list_filters(api: Api, book_trade: BookTrade) -> None:
    first = await book_trade()
    second = await book_trade(quantity="50")
    deutsche = await book_trade(counterparty_lei=DEUTSCHE)
    matched = await confirm(api, confirmation_payload(trade_reference=first["external_id"]))
    unmatched = await confirm(
        api, confirmation_payload(trade_reference=second["external_id"], quantity="60")
    )
    alleged = await confirm(api, confirmation_payload(trade_reference="FO-UNKNOWN"))
    other = await confirm(
        api,
        confirmation_payload(counterparty_lei=DEUTSCHE, trade_reference=deutsche["external_id"]),
    )

    async def ids(query: str) -> set[str]:
        page = await get_json(api, f"/confirmations{query}")
        return {item["id"] for item in page["items"]}

    assert await ids("") == {matched["id"], unmatched["id"], alleged["id"], other["id"]}
    assert await ids("?status=matched") == {matched["id"], other["id"]}
    assert await ids("?status=unmatched") == {unmatched["id"]}
    assert await ids("?status=alleged") == {alleged["id"]}
    assert await ids("?status=superseded") == set()
    assert await ids(f"?counterparty_lei={DEUTSCHE}") == {other["id"]}
    assert await ids(f"?trade_id={second['id']}") == {unmatched["id"]}
    assert await ids(f"?status=matched&counterparty_lei={GOLDMAN}") == {matched["id"]}

    page_one = await get_json(api, "/confirmations?limit=3")
    assert len(page_one["items"]) == 3
    assert page_one["next_cursor"] is not None
    page_two = await get_json(api, f"/confirmations?limit=3&cursor={page_one['next_cursor']}")
    assert page_two["next_cursor"] is None
    seen = [item["id"] for item in page_one["items"] + page_two["items"]]
    assert sorted(seen) == seen
    assert set(seen) == await ids("")


@pytest.mark.parametrize(
    "query", ["?status=pending", "?counterparty_lei=XYZ", "?limit=0", "?limit=1001"]
)
async def test_list_refuses_bad_filters(api: Api, reference: None, query: str) -> None:
    response = await api.get(f"/confirmations{query}", role="operations")
    assert response.status_code == 422, response.text


async def test_confirmation_is_audited_with_its_outcome(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade()
    sent = await send_confirmation(
        api,
        confirmation_payload(trade_reference=booked["external_id"]),
        headers={"X-Request-ID": "req-cnf-1"},
    )
    body = sent.json()
    async with db.sessionmaker() as session:
        records = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.request_id == "req-cnf-1")
                .order_by(AuditRecord.id)
            )
        ).all()
    assert [(r.entity_type, r.entity_id, r.action, r.actor_role) for r in records] == [
        ("confirmation", body["id"], "received", "gateway"),
        ("trade", booked["id"], "confirmation_matched", "gateway"),
    ]
    assert records[0].before is None
    assert records[0].after is not None
    assert records[0].after["status"] == "matched"
