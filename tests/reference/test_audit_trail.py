"""Every reference create and update writes one audit record, which publishes its event."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.reference.conftest import AuditLookup, Counter
from tests.reference.factories import (
    APPLE,
    BARCLAYS,
    GOLDMAN,
    JPM,
    book_payload,
    cash_account_payload,
    counterparty_payload,
    equity_payload,
    market_payload,
    penalty_rate_payload,
    price_payload,
    ssi_payload,
)
from tests.support import Api

OPS = "operations"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
STAMP = "2026-11-25T15:00:00+00:00"


@dataclass(frozen=True)
class Create:
    entity_type: str
    path: str
    payload: dict[str, Any]
    entity_id: str | None  # None: the id the answer carries


CREATES = [
    Create("market", "/markets", market_payload(), "XLON"),
    Create("instrument", "/instruments", equity_payload(), APPLE),
    Create("counterparty", "/counterparties", counterparty_payload(), BARCLAYS),
    Create("book", "/books", book_payload(), "EM-CREDIT"),
    Create("account", "/accounts", cash_account_payload(), "CASH-GBP"),
    Create("ssi", "/ssis", ssi_payload(), None),
    Create("price", "/prices", price_payload(), f"{JPM}/2026-11-25"),
    Create("penalty_rate", "/penalty-rates", penalty_rate_payload(), None),
    Create(
        "market_closed_day",
        "/markets/XNYS/closed-days",
        {"day": "2026-12-24", "reason": "Outage"},
        "XNYS/2026-12-24",
    ),
]


@dataclass(frozen=True)
class Update:
    entity_type: str
    path: str
    patch: dict[str, Any]
    entity_id: str
    changed: dict[str, tuple[Any, Any]]  # column: (before, after) in the audit images


UPDATES = [
    Update(
        "market",
        "/markets/XNYS",
        {"name": "NYSE"},
        "XNYS",
        {"name": ("New York Stock Exchange", "NYSE")},
    ),
    Update(
        "instrument",
        f"/instruments/{JPM}",
        {"settlement_unit": "10"},
        JPM,
        {"settlement_unit": ("1", "10")},
    ),
    Update(
        "counterparty",
        f"/counterparties/{GOLDMAN}",
        {"netting": "bilateral"},
        GOLDMAN,
        {"netting": ("none", "bilateral")},
    ),
    Update(
        "book",
        "/books/EQ-FLOW",
        {"name": "Flow"},
        "EQ-FLOW",
        {"name": ("Equity flow trading", "Flow")},
    ),
    Update(
        "account",
        "/accounts/SEC-DTC",
        {"account_number": "DEMO-DTC-0002"},
        "SEC-DTC",
        {"account_number": ("DEMO-DTC-0001", "DEMO-DTC-0002")},
    ),
]


def _ids(items: list[Any]) -> list[str]:
    return [item.entity_type for item in items]


@pytest.mark.parametrize("create", CREATES, ids=_ids(CREATES))
async def test_create_writes_an_audit_record_that_publishes_an_event(
    api: Api, reference: None, audit_of_request: AuditLookup, create: Create
) -> None:
    request_id = f"req-create-{create.entity_type}"

    response = await api.post(
        create.path, json=create.payload, role=OPS, headers={"X-Request-ID": request_id}
    )

    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == request_id
    entity_id = create.entity_id or response.json()["id"]
    [record] = await audit_of_request(request_id)
    assert {k: record[k] for k in ("entity_type", "entity_id", "action", "before")} == {
        "entity_type": create.entity_type,
        "entity_id": entity_id,
        "action": "created",
        "before": None,
    }
    assert (record["actor_role"], record["actor_name"]) == ("operations", "test operations")
    assert record["actor_key_id"] != "system"
    assert record["request_id"] == request_id
    assert record["occurred_at"] == NOW
    assert record["after"]["created_at"] == STAMP
    assert record["event_type"] == f"{create.entity_type}.created"


async def test_market_audit_after_image_is_the_whole_row(
    api: Api, audit_of_request: AuditLookup
) -> None:
    await api.post("/markets", json=market_payload(), role=OPS, headers={"X-Request-ID": "m-1"})

    [record] = await audit_of_request("m-1")

    assert record["after"] == {
        "mic": "XLON",
        "name": "London Stock Exchange",
        "country": "GB",
        "timezone": "Europe/London",
        "calendar": "XLON",
        "settlement_calendars": ["XLON"],
        "settlement_cycle_days": [
            {"from": "2014-10-06", "days": 2},
            {"from": "2027-10-11", "days": 1},
        ],
        "ccp": "LCHLGB2L",
        "affirmation_cutoff": "18:00",
        "internal_settlement": False,
        "locked_in": False,
        "settlement_mode": "internal",
        "message_format": "iso20022",
        "partial_settlement": "NPAR",
        "partial_cash_thresholds": {},
        "partial_settlement_windows": [],
        "version": 1,
        "created_at": STAMP,
        "updated_at": STAMP,
    }


async def test_ssi_update_is_audited(
    api: Api, reference: None, audit_of_request: AuditLookup
) -> None:
    ssi = (await api.get("/ssis", params={"limit": 1}, role=OPS)).json()["items"][0]

    response = await api.patch(
        f"/ssis/{ssi['id']}",
        json={"account": "DEMO-NEW"},
        role=OPS,
        headers={"If-Match": '"1"', "X-Request-ID": "ssi-upd"},
    )

    assert response.status_code == 200
    [record] = await audit_of_request("ssi-upd")
    assert (record["entity_type"], record["entity_id"], record["action"]) == (
        "ssi",
        ssi["id"],
        "updated",
    )
    assert (record["before"]["account"], record["after"]["account"]) == (
        ssi["account"],
        "DEMO-NEW",
    )


@pytest.mark.parametrize("update", UPDATES, ids=_ids(UPDATES))
async def test_update_writes_before_and_after_images(
    api: Api, reference: None, audit_of_request: AuditLookup, update: Update
) -> None:
    request_id = f"req-update-{update.entity_type}"

    response = await api.patch(
        update.path,
        json=update.patch,
        role=OPS,
        headers={"If-Match": '"1"', "X-Request-ID": request_id},
    )

    assert response.status_code == 200, response.text
    [record] = await audit_of_request(request_id)
    assert (record["entity_type"], record["entity_id"], record["action"]) == (
        update.entity_type,
        update.entity_id,
        "updated",
    )
    assert (record["actor_role"], record["request_id"]) == ("operations", request_id)
    before, after = record["before"], record["after"]
    assert (before["version"], after["version"]) == (1, 2)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"version", *update.changed}
    for column, (old, new) in update.changed.items():
        assert (before[column], after[column]) == (old, new)
    assert record["event_type"] == f"{update.entity_type}.updated"


async def test_updated_at_moves_with_the_clock_in_the_after_image(
    api: Api, reference: None, audit_of_request: AuditLookup, clock: Any
) -> None:
    clock.advance(hours=2)

    await api.patch(
        "/books/FI-RATES",
        json={"name": "Rates"},
        role=OPS,
        headers={"If-Match": '"1"', "X-Request-ID": "clock"},
    )

    [record] = await audit_of_request("clock")
    assert record["before"]["updated_at"] == STAMP
    assert record["after"]["updated_at"] == "2026-11-25T17:00:00+00:00"
    assert record["occurred_at"] == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


async def test_a_generated_request_id_is_stored_when_none_is_sent(
    api: Api, audit_of_request: AuditLookup
) -> None:
    response = await api.post("/books", json=book_payload(), role=OPS)

    generated = response.headers["x-request-id"]
    [record] = await audit_of_request(generated)
    assert (record["entity_type"], record["entity_id"]) == ("book", "EM-CREDIT")


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        pytest.param(
            "PATCH",
            "/markets/XNYS",
            {"name": "New York Stock Exchange"},
            {"If-Match": '"1"'},
            200,
            id="no-op-patch",
        ),
        pytest.param(
            "PATCH", "/markets/XNYS", {"name": "NYSE"}, {"If-Match": '"2"'}, 412, id="stale"
        ),
        pytest.param("PATCH", "/markets/XNYS", {"name": None}, {"If-Match": '"1"'}, 422, id="null"),
        pytest.param("PATCH", "/books/EQ-FLOW", {"name": "x"}, {}, 428, id="no-if-match"),
        pytest.param("POST", "/markets", market_payload(mic="XNYS"), {}, 409, id="duplicate"),
        pytest.param(
            "POST", "/ssis", ssi_payload(counterparty_lei=BARCLAYS), {}, 422, id="unknown-lei"
        ),
        pytest.param("POST", "/instruments", equity_payload(mic="XLON"), {}, 422, id="unknown-mic"),
    ],
)
async def test_refused_and_no_op_writes_leave_no_audit_record(
    api: Api,
    reference: None,
    audit_count: Counter,
    method: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
) -> None:
    before = await audit_count()

    response = await api.request(method, path, json=body, headers=headers, role=OPS)

    assert response.status_code == status, response.text
    assert await audit_count() == before


async def test_idempotent_replay_writes_no_second_audit_record(
    api: Api, audit_count: Counter
) -> None:
    headers = {"Idempotency-Key": "book-1"}
    before = await audit_count()
    await api.post("/books", json=book_payload(), role=OPS, headers=headers)

    replay = await api.post("/books", json=book_payload(), role=OPS, headers=headers)

    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert await audit_count() == before + 1
