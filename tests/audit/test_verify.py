"""GET /audit/verify: the chain recomputed over a stretch of seal time and every audited row
compared with its entity's last record; a record changed in the database is named by its seq,
a row changed, deleted or inserted behind the service's back is named as drift."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text, update

from app.audit.models import AuditRecord, AuditSeal
from app.core.db import table_of
from app.reference.books.models import Book
from tests.audit.support import (
    BASELINE_SEALS,
    REFERENCE_RECORDS,
    behind_the_back,
    book,
    head,
    seal_at,
    seq_of,
    verify,
)
from tests.conftest import DEFAULT_NOW, Database
from tests.factories import JPM
from tests.support import Api, problem_fields, seal

# GET /audit/verify: a clean trail -------------------------------------------------------------


async def test_a_clean_history_verifies_every_record(
    api: Api, db: Database, reference: None
) -> None:
    await book(api)
    await book(api, quantity="250")
    await seal(db.sessionmaker)
    head_seq, head_hash = await head(db)

    body = await verify(api)

    assert body == {
        "ok": True,
        "checked": BASELINE_SEALS + REFERENCE_RECORDS + 2,
        "first_bad_seq": None,
        "unsealed": 0,
        "drift": [],
        "drift_count": 0,
        "from_seq": 1,
        "to_seq": head_seq,
        "head_seq": head_seq,
        "head_hash": head_hash,
    }
    assert head_seq == BASELINE_SEALS + REFERENCE_RECORDS + 2


async def test_a_change_not_sealed_yet_is_counted_and_is_no_drift(
    api: Api, db: Database, reference: None
) -> None:
    trade_id = await book(api)
    await seal(db.sessionmaker)
    amended = await api.patch(
        f"/trades/{trade_id}", json={"quantity": "150"}, role="trader", headers={"If-Match": "1"}
    )
    assert amended.status_code == 200, amended.text

    body = await verify(api, role="admin")

    assert (body["ok"], body["unsealed"], body["drift"]) == (True, 1, [])
    assert body["checked"] == BASELINE_SEALS + REFERENCE_RECORDS + 1


# Tampering with the trail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor_name", "someone else"), ("action", "cancelled"), ("request_id", "req-forged")],
)
async def test_a_record_changed_in_the_database_is_named_by_its_seq(
    api: Api, db: Database, reference: None, column: str, value: str
) -> None:
    first = await book(api)
    tampered = await book(api)
    await book(api)
    await seal(db.sessionmaker)
    record_id, seq = await seq_of(db, tampered, "captured")
    records = table_of(AuditRecord)
    await behind_the_back(
        db, update(records).where(records.c.id == record_id).values({column: value})
    )

    body = await verify(api)

    assert (body["ok"], body["first_bad_seq"], body["checked"]) == (False, seq, seq - 1)
    assert body["drift"] == []  # the rows are as recorded; only the record lies
    assert seq == (await seq_of(db, first, "captured"))[1] + 1


async def test_an_after_image_changed_in_the_database_breaks_the_chain_there(
    api: Api, db: Database, reference: None
) -> None:
    trade_id = await book(api)
    await seal(db.sessionmaker)
    record_id, seq = await seq_of(db, trade_id, "captured")
    async with db.sessionmaker() as session:
        after = dict((await session.get_one(AuditRecord, record_id)).after or {})
    records = table_of(AuditRecord)
    await behind_the_back(
        db,
        update(records)
        .where(records.c.id == record_id)
        .values(after={**after, "quantity": "1000"}),
    )

    body = await verify(api)

    assert (body["ok"], body["first_bad_seq"]) == (False, seq)
    # The forged after-image no longer matches the row either.
    assert [(d["entity_id"], d["fields"]) for d in body["drift"]] == [(trade_id, ["quantity"])]


async def test_a_stretch_after_the_tampered_record_verifies(
    api: Api, db: Database, reference: None
) -> None:
    tampered = await book(api)
    await seal_at(db, datetime.now(UTC) + timedelta(days=1))
    later = await book(api)
    await seal_at(db, datetime.now(UTC) + timedelta(days=2))
    record_id, _ = await seq_of(db, tampered, "captured")
    _, later_seq = await seq_of(db, later, "captured")
    records = table_of(AuditRecord)
    await behind_the_back(
        db, update(records).where(records.c.id == record_id).values(actor_name="x")
    )
    since = (datetime.now(UTC) + timedelta(days=1, hours=12)).isoformat()

    body = await verify(api, **{"from": since, "drift": "false"})

    assert (body["ok"], body["checked"], body["from_seq"], body["to_seq"]) == (
        True,
        1,
        later_seq,
        later_seq,
    )


# Drift: rows changed behind the service's back ------------------------------------------------


async def test_a_trade_updated_directly_is_named_with_the_changed_fields(
    api: Api, db: Database, reference: None
) -> None:
    await book(api)
    trade_id = await book(api)
    await seal(db.sessionmaker)
    await behind_the_back(
        db,
        text("UPDATE trades SET quantity = 999, side = 'sell' WHERE id = :id"),
        id=trade_id,
    )

    body = await verify(api)

    assert (body["ok"], body["first_bad_seq"], body["drift_count"]) == (False, None, 1)
    assert body["drift"] == [
        {
            "entity_type": "trade",
            "entity_id": trade_id,
            "kind": "changed",
            "fields": ["quantity", "side"],
            "audited": {"quantity": "100", "side": "buy"},
            "current": {"quantity": "999", "side": "sell"},
        }
    ]


async def test_a_row_deleted_directly_is_named_with_its_last_audited_state(
    api: Api, db: Database, reference: None
) -> None:
    created = await api.post(
        "/prices",
        json={"isin": JPM, "date": "2026-11-20", "price": "189.25"},
        role="operations",
    )
    assert created.status_code == 201, created.text
    await behind_the_back(db, text("DELETE FROM prices WHERE date = '2026-11-20'"))

    body = await verify(api)

    assert (body["ok"], body["unsealed"]) == (False, REFERENCE_RECORDS + 1)
    assert body["drift"] == [
        {
            "entity_type": "price",
            "entity_id": f"{JPM}/2026-11-20",
            "kind": "deleted",
            "fields": [],
            "audited": {
                "isin": JPM,
                "date": "2026-11-20",
                "price": "189.25",
                "created_at": "2026-11-25T15:00:00+00:00",
            },
            "current": None,
        }
    ]


async def test_a_row_inserted_directly_is_unaudited(
    api: Api, db: Database, reference: None
) -> None:
    await behind_the_back(
        db,
        insert(table_of(Book)).values(
            code="SHADOW", name="Shadow book", version=1, created_at=DEFAULT_NOW,
            updated_at=DEFAULT_NOW,
        ),
    )  # fmt: skip

    body = await verify(api)

    assert body["ok"] is False
    assert body["drift"] == [
        {
            "entity_type": "book",
            "entity_id": "SHADOW",
            "kind": "unaudited",
            "fields": [],
            "audited": None,
            "current": {
                "code": "SHADOW",
                "name": "Shadow book",
                "version": 1,
                "created_at": "2026-11-25T15:00:00+00:00",
                "updated_at": "2026-11-25T15:00:00+00:00",
            },
        }
    ]


async def test_drift_is_found_across_chunks_in_every_kind(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With chunks of two rows, every trade and price (a two-column key) is still paired with
    its own last record, and only the changed ones are named."""
    from app.audit import drift

    monkeypatch.setattr(drift, "DRIFT_CHUNK", 2)
    trades = sorted([await book(api) for _ in range(5)])
    for day in ("2026-11-19", "2026-11-20", "2026-11-23"):
        response = await api.post(
            "/prices", json={"isin": JPM, "date": day, "price": "100"}, role="operations"
        )
        assert response.status_code == 201, response.text
    for trade_id in (trades[1], trades[4]):
        await behind_the_back(db, text("UPDATE trades SET fees = 7 WHERE id = :id"), id=trade_id)
    await behind_the_back(db, text("UPDATE prices SET price = 101 WHERE date = '2026-11-23'"))

    body = await verify(api, drift="true")

    assert [(d["entity_type"], d["entity_id"], d["kind"], d["fields"]) for d in body["drift"]] == [
        ("trade", trades[1], "changed", ["fees"]),
        ("trade", trades[4], "changed", ["fees"]),
        ("price", f"{JPM}/2026-11-23", "changed", ["price"]),
    ]


async def test_without_drift_only_the_chain_is_checked(
    api: Api, db: Database, reference: None
) -> None:
    trade_id = await book(api)
    await seal(db.sessionmaker)
    await behind_the_back(db, text("UPDATE trades SET fees = 7 WHERE id = :id"), id=trade_id)

    body = await verify(api, drift="false")

    assert (body["ok"], body["drift"], body["drift_count"]) == (True, [], 0)


# The window: from and to bound the time records were sealed ----------------------------------


async def test_from_and_to_bound_the_seal_time_to_one_stretch(
    api: Api, db: Database, reference: None
) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    await seal_at(db, start)  # the reference data
    first = [await book(api) for _ in range(2)]
    await seal_at(db, start + timedelta(hours=1))
    await book(api)
    await seal_at(db, start + timedelta(hours=2))
    first_seq = (await seq_of(db, first[0], "captured"))[1]
    window = {
        "from": (start + timedelta(minutes=30)).isoformat(),
        "to": (start + timedelta(hours=2)).isoformat(),
    }

    body = await verify(api, **window)
    open_ended = await verify(api, **{"from": window["from"]})
    before_all = await verify(api, to=(start - timedelta(days=400)).isoformat())
    after_all = await verify(api, **{"from": (start + timedelta(days=1)).isoformat()})

    assert (body["ok"], body["checked"], body["from_seq"], body["to_seq"]) == (
        True,
        2,
        first_seq,
        first_seq + 1,
    )
    assert (open_ended["checked"], open_ended["from_seq"], open_ended["to_seq"]) == (
        3,
        first_seq,
        first_seq + 2,
    )
    assert body["head_seq"] == open_ended["head_seq"] == first_seq + 2
    for empty in (before_all, after_all):
        assert (empty["ok"], empty["checked"], empty["from_seq"], empty["to_seq"]) == (
            True,
            0,
            None,
            None,
        )


# Who may call, and what is refused --------------------------------------------------------


@pytest.mark.parametrize("role", ["trader", "operations", "gateway"])
async def test_other_roles_are_refused(api: Api, role: str) -> None:
    response = await api.get("/audit/verify", role=role)
    assert response.status_code == 403, response.text


async def test_no_key_is_401(api: Api) -> None:
    response = await api.get("/audit/verify")
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"from": "2026-11-25T15:00:00"}, {"from"}),  # no offset
        ({"to": "yesterday"}, {"to"}),
        ({"from": "2026-11-26T00:00:00Z", "to": "2026-11-25T00:00:00Z"}, {"from"}),
        ({"from": "2026-11-25T00:00:00Z", "to": "2026-11-25T00:00:00Z"}, {"from"}),
        ({"drift": "perhaps"}, {"drift"}),
    ],
)  # fmt: skip
async def test_bad_values_are_422(api: Api, params: dict[str, str], fields: set[str]) -> None:
    response = await api.get("/audit/verify", role="compliance", params=params)
    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields


async def test_the_counts_rest_on_the_baseline_the_fixtures_sealed(db: Database) -> None:
    async with db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(AuditSeal))
    assert count == BASELINE_SEALS
