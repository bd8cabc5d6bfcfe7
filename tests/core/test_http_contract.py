"""The HTTP contract every route shares: problem+json errors, request ids, probes, OpenAPI, auth."""

import re
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

import app.reference.markets.service as reference_service
from app.core.auth import Role
from app.core.middleware import _new_request_id
from app.core.migrations import head_revision
from tests.conftest import Database
from tests.support import Api, seal

PROBLEM = "application/problem+json"
PROBLEMS = "https://settlement.example/problems/"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _problem(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == PROBLEM, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_unknown_route_is_a_404_problem(api: Api) -> None:
    response = await api.get("/no-such-thing", role="operations")
    assert response.status_code == 404
    assert _problem(response) == {
        "type": PROBLEMS + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/api/v1/no-such-thing",
    }


async def test_an_unknown_route_outside_the_api_is_a_404_problem(api: Api) -> None:
    response = await api.client.get("/nowhere")
    assert response.status_code == 404
    assert _problem(response)["instance"] == "/nowhere"


async def test_a_wrong_method_is_a_405_problem(api: Api) -> None:
    response = await api.request("PUT", "/healthz")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert _problem(response) == {
        "type": PROBLEMS + "method-not-allowed",
        "title": "Method not allowed",
        "status": 405,
        "detail": "Method Not Allowed",
        "instance": "/healthz",
    }


async def test_a_wrong_method_on_an_api_route_is_a_405_problem(api: Api) -> None:
    response = await api.delete("/trades", role="trader")
    assert response.status_code == 405
    body = _problem(response)
    assert body["type"] == PROBLEMS + "method-not-allowed"
    assert body["status"] == 405
    assert body["instance"] == "/api/v1/trades"


@pytest.mark.parametrize(
    "content",
    [b'{"external_id": ', b"{bad json}", b"[1, 2,", b"\xff\xfe", b"{'single': 'quotes'}"],
)
async def test_a_malformed_json_body_is_a_400_problem(api: Api, content: bytes) -> None:
    response = await api.post(
        "/trades",
        content=content,
        headers={"Content-Type": "application/json"},
        role="trader",
    )
    assert response.status_code == 400
    assert _problem(response) == {
        "type": PROBLEMS + "malformed-json",
        "title": "The body is not valid JSON",
        "status": 400,
        "detail": "The request body could not be parsed as JSON.",
        "instance": "/api/v1/trades",
    }


async def test_an_invalid_body_is_a_422_problem_naming_the_fields(api: Api) -> None:
    response = await api.post("/trades", json={"external_id": "X"}, role="trader")
    assert response.status_code == 422
    body = _problem(response)
    assert body["type"] == PROBLEMS + "validation-error"
    fields = {error["field"] for error in body["errors"]}
    assert {"book", "isin", "quantity", "price", "currency"} <= fields


@pytest.mark.parametrize("request_id", ["req-1", "abc.DEF_1:2-3", "A" * 128, "01JBZ3Q7X0ABCDEF"])
async def test_a_valid_request_id_is_echoed(api: Api, request_id: str) -> None:
    response = await api.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id


async def test_a_request_id_is_generated_when_absent(api: Api) -> None:
    first = await api.get("/healthz")
    second = await api.get("/healthz")
    assert HEX32.match(first.headers["x-request-id"])
    assert HEX32.match(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    # Laid out as uuid4().hex was: version 4, RFC 4122 variant.
    generated = uuid.UUID(hex=first.headers["x-request-id"])
    assert (generated.version, generated.variant) == (4, uuid.RFC_4122)


def test_generated_request_ids_are_uuid4_hex() -> None:
    generated = [_new_request_id() for _ in range(500)]
    assert len(set(generated)) == 500
    assert all(HEX32.match(text) for text in generated)
    assert {(uuid.UUID(hex=t).version, uuid.UUID(hex=t).variant) for t in generated} == {
        (4, uuid.RFC_4122)
    }


@pytest.mark.parametrize(
    "request_id",
    ["has spaces in it", "A" * 129, "A" * 200, "semi;colon", "slash/ed", "", "<script>"],
)
async def test_an_invalid_request_id_is_replaced(api: Api, request_id: str) -> None:
    response = await api.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert HEX32.match(response.headers["x-request-id"])


async def test_errors_carry_the_request_id_too(api: Api) -> None:
    response = await api.get("/trades", headers={"X-Request-ID": "err-1"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "err-1"


async def test_an_unexpected_error_is_a_500_problem_that_still_echoes_the_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug, not bad input")

    monkeypatch.setattr(reference_service, "list_markets", broken)
    response = await api.get("/markets", role="operations", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-1"
    assert _problem(response) == {
        "type": PROBLEMS + "internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "The service failed to process the request; nothing was saved.",
        "instance": "/api/v1/markets",
    }


async def test_healthz_is_open_and_ok(api: Api) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_migration_at_head(api: Api) -> None:
    head = head_revision()
    assert head is not None
    response = await api.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migration": head,
        "audit": {"unsealed": 0, "oldest_unsealed_age_seconds": 0.0},
        # Seals past the relay's cursor, which the migration placed at 0: the records of the
        # rows migrations seeded (17, no events) and the test keys' creation.
        "webhooks": {"events_not_fanned_out": 17 + len(Role), "pending_deliveries": 0},
    }


async def test_readyz_reports_the_audit_records_waiting_for_the_sealer(
    api: Api, db: Database
) -> None:
    created = await api.post("/api-keys", json={"name": "new", "role": "trader"}, role="admin")
    assert created.status_code == 201
    audit = (await api.get("/readyz")).json()["audit"]
    assert audit["unsealed"] == 1
    assert 0 <= audit["oldest_unsealed_age_seconds"] < 60
    await seal(db.sessionmaker)
    assert (await api.get("/readyz")).json()["audit"] == {
        "unsealed": 0,
        "oldest_unsealed_age_seconds": 0.0,
    }


async def test_readyz_is_503_when_the_schema_is_not_at_head(api: Api, db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    try:
        response = await api.get("/readyz")
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
            )
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "migration": "0000",
        "expected": head_revision(),
    }
    assert (await api.get("/readyz")).status_code == 200


def _requests_total(route: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "settlement_http_requests_total", {"method": "GET", "route": route, "status": status}
    )
    return value or 0.0


async def test_metrics_count_requests_per_route_and_status(api: Api) -> None:
    before = _requests_total("/healthz", "200")
    unmatched_before = _requests_total("unmatched", "404")
    await api.get("/healthz")
    await api.get("/healthz")
    await api.client.get("/nowhere/at/all")
    assert _requests_total("/healthz", "200") == before + 2
    assert _requests_total("unmatched", "404") == unmatched_before + 1

    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "# TYPE settlement_http_requests_total counter" in lines
    assert "# TYPE settlement_http_request_duration_seconds histogram" in lines
    expected = 'settlement_http_requests_total{method="GET",route="/healthz",status="200"}'
    assert f"{expected} {before + 2}" in lines


@pytest.fixture
async def openapi(api: Api) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]


async def test_openapi_declares_bearer_authentication(openapi: dict[str, Any]) -> None:
    assert openapi["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>`. Each key has one role.",
        }
    }


async def test_every_api_operation_is_documented_tagged_and_secured(
    openapi: dict[str, Any],
) -> None:
    operations = _operations(openapi)
    assert len(operations) >= 40
    declared_tags = {tag["name"]: tag.get("description") for tag in openapi["tags"]}
    undocumented = [
        f"{method.upper()} {path}"
        for method, path, op in operations
        if not (op.get("summary") or op.get("description"))
    ]
    untagged = [f"{method.upper()} {path}" for method, path, op in operations if not op.get("tags")]
    undeclared = {
        tag for _, _, op in operations for tag in op.get("tags", []) if not declared_tags.get(tag)
    }
    unsecured = [
        f"{method.upper()} {path}"
        for method, path, op in operations
        if op.get("security") != [{"HTTPBearer": []}]
    ]
    assert undocumented == []
    assert untagged == []
    assert undeclared == set()
    assert unsecured == []


async def test_every_api_operation_documents_its_problem_answers(
    openapi: dict[str, Any],
) -> None:
    missing = [
        f"{method.upper()} {path} {status}"
        for method, path, op in _operations(openapi)
        for status in ("401", "403", "422")
        if PROBLEM not in op["responses"].get(status, {}).get("content", {})
    ]
    assert missing == []


async def test_probes_are_public_and_tagged(openapi: dict[str, Any]) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        operation = openapi["paths"][path]["get"]
        assert operation["tags"] == ["Health"]
        assert "security" not in operation


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "Send 'Authorization: Bearer <api key>'."),
        ("Basic dXNlcjpwYXNz", "Send 'Authorization: Bearer <api key>'."),
        ("stl_no_scheme_at_all", "Send 'Authorization: Bearer <api key>'."),
        ("Bearer stl_not_a_key_we_issued", "The API key is unknown or revoked."),
        ("Bearer ", "Send 'Authorization: Bearer <api key>'."),
    ],
)
async def test_without_a_valid_key_the_answer_is_401_with_a_bearer_challenge(
    api: Api, authorization: str | None, detail: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await api.get("/trades", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _problem(response) == {
        "type": PROBLEMS + "unauthenticated",
        "title": "A valid API key is required",
        "status": 401,
        "detail": detail,
        "instance": "/api/v1/trades",
    }


async def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    created = await api.post(
        "/api-keys", json={"name": "OMS to revoke", "role": "trader"}, role="admin"
    )
    assert created.status_code == 201, created.text
    key_id, secret = created.json()["id"], created.json()["key"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await api.get("/trades", headers=bearer)).status_code == 200

    revoked = await api.delete(f"/api-keys/{key_id}", role="admin")
    assert revoked.status_code == 204

    response = await api.get("/trades", headers=bearer)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _problem(response)["detail"] == "The API key is unknown or revoked."


async def test_a_role_not_admitted_is_a_403_problem(api: Api) -> None:
    response = await api.post("/trades", json={}, role="compliance")
    assert response.status_code == 403
    assert "www-authenticate" not in response.headers
    assert _problem(response) == {
        "type": PROBLEMS + "forbidden",
        "title": "This role may not do this",
        "status": 403,
        "detail": "The role 'compliance' may not call this route (allowed: trader).",
        "instance": "/api/v1/trades",
    }
