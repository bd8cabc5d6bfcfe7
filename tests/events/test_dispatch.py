"""The relay's steps against the database alone: fan-out, claims and leases, attempts."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.events.backoff import Backoff
from app.events.webhooks.dispatch import (
    Claimed,
    Outcome,
    RetryPolicy,
    claim_due,
    fan_out,
    record_attempt,
)
from app.events.webhooks.models import RelayCursor, WebhookDelivery
from tests.conftest import Database
from tests.events.conftest import HEAD, change, emit
from tests.support import Api

LEASE = timedelta(seconds=10)
POLICY = RetryPolicy(Backoff(1.0, 60.0), pause_after=10, jitter=lambda: 1.0)


async def subscribe(api: Api, *types: str) -> str:
    body = {"url": "http://127.0.0.1:9/hook", "event_types": list(types)}
    response = await api.post("/webhooks", json=body, role="admin")
    assert response.status_code == 201, response.text
    subscription_id: str = response.json()["id"]
    return subscription_id


async def run_fan_out(db: Database, *, batch: int = 500) -> int | None:
    async with db.sessionmaker() as session, session.begin():
        return await fan_out(session, now=datetime.now(UTC), batch=batch)


async def queued(db: Database) -> list[tuple[str, int, str, int]]:
    async with db.sessionmaker() as session:
        statement = select(
            WebhookDelivery.subscription_id,
            WebhookDelivery.seq,
            WebhookDelivery.event_type,
            WebhookDelivery.generation,
        ).order_by(WebhookDelivery.subscription_id, WebhookDelivery.seq)
        return [tuple(row) for row in (await session.execute(statement)).all()]  # type: ignore[misc]


async def cursor(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(RelayCursor.last_seq)) or 0)


async def claim(db: Database, *, now: datetime | None = None, limit: int = 10) -> list[Claimed]:
    async with db.sessionmaker() as session, session.begin():
        return await claim_due(session, now=now or datetime.now(UTC), limit=limit, lease=LEASE)


def outcome(status: int | None, *, error: str | None = None) -> Outcome:
    return Outcome(datetime.now(UTC), 3, status, error)


async def test_fan_out_queues_matching_types_for_active_and_paused_only(
    api: Api, db: Database
) -> None:
    trades = await subscribe(api, "trade.*")
    amended = await subscribe(api, "trade.amended", "book.*")
    paused = await subscribe(api, "trade.captured")
    gone = await subscribe(api, "*")
    assert (await api.post(f"/webhooks/{paused}/pause", role="admin")).status_code == 200
    assert (await api.delete(f"/webhooks/{gone}", role="admin")).status_code == 204
    await emit(  # HEAD + 1 to 6: the subscriptions' own records; then ours
        db,
        change("T1", "captured"),
        change("T1", "amended", n=2),
        change("B1", "captured", entity_type="book"),
    )
    assert await run_fan_out(db) == 14  # from the start: the baseline's five too
    assert await cursor(db) == HEAD + 9
    assert sorted(await queued(db)) == sorted(
        [
            (trades, HEAD + 7, "trade.captured", 0),
            (trades, HEAD + 8, "trade.amended", 0),
            (amended, HEAD + 8, "trade.amended", 0),
            (amended, HEAD + 9, "book.captured", 0),
            (paused, HEAD + 7, "trade.captured", 0),
        ]
    )


async def test_a_repeated_fan_out_adds_nothing(api: Api, db: Database) -> None:
    assert await run_fan_out(db) == 0  # nobody subscribed: past the baseline at once
    await subscribe(api, "trade.*")
    await emit(db, *(change(f"T{n}", "captured") for n in range(5)))
    assert await run_fan_out(db, batch=2) == 2  # HEAD + 1 (the subscription) and HEAD + 2
    assert await cursor(db) == HEAD + 2
    assert await run_fan_out(db, batch=2) == 2
    assert await run_fan_out(db, batch=2) == 2
    assert await run_fan_out(db, batch=2) == 0
    first = await queued(db)
    async with db.sessionmaker() as session, session.begin():  # as if a crash lost the cursor
        await session.execute(update(RelayCursor).values(last_seq=0))
    await run_fan_out(db)
    assert await queued(db) == first
    assert [seq for _, seq, _, _ in first] == [HEAD + n for n in range(2, 7)]


async def test_without_subscriptions_the_cursor_moves_to_the_head(db: Database) -> None:
    await emit(db, change("T1", "captured"), change("T2", "captured"))
    assert await run_fan_out(db) == 0
    assert (await cursor(db), await queued(db)) == (HEAD + 2, [])


async def test_only_the_earliest_pending_delivery_of_an_entity_is_claimed(
    api: Api, db: Database
) -> None:
    sub = await subscribe(api, "trade.*")
    await emit(
        db,
        change("T1", "captured"),
        change("T2", "captured"),
        change("T1", "amended", n=2),
    )
    await run_fan_out(db)
    first = await claim(db)
    assert [(c.event.entity_id, c.event.seq, c.subscription_id) for c in first] == [
        ("T1", HEAD + 2, sub),
        ("T2", HEAD + 3, sub),
    ]
    assert await claim(db) == []  # leased, and T1's next waits for its first
    async with db.sessionmaker() as session, session.begin():
        await record_attempt(session, claimed=first[0], outcome=outcome(200), policy=POLICY)
    [following] = await claim(db)
    assert (following.event.entity_id, following.event.seq) == ("T1", HEAD + 4)
    assert following.event.before == {"id": "T1", "n": 1}


async def test_a_lease_that_ran_out_lets_another_relay_send_it_again(
    api: Api, db: Database
) -> None:
    await subscribe(api, "trade.*")
    await emit(db, change("T1", "captured"))
    await run_fan_out(db)
    [mine] = await claim(db)
    assert await claim(db, now=datetime.now(UTC) + LEASE / 2) == []
    [theirs] = await claim(db, now=datetime.now(UTC) + LEASE * 1.1)  # this relay died
    assert theirs.delivery_id == mine.delivery_id
    assert theirs.lease_owner != mine.lease_owner
    # The first relay comes back late: its attempt is logged, the delivery stays the other's.
    async with db.sessionmaker() as session, session.begin():
        await record_attempt(session, claimed=mine, outcome=outcome(200), policy=POLICY)
        delivery = await session.get(WebhookDelivery, mine.delivery_id)
        assert delivery is not None
        assert (delivery.status, delivery.attempts, delivery.lease_owner) == (
            "pending",
            1,
            theirs.lease_owner,
        )
    async with db.sessionmaker() as session, session.begin():
        await record_attempt(session, claimed=theirs, outcome=outcome(200), policy=POLICY)
        delivery = await session.get(WebhookDelivery, mine.delivery_id)
        assert delivery is not None
        assert (delivery.status, delivery.attempts, delivery.lease_owner) == ("delivered", 2, None)


async def test_a_failed_attempt_schedules_the_next_and_counts_the_failure(
    api: Api, db: Database
) -> None:
    sub = await subscribe(api, "trade.*")
    await emit(db, change("T1", "captured"))
    await run_fan_out(db)
    [claimed] = await claim(db)
    failed = outcome(None, error="ConnectError: refused")
    async with db.sessionmaker() as session, session.begin():
        await record_attempt(session, claimed=claimed, outcome=failed, policy=POLICY)
    logged = (await api.get(f"/webhooks/{sub}/deliveries", role="admin")).json()["items"][0]
    assert logged["last_error"] == "ConnectError: refused"
    assert logged["next_attempt_at"] == logged["attempts"][0]["next_attempt_at"]
    waited = datetime.fromisoformat(logged["next_attempt_at"]) - failed.attempted_at
    assert waited == timedelta(seconds=1)
    assert (await api.get(f"/webhooks/{sub}", role="admin")).json()["consecutive_failures"] == 1
    assert await claim(db) == []  # not due yet
    assert len(await claim(db, now=failed.attempted_at + timedelta(seconds=1))) == 1


@pytest.mark.postgres_only
async def test_two_relays_claim_and_fan_out_apart_on_postgres(api: Api, db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("SQLite's write lock lets one relay work at a time")
    await subscribe(api, "trade.*")
    await emit(db, *(change(f"T{n}", "captured") for n in range(6)))
    now = datetime.now(UTC)
    async with db.sessionmaker() as first, first.begin():
        assert await fan_out(first, now=now, batch=500) == 12  # the baseline, ours
        async with db.sessionmaker() as second, second.begin():
            assert await fan_out(second, now=now, batch=500) is None  # the cursor is taken
    async with db.sessionmaker() as first, first.begin():
        mine = await claim_due(first, now=now, limit=4, lease=LEASE)
        async with db.sessionmaker() as second, second.begin():
            theirs = await claim_due(second, now=now, limit=4, lease=LEASE)
    assert (len(mine), len(theirs)) == (4, 2)
    assert not {c.delivery_id for c in mine} & {c.delivery_id for c in theirs}


async def test_readiness_counts_what_the_relay_still_has_to_do(api: Api, db: Database) -> None:
    await run_fan_out(db)  # past the baseline
    kept = await subscribe(api, "trade.*")
    gone = await subscribe(api, "trade.*")
    await emit(db, change("T1", "captured"), change("T2", "captured"))
    assert (await api.get("/readyz")).json()["webhooks"] == {
        "events_not_fanned_out": 4,
        "pending_deliveries": 0,
    }
    await run_fan_out(db)
    assert (await api.delete(f"/webhooks/{gone}", role="admin")).status_code == 204
    assert (await api.get("/readyz")).json()["webhooks"] == {
        "events_not_fanned_out": 0,  # the deletion is not sealed yet
        "pending_deliveries": 2,  # the kept one's: the deleted one's never go
    }
    assert sorted(sub for sub, *_ in await queued(db)) == sorted([kept, kept, gone, gone])
