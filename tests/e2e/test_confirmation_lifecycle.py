"""A trade's confirmation over HTTP, end to end: booked by the trader, contradicted by the
counterparty's confirmation, amended by the trader, matched again, and every step on record with
who did it and under which request id."""

from typing import Any

from sqlalchemy import select

from app.audit.models import AuditRecord
from tests.conftest import Database
from tests.factories import trade_payload
from tests.support import Api, FrozenClock, seal
from tests.trades.confirmations.factories import (
    confirmation_body,
    confirmation_payload,
    get_json,
    key_id,
    reason,
)


async def test_mismatch_amend_and_rematch_with_a_full_history(
    api: Api, reference: None, clock: FrozenClock, db: Database
) -> None:
    trader, gateway = await key_id(api, "trader"), await key_id(api, "gateway")

    # 15:00 - the trader books: we buy 100 JPM at 189.25 from Goldman, net 18926.52.
    booked = await api.post(
        "/trades",
        json=trade_payload(external_id="FO-E2E-1"),
        role="trader",
        headers={"X-Request-ID": "e2e-book"},
    )
    assert booked.status_code == 201, booked.text
    trade = booked.json()
    trade_id = trade["id"]
    assert (trade["status"], trade["version"], trade["net_amount"]) == ("captured", 1, "18926.52")

    # 15:10 - Goldman confirms 90 (90 x 189.25 + 1.52 = 17034.02): a mismatch, explained.
    clock.advance(minutes=10)
    payload = confirmation_payload(
        confirmation_id="GS-E2E-1",
        trade_reference="FO-E2E-1",
        quantity="90",
        net_amount="17034.02",
    )
    sent = await api.post(
        "/confirmations", json=payload, role="gateway", headers={"X-Request-ID": "e2e-confirm"}
    )
    assert sent.status_code == 201, sent.text
    confirmation = sent.json()
    cnf_id = confirmation["id"]
    mismatch = [
        reason("DQUA", "quantity", "100", "90"),
        reason("DMON", "net_amount", "18926.52", "17034.02"),
    ]
    assert confirmation == confirmation_body(
        payload,
        id_=cnf_id,
        status="unmatched",
        trade_id=trade_id,
        reasons=mismatch,
        received_at="2026-11-25T15:10:00Z",
    )
    mismatched = await get_json(api, f"/trades/{trade_id}", role="trader")
    assert (mismatched["status"], mismatched["version"]) == ("mismatched", 2)

    # 15:15 - operations see it in the exception queue, and the trade past its cutoff
    # (21:00 New York on the 24th = 2026-11-25T02:00Z: 13 h 15 min ago).
    clock.advance(minutes=5)
    exceptions = await get_json(api, "/confirmations/exceptions")
    assert exceptions == {"items": [{**confirmation, "age_seconds": 300}], "next_cursor": None}
    unaffirmed = await get_json(api, "/reports/unaffirmed")
    assert [(u["trade_id"], u["status"], u["overdue_by_seconds"]) for u in unaffirmed] == [
        (trade_id, "mismatched", 47700)
    ]

    # 15:20 - the trader agrees with Goldman and amends to 90: the trade matches again at once.
    clock.advance(minutes=5)
    amended = await api.patch(
        f"/trades/{trade_id}",
        json={"quantity": "90"},
        headers={"If-Match": '"2"', "X-Request-ID": "e2e-amend"},
        role="trader",
    )
    assert amended.status_code == 200, amended.text
    assert amended.json() == {
        **trade,
        "quantity": "90",
        "gross_amount": "17032.50",
        "net_amount": "17034.02",
        "status": "confirmed",
        "version": 4,
        "updated_at": "2026-11-25T15:20:00Z",
    }
    assert amended.headers["etag"] == '"4"'
    assert await get_json(api, f"/trades/{trade_id}", role="trader") == amended.json()
    assert await get_json(api, f"/confirmations/{cnf_id}") == confirmation_body(
        payload,
        id_=cnf_id,
        status="matched",
        trade_id=trade_id,
        version=2,
        received_at="2026-11-25T15:10:00Z",
        updated_at="2026-11-25T15:20:00Z",
    )
    assert (await get_json(api, "/confirmations/exceptions"))["items"] == []
    assert await get_json(api, "/reports/unaffirmed") == []

    # Goldman re-sends the same confirmation: nothing moves.
    resent = await api.post("/confirmations", json=payload, role="gateway")
    assert resent.status_code == 201
    assert resent.json()["version"] == 2

    # The trade's history: every step, its actor and its request.
    await seal(db.sessionmaker)
    history = await get_json(api, f"/trades/{trade_id}/history", role="compliance")
    assert [
        (
            h["action"],
            h["actor_role"],
            h["actor_key_id"],
            h["request_id"],
            h["occurred_at"],
            h["after"]["status"],
            h["after"]["version"],
        )
        for h in history
    ] == [
        ("captured", "trader", trader, "e2e-book", "2026-11-25T15:00:00Z", "captured", 1),
        (
            "confirmation_unmatched",
            "gateway",
            gateway,
            "e2e-confirm",
            "2026-11-25T15:10:00Z",
            "mismatched",
            2,
        ),
        ("amended", "trader", trader, "e2e-amend", "2026-11-25T15:20:00Z", "captured", 3),
        (
            "confirmation_matched",
            "trader",
            trader,
            "e2e-amend",
            "2026-11-25T15:20:00Z",
            "confirmed",
            4,
        ),
    ]
    assert history[0]["before"] is None
    assert (history[2]["before"]["quantity"], history[2]["after"]["quantity"]) == ("100", "90")
    seqs = [h["seq"] for h in history]
    assert seqs == sorted(seqs)

    # The confirmation's own trail, and the events it publishes, in order.
    async with db.sessionmaker() as session:
        records = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.entity_id.in_([trade_id, cnf_id]))
                .order_by(AuditRecord.id)
            )
        ).all()
    trail: list[tuple[Any, ...]] = [
        (r.entity_type, r.action, r.actor_key_id, r.request_id) for r in records
    ]
    assert trail == [
        ("trade", "captured", trader, "e2e-book"),
        ("confirmation", "received", gateway, "e2e-confirm"),
        ("trade", "confirmation_unmatched", gateway, "e2e-confirm"),
        ("trade", "amended", trader, "e2e-amend"),
        ("confirmation", "matched", trader, "e2e-amend"),
        ("trade", "confirmation_matched", trader, "e2e-amend"),
    ]
    assert [r.event_type for r in records] == [
        "trade.captured",
        "confirmation.unmatched",
        "trade.confirmation_unmatched",
        "trade.amended",
        "confirmation.matched",
        "trade.confirmation_matched",
    ]
    matched_record = records[4]
    assert matched_record.before is not None
    assert matched_record.after is not None
    assert (matched_record.before["status"], matched_record.after["status"]) == (
        "unmatched",
        "matched",
    )
    assert matched_record.after["reasons"] == []
