"""The relay against a real HTTP receiver on 127.0.0.1: signed deliveries, retries with growing
delays, pause and resume, redelivery, two relays at once, and a receiver that hangs."""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from app.core.config import Settings
from app.events.backoff import Backoff
from app.events.relay import Relay
from app.main import create_app
from tests.conftest import Database
from tests.events.conftest import (
    FAST,
    HEAD,
    Subscription,
    change,
    emit,
    eventually,
    running,
)
from tests.events.receiver import Receipt, Receiver, Slow, receiving, verify_standard_webhook
from tests.support import Api, FrozenClock, seal

Subscribe = Callable[..., Any]
MakeRelay = Callable[..., Relay]


def failing(times: int, *, status: int = 500) -> Callable[[Receiver, str], int]:
    """A receiver that answers ``status`` to its first ``times`` requests, then 200."""
    return lambda receiver, _path: status if len(receiver.receipts) < times else 200


async def deliveries(
    api: Api, sub: Subscription, status: str | None = None
) -> list[dict[str, Any]]:
    query = f"?status={status}" if status else ""
    response = await api.get(f"/webhooks/{sub.id}/deliveries{query}", role="compliance")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def subscription(api: Api, sub: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get(f"/webhooks/{sub.id}", role="admin")).json()
    return body


def seqs_by_entity(receipts: list[Receipt]) -> dict[str, list[int]]:
    order: dict[str, list[int]] = {}
    for receipt in receipts:
        data = receipt.payload["data"]
        order.setdefault(data["entity_id"], []).append(data["seq"])
    return order


async def test_a_delivery_is_signed_per_standard_webhooks(
    db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    async with receiving() as receiver:
        sub = await subscribe(receiver.url(), ["trade.*"])
        await emit(db, change("T1", "captured"), change("S1", "settled", entity_type="instruction"))
        relay = relay_for()
        async with relay.client() as client:
            assert await relay.deliver_due(client) == 1
            assert await relay.deliver_due(client) == 0
    [receipt] = receiver.receipts
    assert verify_standard_webhook(sub.secret, receipt)
    assert receipt.webhook_id == f"evt_{HEAD + 2:026d}"  # HEAD + 1: the subscription
    assert abs(int(receipt.headers["webhook-timestamp"]) - time.time()) < 5
    assert receipt.headers["webhook-signature"].startswith("v1,")
    assert receipt.headers["content-type"] == "application/json"
    body = receipt.payload
    assert body == {
        "type": "trade.captured",
        "timestamp": body["timestamp"],
        "data": {
            "event_id": f"evt_{HEAD + 2:026d}",
            "seq": HEAD + 2,
            "entity_type": "trade",
            "entity_id": "T1",
            "before": None,
            "after": {"id": "T1", "n": 1},
        },
    }
    assert body["timestamp"].endswith("Z")  # when the change happened, in UTC
    # The verifier is not a rubber stamp: another secret, or a byte changed, fails.
    tampered = Receipt(receipt.path, receipt.headers, receipt.body + b" ", 0, 200)
    assert not verify_standard_webhook(sub.secret, tampered)
    assert not verify_standard_webhook("whsec_" + "A" * 44, receipt)


async def test_a_receiver_that_is_not_there_is_a_failed_attempt(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    async with receiving() as gone:
        url = gone.url()  # its port is closed when the block ends
    sub = await subscribe(url)
    await emit(db, change("T1", "captured"))
    relay = relay_for()
    async with relay.client() as client:
        assert await relay.deliver_due(client) == 1
    [delivery] = await deliveries(api, sub)
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("ConnectError")
    assert delivery["status"] == "pending"
    assert delivery["next_attempt_at"] == attempt["next_attempt_at"]


async def test_a_failing_receiver_is_retried_with_growing_delays(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    backoff = Backoff(0.1, FAST.retry_cap)
    async with receiving(failing(4)) as receiver:
        sub = await subscribe(receiver.url())
        await emit(db, change("T1", "captured"))
        # No jitter (always the whole window), so each wait is known exactly.
        async with running(relay_for(retry_base=0.1, jitter=lambda: 1.0)):
            await eventually(lambda: _all_delivered(api, sub))
    [delivery] = await deliveries(api, sub)
    log = delivery["attempts"]
    assert [(a["number"], a["status_code"], a["error"]) for a in log] == [
        (1, 500, "the receiver answered HTTP 500"),
        (2, 500, "the receiver answered HTTP 500"),
        (3, 500, "the receiver answered HTTP 500"),
        (4, 500, "the receiver answered HTTP 500"),
        (5, 200, None),
    ]
    assert (log[4]["next_attempt_at"], delivery["status"]) == (None, "delivered")
    waits = [_wait(attempt) for attempt in log[:4]]
    assert [backoff.window(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.8]
    assert waits == [0.1, 0.2, 0.4, 0.8]
    # Each attempt came no sooner than due, and not much later (a busy machine's disk can hold
    # a commit back a few hundred milliseconds): by the relay's clock and by the receiver's.
    tried = [_at(attempt) for attempt in log]
    received = [r.received_at for r in receiver.receipts]
    for (earlier, later), (seen, seen_next), wait in zip(
        pairwise(tried), pairwise(received), waits, strict=True
    ):
        assert wait <= (later - earlier).total_seconds() < wait + 0.6, (tried, waits)
        assert seen_next - seen < wait + 0.6, (received, waits)


async def test_full_jitter_keeps_each_wait_in_its_window(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    backoff = Backoff(FAST.retry_base, FAST.retry_cap)
    async with receiving(failing(5)) as receiver:
        sub = await subscribe(receiver.url())
        await emit(db, change("T1", "captured"))
        async with running(relay_for(jitter=_seeded(14))):
            await eventually(lambda: _all_delivered(api, sub))
    [delivery] = await deliveries(api, sub)
    log = delivery["attempts"]
    received = [r.received_at for r in receiver.receipts]
    assert received == sorted(received)
    assert len(log) == len(received) == 6
    waits = [_wait(attempt) for attempt in log[:5]]
    for number, (wait, attempt, following) in enumerate(
        zip(waits, log, log[1:], strict=False), start=1
    ):
        assert 0 <= wait <= backoff.window(number)
        assert (_at(following) - _at(attempt)).total_seconds() >= wait  # never before due
    assert len(set(waits)) == 5  # jittered: no two alike


async def test_a_recovered_receiver_gets_everything_once_in_order_per_entity(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    async with receiving(failing(6)) as receiver:
        sub = await subscribe(receiver.url(), ["trade.*"])
        async with running(relay_for()):
            for round_ in range(1, 5):
                await emit(db, *(change(f"T{e}", "amended", n=round_) for e in (1, 2, 3)))
            await eventually(lambda: _delivered(receiver, 12))
            await asyncio.sleep(0.2)  # nothing more comes
    delivered = receiver.delivered("/hook")
    assert len(receiver.receipts) == 18  # six failures, then each event once
    assert Counter(r.webhook_id for r in delivered) == {
        f"evt_{seq:026d}": 1 for seq in range(HEAD + 2, HEAD + 14)
    }
    assert seqs_by_entity(delivered) == {
        "T1": [HEAD + n for n in (2, 5, 8, 11)],
        "T2": [HEAD + n for n in (3, 6, 9, 12)],
        "T3": [HEAD + n for n in (4, 7, 10, 13)],
    }
    assert all(verify_standard_webhook(sub.secret, r) for r in receiver.receipts)
    assert await deliveries(api, sub, "pending") == []
    assert (await subscription(api, sub))["consecutive_failures"] == 0


async def test_paused_after_repeated_failures_then_resumed_and_delivered(
    api: Api, db: Database, clock: FrozenClock, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    # Waits of 0, 0, then 40 s: only the resume makes the third retry come at once.
    relay = relay_for(pause_after=3, retry_base=10.0, retry_cap=100.0, jitter=_script(0, 0, 1))
    status = {"now": 503}
    async with receiving(lambda _r, _p: status["now"]) as receiver:
        sub = await subscribe(receiver.url())
        await emit(db, change("T1", "captured"))
        async with running(relay):
            await eventually(lambda: _status_is(api, sub, "paused"))
            await emit(db, change("T1", "amended", n=2))  # queued while paused
            await asyncio.sleep(0.2)
            assert len(receiver.receipts) == 3
            paused = await subscription(api, sub)
            assert paused["paused_reason"] == (
                "paused after 3 failed attempts in a row; last: the receiver answered HTTP 503"
            )
            assert paused["consecutive_failures"] == 3
            pending = await deliveries(api, sub, "pending")
            assert [d["event_type"] for d in pending] == ["trade.captured", "trade.amended"]
            status["now"] = 204
            clock.set(datetime.now(UTC))
            resumed = await api.post(f"/webhooks/{sub.id}/resume", role="admin")
            assert resumed.json()["status"] == "active"
            await eventually(lambda: _delivered(receiver, 2), within=3)
    assert [r.payload["type"] for r in receiver.delivered("/hook")] == [
        "trade.captured",
        "trade.amended",
    ]
    await seal(db.sessionmaker)
    history = await api.get(f"/audit/entities/webhook_subscription/{sub.id}", role="compliance")
    moves = [(r["action"], r["actor"]["key_id"]) for r in history.json()["items"]]
    assert moves[1] == ("paused", "system")
    assert [action for action, _ in moves] == ["created", "paused", "resumed"]


async def test_redeliver_sends_the_event_again_with_the_same_webhook_id(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    async with receiving() as receiver:
        sub = await subscribe(receiver.url())
        await emit(db, change("T1", "captured"))
        relay = relay_for()
        async with relay.client() as client:
            await relay.deliver_due(client)
            [first] = await deliveries(api, sub)
            path = f"/webhooks/{sub.id}/deliveries/{first['id']}/redeliver"
            assert (await api.post(path, role="admin")).status_code == 201
            assert await relay.deliver_due(client) == 1
    original, again = receiver.receipts
    assert again.webhook_id == original.webhook_id == f"evt_{HEAD + 2:026d}"
    assert again.body == original.body
    assert verify_standard_webhook(sub.secret, again)
    assert [(d["generation"], d["status"]) for d in await deliveries(api, sub)] == [
        (0, "delivered"),
        (1, "delivered"),
    ]


async def test_two_relays_at_once_deliver_each_event_exactly_once(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    slow = lambda _r, _p: Slow(0.01)  # noqa: E731 (replies overlap across the relays)
    async with receiving(slow) as receiver:
        one = await subscribe(receiver.url("/one"))
        two = await subscribe(receiver.url("/two"), ["trade.amended"])
        # A lease of 20 s: a lease that lapses mid-delivery lets the other relay deliver again
        # (at least once, by design), and a 2-core CI host under full load has held a commit
        # back for seconds.
        async with running(relay_for(timeout=10.0), relay_for(timeout=10.0)):
            for round_ in range(1, 9):
                await emit(db, *(change(f"T{e}", "amended", n=round_) for e in range(1, 6)))
            await eventually(lambda: _delivered(receiver, 80, within_path=None), within=30)
            await asyncio.sleep(0.3)  # nothing more comes
    # HEAD + 1 and 2: the subscriptions
    expected = {f"evt_{seq:026d}": 1 for seq in range(HEAD + 3, HEAD + 43)}
    for path, sub in (("/one", one), ("/two", two)):
        receipts = receiver.at(path)
        assert Counter(r.webhook_id for r in receipts) == expected
        assert all(seqs == sorted(seqs) for seqs in seqs_by_entity(receipts).values())
        logged = await _all_deliveries(api, sub)
        assert [len(d["attempts"]) for d in logged] == [1] * 40


async def test_a_hanging_receiver_does_not_delay_another_subscription(
    api: Api, db: Database, subscribe: Subscribe, relay_for: MakeRelay
) -> None:
    answer = lambda _r, path: Slow(5.0) if path == "/hangs" else 200  # noqa: E731
    async with receiving(answer) as receiver:
        hangs = await subscribe(receiver.url("/hangs"))
        await subscribe(receiver.url("/fast"))
        await emit(db, change("T1", "captured"), change("T2", "captured"))
        started = time.monotonic()
        async with running(relay_for(timeout=2.0)):
            await eventually(lambda: _delivered(receiver, 2, within_path="/fast"))
            await emit(db, change("T3", "captured"))
            await eventually(lambda: _delivered(receiver, 3, within_path="/fast"))
            fast_done = time.monotonic() - started
            hanging_attempts_then = await _attempts(api, hangs)
            await eventually(lambda: _attempted(api, hangs, 3), within=8)
    # The other subscription got all three while the first attempts still hung (2 s each).
    assert fast_done < 1.8
    assert hanging_attempts_then == 0
    assert len(receiver.at("/hangs")) >= 2
    for delivery in await deliveries(api, hangs):
        [attempt] = delivery["attempts"]
        assert (attempt["status_code"], attempt["error"]) == (None, "no answer within 2 s")
        assert 1950 <= attempt["duration_ms"] < 3000


# Helpers -------------------------------------------------------------------------------------


def _at(attempt: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(attempt["attempted_at"])


def _wait(attempt: dict[str, Any]) -> float:
    """How long the relay scheduled the next attempt after this one, in seconds."""
    scheduled = datetime.fromisoformat(attempt["next_attempt_at"])
    return (scheduled - datetime.fromisoformat(attempt["attempted_at"])).total_seconds()


def _seeded(seed: int) -> Callable[[], float]:
    return random.Random(seed).random


def _script(*fractions: float) -> Callable[[], float]:
    values: Iterator[float] = iter(fractions)
    return lambda: next(values)


async def _delivered(receiver: Receiver, count: int, *, within_path: str | None = "/hook") -> bool:
    receipts = receiver.receipts if within_path is None else receiver.at(within_path)
    return sum(200 <= r.answered < 300 for r in receipts) >= count


async def _status_is(api: Api, sub: Subscription, status: str) -> bool:
    return bool((await subscription(api, sub))["status"] == status)


async def _attempts(api: Api, sub: Subscription) -> int:
    return sum(len(d["attempts"]) for d in await deliveries(api, sub))


async def _attempted(api: Api, sub: Subscription, count: int) -> bool:
    return await _attempts(api, sub) >= count


async def _all_delivered(api: Api, sub: Subscription) -> bool:
    logged = await deliveries(api, sub)
    return bool(logged) and all(d["status"] == "delivered" for d in logged)


async def _all_deliveries(api: Api, sub: Subscription) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = await api.get(f"/webhooks/{sub.id}/deliveries?limit=100{cursor}", role="admin")
        body = response.json()
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        cursor = f"&cursor={body['next_cursor']}"


async def test_a_server_seals_and_delivers_in_the_background(
    db: Database, subscribe: Subscribe
) -> None:
    settings = Settings(
        database_url=db.url,
        log_level="WARNING",
        background_workers=True,
        audit_seal_interval_seconds=0.01,
        webhook_poll_interval_seconds=0.01,
    )
    server = create_app(settings)
    async with receiving() as receiver:
        sub = await subscribe(receiver.url())
        async with server.router.lifespan_context(server):
            await emit(db, change("T1", "captured"), sealed=False)  # the server's sealer seals
            await eventually(lambda: _delivered(receiver, 1))
    [receipt] = receiver.receipts
    assert receipt.payload["type"] == "trade.captured"
    assert verify_standard_webhook(sub.secret, receipt)
