"""Administrators issue and revoke keys; a key is shown once and stored only as a hash."""

import asyncio
from typing import Any

from sqlalchemy import select

from app.apikeys.models import ApiKey
from app.audit.models import AuditRecord
from app.core.auth import hash_api_key
from tests.conftest import Database
from tests.support import Api, FrozenClock


async def _issue(api: Api, role: str = "trader", name: str = "OMS") -> dict[str, Any]:
    response = await api.post("/api-keys", json={"name": name, "role": role}, role="admin")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_new_key_is_shown_once_and_works_for_its_role(api: Api, db: Database) -> None:
    issued = await _issue(api, role="compliance", name="Surveillance")
    assert issued["key"].startswith("stl_")
    assert issued["key_prefix"] == issued["key"][:10]
    assert (issued["name"], issued["role"], issued["revoked_at"]) == (
        "Surveillance",
        "compliance",
        None,
    )
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert (await api.get("/trades", headers=headers)).status_code == 200
    assert (await api.post("/trades", json={}, headers=headers)).status_code == 403

    listed = (await api.get("/api-keys", role="admin")).json()["items"]
    mine = next(item for item in listed if item["id"] == issued["id"])
    assert "key" not in mine
    assert "key_hash" not in mine
    async with db.sessionmaker() as session:
        stored = await session.get(ApiKey, issued["id"])
    assert stored is not None
    assert stored.key_hash == hash_api_key(issued["key"])


async def test_a_revoked_key_stops_working_at_once(api: Api) -> None:
    issued = await _issue(api)
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert (await api.get("/trades", headers=headers)).status_code == 200
    assert (await api.delete(f"/api-keys/{issued['id']}", role="admin")).status_code == 204
    refused = await api.get("/trades", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The API key is unknown or revoked."
    assert (await api.delete(f"/api-keys/{issued['id']}", role="admin")).status_code == 204

    active = (await api.get("/api-keys", role="admin")).json()["items"]
    assert issued["id"] not in {item["id"] for item in active}
    everything = (await api.get("/api-keys?include_revoked=true", role="admin")).json()["items"]
    assert next(i for i in everything if i["id"] == issued["id"])["revoked_at"] is not None


async def test_concurrent_requests_each_get_their_key_answered(api: Api) -> None:
    # On PostgreSQL their lookups share statements (app/core/coalesce.py): each still gets its own.
    trader, compliance = await _issue(api), await _issue(api, role="compliance")
    revoked = await _issue(api)
    assert (await api.delete(f"/api-keys/{revoked['id']}", role="admin")).status_code == 204
    secrets = [trader["key"], revoked["key"], compliance["key"], "stl_unknown", trader["key"]]

    answers = await asyncio.gather(
        *(api.post("/trades", json={}, headers={"Authorization": f"Bearer {s}"}) for s in secrets)
    )

    # 422: a trader's empty trade; 403: compliance may not book; 401: revoked or unknown.
    assert [a.status_code for a in answers] == [422, 401, 403, 401, 422]


async def test_one_key_is_read_by_id_without_the_key_or_its_hash(
    api: Api, clock: FrozenClock
) -> None:
    issued = await _issue(api, name="Surveillance")
    clock.advance(minutes=10)
    assert (await api.delete(f"/api-keys/{issued['id']}", role="admin")).status_code == 204

    read = await api.get(f"/api-keys/{issued['id']}", role="admin")
    issued_then = await api.get(
        f"/api-keys/{issued['id']}", params={"as_of": "2026-11-25T15:00:00Z"}, role="admin"
    )
    unknown = await api.get("/api-keys/key_nope", role="admin")

    shown = {k: v for k, v in issued.items() if k != "key"}
    assert read.status_code == 200, read.text
    assert read.json() == {**shown, "revoked_at": "2026-11-25T15:10:00Z"}
    assert issued_then.json() == shown
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "No API key 'key_nope'.")


async def test_revoking_an_unknown_key_is_404(api: Api) -> None:
    response = await api.delete("/api-keys/key_nope", role="admin")
    assert response.status_code == 404
    assert response.json()["detail"] == "No API key 'key_nope'."


async def test_bad_input_names_the_field(api: Api) -> None:
    response = await api.post("/api-keys", json={"name": "", "role": "superuser"}, role="admin")
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"name", "role"}


async def test_the_audit_trail_never_holds_key_material(api: Api, db: Database) -> None:
    issued = await _issue(api)
    await api.delete(f"/api-keys/{issued['id']}", role="admin")
    async with db.sessionmaker() as session:
        records = (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id == issued["id"]))
        ).all()
    assert [r.action for r in records] == ["created", "revoked"]
    for record in records:
        text = str(record.before) + str(record.after)
        assert issued["key"] not in text
        assert hash_api_key(issued["key"]) not in text
