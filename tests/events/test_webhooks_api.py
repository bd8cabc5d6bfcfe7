"""/webhooks: admin subscribes, pauses, resumes, deletes and redelivers; compliance reads the
subscriptions and their delivery log; the secret is shown once and audited never."""

from collections.abc import Callable
from typing import Any

import pytest

from app.events.relay import Relay
from tests.conftest import Database
from tests.events.conftest import HEAD, Subscription, change, emit
from tests.events.receiver import receiving
from tests.support import Api, FrozenClock, problem_fields, seal

URL = "https://oms.example.com/hooks/settlement"
OTHER_ROLES = ["trader", "gateway", "operations"]


def payload(**overrides: Any) -> dict[str, Any]:
    return {"url": URL, "event_types": ["trade.*"], "description": "OMS", **overrides}


async def create(api: Api, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/webhooks", json=payload(**overrides), role="admin")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def keys(api: Api) -> dict[str, str]:
    listed = (await api.get("/api-keys", role="admin")).json()["items"]
    return {key["name"]: key["id"] for key in listed}


# Create --------------------------------------------------------------------------------------


async def test_admin_subscribes_and_sees_the_secret_once(api: Api, clock: FrozenClock) -> None:
    response = await api.post(
        "/webhooks",
        json=payload(event_types=["trade.amended", "trade.*", "trade.amended"]),
        role="admin",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/webhooks/{body['id']}"
    assert body["id"].startswith("whk_")
    assert body["secret"].startswith("whsec_")
    admin = (await keys(api))["test admin"]
    assert body == {
        "id": body["id"],
        "url": URL,
        "event_types": ["trade.*", "trade.amended"],
        "description": "OMS",
        "status": "active",
        "paused_reason": None,
        "consecutive_failures": 0,
        "from_seq": HEAD,  # the baseline's events were sealed before
        "created_at": "2026-11-25T15:00:00Z",
        "created_by": admin,
        "status_changed_at": "2026-11-25T15:00:00Z",
        "secret": body["secret"],
    }
    read = await api.get(f"/webhooks/{body['id']}", role="compliance")
    listed = await api.get("/webhooks", role="admin")
    assert "secret" not in read.json()
    assert {k: v for k, v in body.items() if k != "secret"} == read.json()
    assert body["secret"] not in read.text + listed.text


async def test_the_same_idempotency_key_replays_the_first_answer(api: Api) -> None:
    headers = {"Idempotency-Key": "hook-1"}
    first = await api.post("/webhooks", json=payload(), role="admin", headers=headers)
    again = await api.post("/webhooks", json=payload(), role="admin", headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await api.post("/webhooks", json=payload(url=URL + "/x"), role="admin", headers=headers)
    assert other.status_code == 422
    assert len((await api.get("/webhooks", role="admin")).json()["items"]) == 1


async def test_a_subscription_receives_what_is_sealed_after_it(api: Api, db: Database) -> None:
    await emit(db, change("T1", "captured"))
    await emit(db, change("T2", "captured"), sealed=False)
    body = await create(api)
    assert body["from_seq"] == HEAD + 1  # T2 is sealed after: it will be delivered


async def test_the_secret_never_reaches_the_trail(api: Api, db: Database) -> None:
    body = await create(api)
    await seal(db.sessionmaker)
    history = await api.get(f"/audit/entities/webhook_subscription/{body['id']}", role="admin")
    [record] = history.json()["items"]
    assert (record["action"], record["event_type"], record["before"]) == (
        "created",
        "webhook_subscription.created",
        None,
    )
    assert record["after"]["url"] == URL
    assert "secret" not in record["after"]
    assert body["secret"] not in history.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "example.com/hook"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "http:///path"}, "url"),
        ({"url": "https://user:pw@example.com/hook"}, "url"),
        ({"url": "https://example.com/a hook"}, "url"),
        ({"url": "https://example.com:99999/hook"}, "url"),
        ({"url": "https://example.com/\x00"}, "url"),
        ({"url": "https://example.com/" + "a" * 2000}, "url"),
        ({"url": ""}, "url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["Trade.amended"]}, "event_types"),
        ({"event_types": ["trade."]}, "event_types"),
        ({"event_types": ["*.amended"]}, "event_types"),
        ({"event_types": ["trade.x"] * 51}, "event_types"),
        ({"event_types": "trade.*"}, "event_types"),
        ({"description": "x" * 501}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
async def test_bad_subscriptions_are_422(api: Api, overrides: dict[str, Any], field: str) -> None:
    response = await api.post("/webhooks", json=payload(**overrides), role="admin")
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}


@pytest.mark.parametrize("role", ["compliance", *OTHER_ROLES])
async def test_only_admin_subscribes(api: Api, role: str) -> None:
    assert (await api.post("/webhooks", json=payload(), role=role)).status_code == 403
    assert (await api.post("/webhooks", json=payload())).status_code == 401


# Read ----------------------------------------------------------------------------------------


async def test_compliance_and_admin_list_and_read(api: Api) -> None:
    first, second = await create(api), await create(api, url=URL + "/2")
    for role in ("compliance", "admin"):
        listed = await api.get("/webhooks", role=role)
        assert [item["id"] for item in listed.json()["items"]] == [first["id"], second["id"]]
        read = await api.get(f"/webhooks/{second['id']}", role=role)
        assert (read.status_code, read.json()["url"]) == (200, URL + "/2")
    paged = (await api.get("/webhooks?limit=1", role="admin")).json()
    assert [item["id"] for item in paged["items"]] == [first["id"]]
    assert paged["next_cursor"] is not None


@pytest.mark.parametrize("role", OTHER_ROLES)
async def test_other_roles_read_nothing(api: Api, role: str) -> None:
    body = await create(api)
    for path in ("/webhooks", f"/webhooks/{body['id']}", f"/webhooks/{body['id']}/deliveries"):
        assert (await api.get(path, role=role)).status_code == 403
        assert (await api.get(path)).status_code == 401


async def test_unknown_subscriptions_and_deliveries_are_404(api: Api) -> None:
    body = await create(api)
    for method, path in [
        ("GET", "/webhooks/whk_unknown"),
        ("GET", "/webhooks/whk_unknown/deliveries"),
        ("GET", f"/webhooks/{body['id']}/deliveries/dlv_unknown"),
        ("POST", "/webhooks/whk_unknown/pause"),
        ("POST", "/webhooks/whk_unknown/resume"),
        ("DELETE", "/webhooks/whk_unknown"),
        ("POST", f"/webhooks/{body['id']}/deliveries/dlv_unknown/redeliver"),
        ("POST", "/webhooks/whk_unknown/deliveries/dlv_unknown/redeliver"),
    ]:
        response = await api.request(method, path, role="admin")
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"].endswith("/not-found")


async def test_bad_list_parameters_are_422(api: Api) -> None:
    body = await create(api)
    for path, field in [
        ("/webhooks?limit=0", "limit"),
        ("/webhooks?include_disabled=maybe", "include_disabled"),
        ("/webhooks?cursor=forged", "cursor"),
        (f"/webhooks/{body['id']}/deliveries?status=lost", "status"),
        (f"/webhooks/{'x' * 41}", "subscription_id"),
    ]:
        response = await api.get(path, role="compliance")
        assert response.status_code == 422, path
        assert problem_fields(response) == {field}


# Pause, resume, delete -----------------------------------------------------------------------


async def test_pause_then_resume_audited(api: Api, db: Database, clock: FrozenClock) -> None:
    body = await create(api)
    clock.advance(minutes=5)
    paused = await api.post(f"/webhooks/{body['id']}/pause", role="admin")
    assert paused.status_code == 200
    assert (paused.json()["status"], paused.json()["status_changed_at"]) == (
        "paused",
        "2026-11-25T15:05:00Z",
    )
    admin = (await keys(api))["test admin"]
    assert paused.json()["paused_reason"] == f"paused by test admin ({admin})"
    assert (await api.post(f"/webhooks/{body['id']}/pause", role="admin")).status_code == 409
    resumed = await api.post(f"/webhooks/{body['id']}/resume", role="admin")
    assert (resumed.json()["status"], resumed.json()["paused_reason"]) == ("active", None)
    again = await api.post(f"/webhooks/{body['id']}/resume", role="admin")
    assert (again.status_code, again.json()["type"].split("/")[-1]) == (409, "invalid-transition")
    await seal(db.sessionmaker)
    history = await api.get(f"/audit/entities/webhook_subscription/{body['id']}", role="admin")
    assert [(r["action"], r["actor"]["key_id"]) for r in history.json()["items"]] == [
        ("created", admin),
        ("paused", admin),
        ("resumed", admin),
    ]


@pytest.mark.parametrize("role", ["compliance", *OTHER_ROLES])
async def test_only_admin_changes_a_subscription(api: Api, role: str) -> None:
    body = await create(api)
    for method, path in [
        ("POST", f"/webhooks/{body['id']}/pause"),
        ("POST", f"/webhooks/{body['id']}/resume"),
        ("DELETE", f"/webhooks/{body['id']}"),
    ]:
        assert (await api.request(method, path, role=role)).status_code == 403
        assert (await api.request(method, path)).status_code == 401
    assert (await api.get(f"/webhooks/{body['id']}", role="admin")).json()["status"] == "active"


async def test_delete_disables_and_keeps_it_readable(api: Api) -> None:
    body = await create(api)
    assert (await api.delete(f"/webhooks/{body['id']}", role="admin")).status_code == 204
    assert (await api.delete(f"/webhooks/{body['id']}", role="admin")).status_code == 204
    read = await api.get(f"/webhooks/{body['id']}", role="compliance")
    assert read.json()["status"] == "disabled"
    assert (await api.get("/webhooks", role="admin")).json()["items"] == []
    everything = await api.get("/webhooks?include_disabled=true", role="admin")
    assert [item["id"] for item in everything.json()["items"]] == [body["id"]]
    for action in ("pause", "resume"):
        response = await api.post(f"/webhooks/{body['id']}/{action}", role="admin")
        assert response.status_code == 409


# The delivery log and redelivery ---------------------------------------------------------------


async def _delivered_once(
    api: Api, db: Database, relay_for: Callable[..., Relay], subscribe: Any
) -> tuple[Subscription, dict[str, Any]]:
    async with receiving() as receiver:
        sub = await subscribe(receiver.url(), ["trade.*"])
        await emit(db, change("T1", "captured"), change("B1", "captured", entity_type="book"))
        relay = relay_for()
        async with relay.client() as client:
            assert await relay.deliver_due(client) == 1
    listed = await api.get(f"/webhooks/{sub.id}/deliveries", role="compliance")
    [delivery] = listed.json()["items"]
    return sub, delivery


async def test_the_log_shows_each_delivery_with_its_attempts(
    api: Api, db: Database, relay_for: Callable[..., Relay], subscribe: Any
) -> None:
    sub, delivery = await _delivered_once(api, db, relay_for, subscribe)
    [attempt] = delivery["attempts"]
    assert delivery == {
        "id": delivery["id"],
        "subscription_id": sub.id,
        "event_id": f"evt_{HEAD + 2:026d}",
        "seq": HEAD + 2,
        "event_type": "trade.captured",
        "entity_type": "trade",
        "entity_id": "T1",
        "generation": 0,
        "status": "delivered",
        "next_attempt_at": None,
        "delivered_at": attempt["attempted_at"],
        "last_error": None,
        "created_at": delivery["created_at"],
        "requested_by": None,
        "attempts": [
            {
                "number": 1,
                "attempted_at": attempt["attempted_at"],
                "duration_ms": attempt["duration_ms"],
                "status_code": 200,
                "error": None,
                "next_attempt_at": None,
            }
        ],
    }
    assert 0 <= attempt["duration_ms"] < 500
    one = await api.get(f"/webhooks/{sub.id}/deliveries/{delivery['id']}", role="admin")
    assert one.json() == delivery
    pending = await api.get(f"/webhooks/{sub.id}/deliveries?status=pending", role="admin")
    assert pending.json() == {"items": [], "next_cursor": None}


async def test_redeliver_queues_the_same_event_again(
    api: Api, db: Database, relay_for: Callable[..., Relay], subscribe: Any
) -> None:
    sub, delivery = await _delivered_once(api, db, relay_for, subscribe)
    path = f"/webhooks/{sub.id}/deliveries/{delivery['id']}/redeliver"
    for role in ("compliance", *OTHER_ROLES):
        assert (await api.post(path, role=role)).status_code == 403
    assert (await api.post(path)).status_code == 401
    response = await api.post(path, role="admin", headers={"Idempotency-Key": "again-1"})
    assert response.status_code == 201, response.text
    again = response.json()
    assert response.headers["location"] == f"/api/v1/webhooks/{sub.id}/deliveries/{again['id']}"
    admin = (await keys(api))["test admin"]
    assert (again["event_id"], again["generation"], again["status"], again["requested_by"]) == (
        delivery["event_id"],
        1,
        "pending",
        admin,
    )
    assert again["attempts"] == []
    replay = await api.post(path, role="admin", headers={"Idempotency-Key": "again-1"})
    assert replay.json() == again
    third = await api.post(path, role="admin")
    assert third.json()["generation"] == 2
    await api.delete(f"/webhooks/{sub.id}", role="admin")
    assert (await api.post(path, role="admin")).status_code == 409


async def test_a_delivery_of_another_subscription_is_404(
    api: Api, db: Database, relay_for: Callable[..., Relay], subscribe: Any
) -> None:
    _sub, delivery = await _delivered_once(api, db, relay_for, subscribe)
    other = await create(api)
    response = await api.get(f"/webhooks/{other['id']}/deliveries/{delivery['id']}", role="admin")
    assert response.status_code == 404
    redeliver = f"/webhooks/{other['id']}/deliveries/{delivery['id']}/redeliver"
    assert (await api.post(redeliver, role="admin")).status_code == 404
