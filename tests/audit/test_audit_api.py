"""GET /audit/events and GET /audit/entities/{type}/{id}: compliance reads the trail by every
filter and combination, page by page in chain order; other roles are refused, bad values 422."""

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytest

from tests.conftest import Database
from tests.factories import BUND, trade_payload
from tests.positions.conftest import line
from tests.support import Api, FrozenClock, SecondKey, problem_fields, seal

# Recorded by the system before ours: the rows seeded by migrations (17: penalty rates at
# 2026-11-25T00:00Z, reconciliation rules at 2026-12-05T00:00Z, buy-in extension periods at
# their created_at), the test keys and the demo reference data (78).
SEEDED_RECORDS = 17
BASELINE_RECORDS = SEEDED_RECORDS + 78


@dataclass(frozen=True)
class History:
    trade_id: str
    adjustment_id: str
    trader: dict[str, str]
    operations: dict[str, str]
    second_desk: dict[str, str]


def actor(key_id: str, role: str, name: str) -> dict[str, str]:
    return {"key_id": key_id, "role": role, "name": name}


@pytest.fixture
async def history(
    api: Api, db: Database, reference: None, ops2: SecondKey, clock: FrozenClock
) -> History:
    """A trade captured then amended by the trader, an adjustment proposed by operations and
    approved by a second desk, ten minutes apart from 15:00 UTC, each with its request id."""
    captured = await api.post(
        "/trades", json=trade_payload(), role="trader", headers={"X-Request-ID": "req-capture"}
    )
    assert captured.status_code == 201, captured.text
    trade_id = captured.json()["id"]
    clock.advance(minutes=10)
    amended = await api.patch(
        f"/trades/{trade_id}",
        json={"quantity": "150"},
        role="trader",
        headers={"If-Match": "1", "X-Request-ID": "req-amend"},
    )
    assert amended.status_code == 200, amended.text
    clock.advance(minutes=10)
    body = {"kind": "opening", "reason": "Opening", "lines": [line("SEC-EB", BUND, "5000000")]}
    proposed = await api.post(
        "/adjustments", json=body, role="operations", headers={"X-Request-ID": "req-propose"}
    )
    assert proposed.status_code == 201, proposed.text
    adjustment_id = proposed.json()["id"]
    clock.advance(minutes=10)
    approved = await api.post(
        f"/adjustments/{adjustment_id}/approve",
        headers={**ops2.headers, "X-Request-ID": "req-approve"},
    )
    assert approved.status_code == 200, approved.text
    keys = {k["name"]: k["id"] for k in (await api.get("/api-keys", role="admin")).json()["items"]}
    await seal(db.sessionmaker)
    return History(
        trade_id=trade_id,
        adjustment_id=adjustment_id,
        trader=actor(keys["test trader"], "trader", "test trader"),
        operations=actor(keys["test operations"], "operations", "test operations"),
        second_desk=actor(ops2.id, "operations", "Second operations desk"),
    )


def outline(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (i["seq"], i["occurred_at"], i["entity_type"], i["entity_id"], i["action"], i["actor"])
        for i in items
    ]


def expected(history: History) -> dict[str, tuple[Any, ...]]:
    """Our four records by request id, as ``outline`` shows them."""
    first = BASELINE_RECORDS + 1  # the second desk's key, issued by the admin
    trade, adjustment = history.trade_id, history.adjustment_id
    return {
        "req-capture": (
            first + 1, "2026-11-25T15:00:00Z", "trade", trade, "captured", history.trader
        ),
        "req-amend": (first + 2, "2026-11-25T15:10:00Z", "trade", trade, "amended", history.trader),
        "req-propose": (
            first + 3, "2026-11-25T15:20:00Z", "adjustment", adjustment, "proposed",
            history.operations,
        ),
        "req-approve": (
            first + 4, "2026-11-25T15:30:00Z", "adjustment", adjustment, "approved",
            history.second_desk,
        ),
    }  # fmt: skip


async def events(api: Api, query: str = "", role: str = "compliance") -> list[dict[str, Any]]:
    response = await api.get(f"/audit/events?{query}", role=role)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def walk(api: Api, path: str) -> list[dict[str, Any]]:
    """Every item of ``path``, one per page, following the cursors."""
    items: list[dict[str, Any]] = []
    separator = "&" if "?" in path else "?"
    url = f"{path}{separator}limit=1"
    while True:
        response = await api.get(url, role="compliance")
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) == 1
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        url = f"{path}{separator}limit=1&cursor={page['next_cursor']}"


# GET /audit/events ----------------------------------------------------------------------------


async def test_events_lists_every_record_in_chain_order_linked_by_hash(
    api: Api, history: History
) -> None:
    items = await events(api, "limit=1000")
    ours = expected(history)

    assert [i["seq"] for i in items] == list(range(1, BASELINE_RECORDS + 5 + 1))
    assert outline(items[-4:]) == list(ours.values())
    assert [i["request_id"] for i in items[-4:]] == list(ours)
    for earlier, later in pairwise(items):
        assert later["prev_hash"] == earlier["hash"]
    assert items[0]["prev_hash"] == "0" * 64
    assert set(items[-1]) == {
        "seq", "occurred_at", "entity_type", "entity_id", "action", "actor", "request_id",
        "before", "after", "event_type", "hash", "prev_hash", "sealed_at",
    }  # fmt: skip
    assert items[-1]["event_type"] == "adjustment.approved"


async def test_a_record_is_listed_once_sealed_never_before(
    api: Api, db: Database, history: History
) -> None:
    amended = await api.patch(
        f"/trades/{history.trade_id}",
        json={"quantity": "175"},
        role="trader",
        headers={"If-Match": '"2"', "X-Request-ID": "req-late"},
    )
    assert amended.status_code == 200, amended.text
    assert await events(api, "request_id=req-late") == []
    await seal(db.sessionmaker)
    [late] = await events(api, "request_id=req-late")
    assert (late["seq"], late["action"]) == (BASELINE_RECORDS + 6, "amended")


async def test_each_record_carries_the_before_and_after_the_trade_history_shows(
    api: Api, history: History
) -> None:
    trade_history = (await api.get(f"/trades/{history.trade_id}/history", role="trader")).json()
    items = await events(api, f"entity_type=trade&entity_id={history.trade_id}")

    assert [(i["before"], i["after"]) for i in items] == [
        (h["before"], h["after"]) for h in trade_history
    ]
    assert items[0]["before"] is None
    assert (items[1]["before"]["quantity"], items[1]["after"]["quantity"]) == ("100", "150")


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("entity_type=trade", ["req-capture", "req-amend"]),
        ("entity_type=adjustment", ["req-propose", "req-approve"]),
        ("role=trader", ["req-capture", "req-amend"]),
        ("role=operations", ["req-propose", "req-approve"]),
        ("action=amended", ["req-amend"]),
        ("request_id=req-propose", ["req-propose"]),
        ("request_id=req-none", []),
        (
            "from=2026-11-25T15:10:00Z&to=2026-12-01T00:00:00Z",
            ["req-amend", "req-propose", "req-approve"],
        ),
        ("from=2026-11-25T14:00:00Z&to=2026-11-25T15:00:00Z", []),
        # From inclusive, to exclusive; offsets are read as such (15:30Z is 16:30+01:00).
        (
            "from=2026-11-25T16:10:00%2B01:00&to=2026-11-25T16:30:00%2B01:00",
            ["req-amend", "req-propose"],
        ),
        ("entity_type=trade&from=2026-11-25T15:05:00Z", ["req-amend"]),
        ("role=operations&action=approved", ["req-approve"]),
        ("entity_type=trade&action=approved", []),
    ],
)  # fmt: skip
async def test_events_filter_and_the_filters_combine(
    api: Api, history: History, query: str, wanted: list[str]
) -> None:
    ours = expected(history)
    items = await events(api, f"{query}&limit=1000")
    assert outline(items) == [ours[request_id] for request_id in wanted]


async def test_events_filter_by_actor_and_entity_id(api: Api, history: History) -> None:
    ours = expected(history)
    by_trader = await events(api, f"actor={history.trader['key_id']}")
    by_second_desk = await events(api, f"actor={history.second_desk['key_id']}")
    of_adjustment = await events(api, f"entity_id={history.adjustment_id}")
    system = await events(api, "actor=system&limit=1000")

    assert outline(by_trader) == [ours["req-capture"], ours["req-amend"]]
    assert outline(by_second_desk) == [ours["req-approve"]]
    assert outline(of_adjustment) == [ours["req-propose"], ours["req-approve"]]
    assert [i["seq"] for i in system] == list(range(1, BASELINE_RECORDS + 1))


async def test_events_pages_one_record_at_a_time_through_the_cursor(
    api: Api, history: History
) -> None:
    ours = expected(history)
    walked = await walk(api, "/audit/events?from=2026-11-25T15:00:00Z&role=operations")
    everything = await walk(api, "/audit/events?from=2026-11-25T15:00:00Z&to=2026-12-01T00:00:00Z")

    assert outline(walked) == [ours["req-propose"], ours["req-approve"]]
    assert [i["seq"] for i in everything] == list(range(SEEDED_RECORDS + 1, BASELINE_RECORDS + 6))


async def test_admin_reads_the_trail_too(api: Api, history: History) -> None:
    items = await events(api, "action=approved", role="admin")
    assert outline(items) == [expected(history)["req-approve"]]


@pytest.mark.parametrize("role", ["trader", "gateway", "operations"])
async def test_events_refuse_other_roles(api: Api, role: str) -> None:
    response = await api.get("/audit/events", role=role)
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("/forbidden")


async def test_events_without_a_key_is_401(api: Api) -> None:
    response = await api.get("/audit/events")
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("role=auditor", "role"),
        ("from=2026-11-25T15:00:00", "from"),
        ("to=2026-11-25", "to"),
        ("from=yesterday", "from"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJhZnRlciI6ICJ4In0", "cursor"),  # {"after": "x"}: not a seq
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("entity_type=", "entity_type"),
    ],
)
async def test_events_refuse_bad_values_with_422(api: Api, query: str, field: str) -> None:
    response = await api.get(f"/audit/events?{query}", role="compliance")
    assert response.status_code == 422, response.text
    assert any(field in name for name in problem_fields(response)), response.text


# GET /audit/entities/{type}/{id} --------------------------------------------------------------


async def test_entity_history_lists_the_entitys_records_page_by_page(
    api: Api, history: History
) -> None:
    ours = expected(history)
    trade = await walk(api, f"/audit/entities/trade/{history.trade_id}")
    adjustment = await walk(api, f"/audit/entities/adjustment/{history.adjustment_id}")
    whole = await api.get(f"/audit/entities/trade/{history.trade_id}", role="admin")

    assert outline(trade) == [ours["req-capture"], ours["req-amend"]]
    assert outline(adjustment) == [ours["req-propose"], ours["req-approve"]]
    assert whole.json() == {"items": trade, "next_cursor": None}


async def test_entity_history_past_the_last_page_is_empty_not_404(
    api: Api, history: History
) -> None:
    first = (
        await api.get(f"/audit/entities/trade/{history.trade_id}?limit=2", role="compliance")
    ).json()
    assert first["next_cursor"] is None
    cursor = "eyJhZnRlciI6IDEwMDB9"  # {"after": 1000}: beyond every record
    response = await api.get(
        f"/audit/entities/trade/{history.trade_id}?cursor={cursor}", role="compliance"
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("entity_type", "entity_id"),
    [("trade", "trd_nope"), ("spaceship", "trd_nope"), ("adjustment", "TRADE-ID")],
)
async def test_entity_history_of_an_entity_without_records_is_404(
    api: Api, history: History, entity_type: str, entity_id: str
) -> None:
    if entity_id == "TRADE-ID":
        entity_id = history.trade_id  # a trade's id is no adjustment's
    response = await api.get(f"/audit/entities/{entity_type}/{entity_id}", role="compliance")
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"No audit record of {entity_type} '{entity_id}'."


@pytest.mark.parametrize("role", ["trader", "gateway", "operations"])
async def test_entity_history_refuses_other_roles(api: Api, history: History, role: str) -> None:
    response = await api.get(f"/audit/entities/trade/{history.trade_id}", role=role)
    assert response.status_code == 403, response.text
    assert (await api.get(f"/audit/entities/trade/{history.trade_id}")).status_code == 401


async def test_entity_history_refuses_a_bad_cursor(api: Api, history: History) -> None:
    response = await api.get(
        f"/audit/entities/trade/{history.trade_id}?cursor=%21%21", role="compliance"
    )
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"cursor"}
