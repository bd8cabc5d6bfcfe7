"""GET /events: sealed events in seal order after a seq, filtered by type; compliance and admin
read it; unsealed records are not in it yet."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from app.audit.models import AuditRecord, UnsealedRecord
from app.audit.service import record_change, write_queued_changes
from app.core.auth import SYSTEM_ACTOR
from tests.conftest import Database
from tests.events.conftest import change, emit
from tests.support import Api, problem_fields, seal

# The baseline's events are the test keys' api_key.created, at seq 18 to 22: the records of the
# rows migrations seeded (seq 1 to 17) are no events.
BASELINE = 22
KEYS = 5


async def feed(api: Api, query: str = "", *, role: str = "compliance") -> dict[str, Any]:
    response = await api.get(f"/events?after={BASELINE}{query}", role=role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def outline(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(item["seq"], item["event_type"], item["entity_id"]) for item in body["items"]]


async def test_each_item_is_the_change_with_a_stable_id(api: Api, db: Database) -> None:
    await emit(db, change("T1", "captured"), change("T1", "amended", n=2))
    body = await feed(api)
    [created, amended] = body["items"]
    assert created == {
        "seq": BASELINE + 1,
        "event_id": f"evt_{BASELINE + 1:026d}",
        "event_type": "trade.captured",
        "occurred_at": created["occurred_at"],
        "entity_type": "trade",
        "entity_id": "T1",
        "data": {"before": None, "after": {"id": "T1", "n": 1}},
    }
    assert datetime.fromisoformat(created["occurred_at"]).tzinfo is not None
    assert (amended["event_id"], amended["data"]) == (
        f"evt_{BASELINE + 2:026d}",
        {"before": {"id": "T1", "n": 1}, "after": {"id": "T1", "n": 2}},
    )
    assert body["next_after"] == BASELINE + 2


async def test_the_feed_starts_with_the_baselines_events(api: Api) -> None:
    response = await api.get("/events", role="admin")
    assert response.status_code == 200
    body = response.json()
    assert [i["event_type"] for i in body["items"]] == ["api_key.created"] * KEYS
    assert [i["seq"] for i in body["items"]] == [18, 19, 20, 21, 22]
    assert body["next_after"] == BASELINE


async def test_after_and_limit_walk_the_feed_without_gaps(api: Api, db: Database) -> None:
    await emit(db, *(change(f"T{n}", "captured") for n in range(1, 6)))
    first = await feed(api, "&limit=2")
    assert outline(first) == [
        (BASELINE + 1, "trade.captured", "T1"),
        (BASELINE + 2, "trade.captured", "T2"),
    ]
    response = await api.get(f"/events?after={first['next_after']}&limit=2", role="compliance")
    second = response.json()
    assert outline(second) == [
        (BASELINE + 3, "trade.captured", "T3"),
        (BASELINE + 4, "trade.captured", "T4"),
    ]
    response = await api.get(f"/events?after={second['next_after']}", role="compliance")
    assert outline(response.json()) == [(BASELINE + 5, "trade.captured", "T5")]
    # Past the end: nothing yet, and the same place to ask from again.
    response = await api.get(f"/events?after={BASELINE + 5}", role="compliance")
    assert response.json() == {"items": [], "next_after": BASELINE + 5}


async def test_unsealed_records_are_not_in_the_feed_until_sealed(api: Api, db: Database) -> None:
    await emit(db, change("T1", "captured"), sealed=False)
    assert await feed(api) == {"items": [], "next_after": BASELINE}
    await seal(db.sessionmaker)
    assert outline(await feed(api)) == [(BASELINE + 1, "trade.captured", "T1")]


async def _late_commit_on_postgres(db: Database) -> None:
    """T-late takes its record id first and commits after T-early's record is sealed."""
    async with db.sessionmaker() as late, late.begin():
        await record_change(
            late,
            actor=SYSTEM_ACTOR,
            entity_type="trade",
            entity_id="T-late",
            action="captured",
            before=None,
            after={"id": "T-late"},
            now=datetime.now(UTC),
        )
        await write_queued_changes(late)  # the record has its id now, uncommitted
        await emit(db, change("T-early", "captured"))
    await seal(db.sessionmaker)


async def _late_commit_on_sqlite(db: Database) -> None:
    """SQLite has one writer at a time: the late record is written with a lower id instead."""
    await emit(db, change("T-early", "captured"))
    async with db.sessionmaker() as session, session.begin():
        early = await session.scalar(
            select(AuditRecord.id).where(AuditRecord.entity_id == "T-early")
        )
        assert early is not None
        row = {
            "id": early - 1000,
            "occurred_at": datetime.now(UTC),
            "actor_key_id": "system",
            "actor_role": "admin",
            "actor_name": "system",
            "entity_type": "trade",
            "entity_id": "T-late",
            "action": "captured",
            "after": {"id": "T-late"},
            "event_type": "trade.captured",
        }
        await session.execute(insert(AuditRecord), [row])
        await session.execute(
            insert(UnsealedRecord), [{"record_id": early - 1000, "queued_at": datetime.now(UTC)}]
        )
    await seal(db.sessionmaker)


async def test_the_feed_is_in_seal_order_not_record_id_order(api: Api, db: Database) -> None:
    if db.backend == "postgres":
        await _late_commit_on_postgres(db)
    else:
        await _late_commit_on_sqlite(db)
    async with db.sessionmaker() as session:
        rows = (await session.execute(select(AuditRecord.entity_id, AuditRecord.id))).all()
    ids = dict(rows)
    assert ids["T-late"] < ids["T-early"]
    assert outline(await feed(api)) == [
        (BASELINE + 1, "trade.captured", "T-early"),
        (BASELINE + 2, "trade.captured", "T-late"),
    ]


async def test_types_select_exact_types_and_prefixes(api: Api, db: Database) -> None:
    await emit(
        db,
        change("T1", "captured"),
        change("S1", "settled", entity_type="settlement_instruction"),
        change("T1", "amended", n=2),
        change("B1", "captured", entity_type="trade_book"),  # "trade_" is not "trade."
        change("S1", "cancelled", entity_type="settlement_instruction", n=2),
    )
    assert outline(await feed(api, "&types=trade.amended")) == [
        (BASELINE + 3, "trade.amended", "T1")
    ]
    assert outline(await feed(api, "&types=trade.*")) == [
        (BASELINE + 1, "trade.captured", "T1"),
        (BASELINE + 3, "trade.amended", "T1"),
    ]
    both = await feed(api, "&types=trade.amended,%20settlement_instruction.*")
    assert outline(both) == [
        (BASELINE + 2, "settlement_instruction.settled", "S1"),
        (BASELINE + 3, "trade.amended", "T1"),
        (BASELINE + 5, "settlement_instruction.cancelled", "S1"),
    ]
    assert [i["seq"] for i in (await feed(api, "&types=*"))["items"]] == [
        BASELINE + n for n in range(1, 6)
    ]
    assert await feed(api, "&types=position.moved") == {"items": [], "next_after": BASELINE}


async def test_a_wildcard_matches_underscores_literally(api: Api, db: Database) -> None:
    await emit(db, change("X", "captured", entity_type="tradexbook"), change("Y", "captured"))
    assert outline(await feed(api, "&types=trade_book.*")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=-1", "after"),
        ("after=abc", "after"),
        (f"after={2**63}", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("types=", "types"),
        ("types=Trade.amended", "types"),
        ("types=trade.", "types"),
        ("types=trade.**", "types"),
        ("types=*.amended", "types"),
        ("types=trade.amended,,trade.captured", "types"),
        ("types=trade amended", "types"),
        ("types=" + ",".join(["trade.x"] * 51), "types"),
        ("types=" + "a" * 81, "types"),
    ],
)
async def test_bad_parameters_are_422(api: Api, query: str, field: str) -> None:
    response = await api.get(f"/events?{query}", role="compliance")
    assert response.status_code == 422, response.text
    assert field in {f.split(".")[-1] for f in problem_fields(response)}


@pytest.mark.parametrize("role", ["trader", "gateway", "operations"])
async def test_other_roles_are_403(api: Api, role: str) -> None:
    response = await api.get("/events", role=role)
    assert response.status_code == 403


async def test_no_key_is_401(api: Api) -> None:
    assert (await api.get("/events")).status_code == 401


async def test_readers_see_the_same_feed(api: Api, db: Database) -> None:
    await emit(db, change("T1", "captured"))
    assert await feed(api, role="admin") == await feed(api, role="compliance")
