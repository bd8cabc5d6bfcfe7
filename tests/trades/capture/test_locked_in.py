"""Trades on a locked-in venue are confirmed at capture: the CCP confirms them, no counterparty.

In the demo data Xetra is locked in (Eurex Clearing); NYSE, Euronext Paris and the off-venue
market are bilateral. Our Xetra trade: we buy 100 SAP at 212.35 EUR from Deutsche Bank, traded
Tue 24 Nov, settling Thu 26 Nov (T+2 on TARGET).
"""

from typing import Any

import httpx
from sqlalchemy import select

from app.audit.models import AuditRecord
from tests.clearing.support import EUREX, SAP, clear, trade
from tests.conftest import Database
from tests.factories import DEUTSCHE, trade_payload
from tests.support import Api, seal
from tests.trades.confirmations.factories import confirm, confirmation_payload
from tests.trades.conftest import BookTrade

CAPTURED_AT = "2026-11-25T15:00:00Z"  # the frozen clock


def xetra_payload(**overrides: Any) -> dict[str, Any]:
    return trade_payload(
        **{
            "isin": SAP,
            "counterparty_lei": DEUTSCHE,
            "currency": "EUR",
            "venue": "XETR",
            "price": "212.35",
            **overrides,
        }
    )


async def history(api: Api, trade_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/trades/{trade_id}/history", role="compliance")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def events_of(db: Database, trade_id: str) -> list[tuple[str, str | None]]:
    """The trade's audit records as (action, event type), in the order they were written."""
    async with db.sessionmaker() as session:
        statement = (
            select(AuditRecord.action, AuditRecord.event_type)
            .where(AuditRecord.entity_type == "trade", AuditRecord.entity_id == trade_id)
            .order_by(AuditRecord.id)
        )
        return [(row.action, row.event_type) for row in (await session.execute(statement)).all()]


async def post_batch(api: Api, items: list[dict[str, Any]]) -> httpx.Response:
    return await api.post("/trades/batch", json={"items": items}, role="trader")


async def lock_in(api: Api, mic: str) -> None:
    market = await api.get(f"/markets/{mic}", role="operations")
    response = await api.patch(
        f"/markets/{mic}",
        json={"locked_in": True},
        headers={"If-Match": market.headers["etag"]},
        role="operations",
    )
    assert response.status_code == 200, response.text


# Single capture ------------------------------------------------------------------------------


async def test_a_trade_on_a_locked_in_venue_is_confirmed_at_capture(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade(**xetra_payload())

    assert (booked["status"], booked["version"]) == ("confirmed", 2)
    assert (await trade(api, booked["id"]))["status"] == "confirmed"
    captured, confirmed = await history(api, booked["id"])
    assert (captured["action"], captured["before"]) == ("captured", None)
    assert (captured["after"]["status"], captured["after"]["version"]) == ("captured", 1)
    assert confirmed["action"] == "confirmed_locked_in"
    assert confirmed["before"] == captured["after"]
    assert confirmed["after"] == {**captured["after"], "status": "confirmed", "version": 2}
    assert (confirmed["occurred_at"], confirmed["actor_role"]) == (CAPTURED_AT, "trader")
    assert await events_of(db, booked["id"]) == [
        ("captured", "trade.captured"),
        ("confirmed_locked_in", "trade.confirmed_locked_in"),
    ]


async def test_a_trade_on_a_bilateral_venue_is_still_captured(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade()  # JPM on NYSE: bilateral

    assert (booked["status"], booked["version"]) == ("captured", 1)
    assert [entry["action"] for entry in await history(api, booked["id"])] == ["captured"]
    assert await events_of(db, booked["id"]) == [("captured", "trade.captured")]


async def test_locking_a_venue_in_confirms_the_trades_booked_on_it_from_then_on(
    api: Api, book_trade: BookTrade
) -> None:
    before = await book_trade()
    await lock_in(api, "XNYS")

    after = await book_trade()

    assert (after["status"], after["version"]) == ("confirmed", 2)
    assert (await trade(api, before["id"]))["status"] == "captured"  # not moved retroactively


async def test_the_audit_trail_of_a_locked_in_trade_seals_in_order(
    api: Api, book_trade: BookTrade, db: Database
) -> None:
    booked = await book_trade(**xetra_payload())
    await seal(db.sessionmaker)

    entries = await history(api, booked["id"])

    assert [entry["action"] for entry in entries] == ["captured", "confirmed_locked_in"]
    seqs = [entry["seq"] for entry in entries]
    assert None not in seqs
    assert seqs == sorted(seqs)


# Batch capture -------------------------------------------------------------------------------


async def test_a_batch_confirms_its_locked_in_trades_and_leaves_the_others_captured(
    api: Api, reference: None, db: Database
) -> None:
    items = [
        xetra_payload(external_id="FO-LOCKED-1"),
        trade_payload(external_id="FO-BILATERAL-1"),
        xetra_payload(external_id="FO-LOCKED-2", quantity="250"),
    ]

    response = await post_batch(api, items)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created"] * 3
    locked_1, bilateral, locked_2 = [await trade(api, r["id"]) for r in results]
    assert [(t["status"], t["version"]) for t in (locked_1, bilateral, locked_2)] == [
        ("confirmed", 2),
        ("captured", 1),
        ("confirmed", 2),
    ]
    for locked in (locked_1, locked_2):
        assert await events_of(db, locked["id"]) == [
            ("captured", "trade.captured"),
            ("confirmed_locked_in", "trade.confirmed_locked_in"),
        ]
        captured, confirmed = await history(api, locked["id"])
        assert confirmed["after"] == {**captured["after"], "status": "confirmed", "version": 2}
    assert await events_of(db, bilateral["id"]) == [("captured", "trade.captured")]


# What follows --------------------------------------------------------------------------------


async def test_a_locked_in_trade_is_cleared_without_a_bilateral_confirmation(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade(**xetra_payload())

    run = await clear(api, "2026-11-26")

    assert run["status"] == "completed", run
    cleared = await trade(api, booked["id"])
    # Novated to Eurex Clearing and netted; the run instructs what it cleared.
    assert (cleared["status"], cleared["counterparty_of_record"]) == ("instructed", EUREX)
    assert cleared["obligation_id"] is not None


async def test_an_amended_locked_in_trade_is_confirmed_again_at_once(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade(**xetra_payload())

    response = await api.patch(
        f"/trades/{booked['id']}",
        json={"quantity": "150"},
        headers={"If-Match": "2"},
        role="trader",
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["version"]) == ("confirmed", 4)
    actions = [entry["action"] for entry in await history(api, booked["id"])]
    assert actions == ["captured", "confirmed_locked_in", "amended", "confirmed_locked_in"]


async def test_a_trade_amended_onto_a_bilateral_venue_waits_for_its_counterparty(
    api: Api, book_trade: BookTrade
) -> None:
    await lock_in(api, "XNYS")
    booked = await book_trade()
    await api.patch(
        "/markets/XNYS",
        json={"locked_in": False},
        headers={"If-Match": '"2"'},
        role="operations",
    )

    response = await api.patch(
        f"/trades/{booked['id']}",
        json={"quantity": "150"},
        headers={"If-Match": "2"},
        role="trader",
    )

    assert (response.json()["status"], response.json()["version"]) == ("captured", 3)


async def test_an_alleged_confirmation_is_not_matched_to_a_locked_in_trade(
    api: Api, book_trade: BookTrade
) -> None:
    payload = xetra_payload()
    alleged = await confirm(
        api,
        confirmation_payload(
            counterparty_lei=DEUTSCHE,
            trade_reference=payload["external_id"],
            isin=SAP,
            price="212.35",
            currency="EUR",
            settlement_date="2026-11-26",
            net_amount="21236.52",
        ),
    )

    booked = await book_trade(**payload)

    assert (booked["status"], booked["version"]) == ("confirmed", 2)
    still = await api.get(f"/confirmations/{alleged['id']}", role="operations")
    assert (still.json()["status"], still.json()["trade_id"]) == ("alleged", None)


async def test_a_locked_in_trade_is_not_on_the_unaffirmed_report(
    api: Api, book_trade: BookTrade
) -> None:
    await book_trade(**xetra_payload())

    response = await api.get("/reports/unaffirmed", params={"venue": "XETR"}, role="operations")

    assert response.status_code == 200
    assert response.json() == []
