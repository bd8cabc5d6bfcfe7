"""Group commit of POST /trades (app/trades/capture/grouped.py): concurrent captures booked in
one transaction, each answered as it would be alone. Grouping is PostgreSQL's (on SQLite every
request goes alone): the same answers are checked on both."""

import asyncio
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.trades.capture import service
from app.trades.capture.service import NewTrade
from tests.conftest import Database
from tests.factories import JPM, trade_out, trade_payload
from tests.reference.factories import book_payload
from tests.support import Api, seal
from tests.trades.confirmations.factories import confirm, confirmation_payload

API = "/api/v1"


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each group booked (``service.capture_group`` spied on)."""
    sizes: list[int] = []
    real = service.capture_group

    async def spy(session: Any, trades: Sequence[NewTrade], **kw: Any) -> Any:
        sizes.append(len(trades))
        return await real(session, trades, **kw)

    monkeypatch.setattr(service, "capture_group", spy)
    return sizes


@pytest.fixture(params=[True, False], ids=["grouped", "alone"])
def grouping(request: pytest.FixtureRequest, app: Any) -> Iterator[bool]:
    settings = app.state.settings
    was = settings.trade_capture_grouping
    settings.trade_capture_grouping = request.param
    yield request.param
    settings.trade_capture_grouping = was


async def post_all(api: Api, payloads: Sequence[dict[str, Any]], **kw: Any) -> list[httpx.Response]:
    headers: list[dict[str, str]] = kw.get("headers") or [{} for _ in payloads]
    return await asyncio.gather(
        *(
            api.post("/trades", json=p, role="trader", headers=h)
            for p, h in zip(payloads, headers, strict=True)
        )
    )


def expected_body(payload: dict[str, Any], trade_id: str) -> dict[str, Any]:
    """``trade_out`` of an equity ``trade_payload`` (JPM at 189.25, charges 1.52)."""
    gross = Decimal(payload["quantity"]) * Decimal("189.25")
    net = gross + Decimal("1.52") if payload["side"] == "buy" else gross - Decimal("1.52")
    return trade_out(payload, trade_id, gross_amount=f"{gross:.2f}", net_amount=f"{net:.2f}")


def payloads(count: int) -> list[dict[str, Any]]:
    return [
        trade_payload(quantity=str(100 + i), side="buy" if i % 3 else "sell") for i in range(count)
    ]


def assert_grouped(db: Database, groups: list[int], *, members: int | None = None) -> None:
    """Groups of more than one formed (of ``members`` in all), on PostgreSQL; none on SQLite."""
    if db.backend == "sqlite" or members == 0:
        assert groups == []
        return
    assert max(groups) > 1, groups
    if members is not None:
        assert sum(groups) == members, groups


async def journal_entries_per_trade(db: Database) -> dict[str, int]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT source_id, count(*) FROM journal_entries "
                "WHERE source_type = 'trade' GROUP BY source_id"
            )
        )
        return {str(source_id): int(count) for source_id, count in rows}


async def assert_booked_once(api: Api, db: Database, trade_ids: set[str]) -> None:
    listed = await api.get("/trades?limit=200", role="trader")
    assert {t["id"] for t in listed.json()["items"]} == trade_ids
    assert await journal_entries_per_trade(db) == dict.fromkeys(trade_ids, 1)
    check = (await api.get("/ledger/check", role="operations")).json()
    assert (check["ok"], check["first_bad_entry_id"]) == (True, None), check


async def test_concurrent_posts_get_the_answers_they_get_alone(
    api: Api, db: Database, reference: None, grouping: bool, groups: list[int]
) -> None:
    sent = payloads(20)
    answers = await post_all(api, sent)

    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    for payload, answer in zip(sent, answers, strict=True):
        body = answer.json()
        assert body == expected_body(payload, body["id"])
        assert answer.headers["location"] == f"/api/v1/trades/{body['id']}"
        assert "idempotent-replayed" not in answer.headers
    await assert_booked_once(api, db, {a.json()["id"] for a in answers})
    position = (await api.get(f"/positions?book=EQ-FLOW&isin={JPM}", role="trader")).json()
    signed = sum(Decimal(p["quantity"]) * (1 if p["side"] == "buy" else -1) for p in sent)
    assert [Decimal(p["quantity"]) for p in position["items"]] == [signed]
    assert_grouped(db, groups, members=20 if grouping else 0)


async def test_a_duplicate_external_id_in_one_group_is_409_naming_the_first(
    api: Api, db: Database, reference: None, groups: list[int]
) -> None:
    sent = payloads(6)
    twin = {**sent[3], "quantity": "999"}
    answers = await post_all(api, [*sent, twin])

    assert_grouped(db, groups)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 6 + [409]
    winner, loser = sorted((answers[3], answers[6]), key=lambda a: a.status_code)
    assert loser.json()["trade_id"] == winner.json()["id"]
    booked_as = f"is already booked in EQ-FLOW as {winner.json()['id']}."
    assert loser.json()["detail"] == f"external_id '{twin['external_id']}' {booked_as}"
    await assert_booked_once(api, db, {a.json()["id"] for a in answers if a.status_code == 201})


async def test_an_invalid_member_is_422_and_the_others_are_booked(
    api: Api, db: Database, reference: None, groups: list[int]
) -> None:
    sent = payloads(8)
    sent[2] = {**sent[2], "venue": "ZZZZ"}
    answers = await post_all(api, sent)

    assert [a.status_code for a in answers] == [201, 201, 422, 201, 201, 201, 201, 201]
    assert answers[2].json()["errors"] == [
        {"field": "venue", "message": "market 'ZZZZ' is not known"}
    ]
    assert_grouped(db, groups, members=7)
    await assert_booked_once(api, db, {a.json()["id"] for a in answers if a.status_code == 201})


async def test_a_failed_group_falls_back_to_each_request_alone(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.capture_group
    failed: list[int] = []

    async def fail_after_writing(session: Any, trades: Sequence[NewTrade], **kw: Any) -> Any:
        await real(session, trades, **kw)  # everything written, then lost with the rollback
        failed.append(len(trades))
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(service, "capture_group", fail_after_writing)
    sent = payloads(10)
    answers = await post_all(api, sent, headers=[{"Idempotency-Key": f"k-{i}"} for i in range(10)])

    assert sum(failed) == (10 if db.backend == "postgres" else 0)
    assert [a.status_code for a in answers] == [201] * 10
    for payload, answer in zip(sent, answers, strict=True):
        assert answer.json() == expected_body(payload, answer.json()["id"])
        assert "idempotent-replayed" not in answer.headers
    await assert_booked_once(api, db, {a.json()["id"] for a in answers})


async def test_a_key_repeated_in_one_group_books_one_trade_and_replays(
    api: Api, db: Database, reference: None, groups: list[int]
) -> None:
    sent = payloads(8)
    booked = (await api.post("/trades", json=sent[7], role="trader")).json()
    again = {**sent[7], "quantity": "7"}  # its external_id is booked: 409 under key "r-2"
    keyed = [*sent[:4], sent[4], sent[4], sent[5], sent[4], again]
    keys = [None, None, None, None, "r-1", "r-1", None, "r-1", "r-2"]
    headers = [{"Idempotency-Key": k} if k else {} for k in keys]
    answers = await post_all(api, keyed, headers=headers)

    assert_grouped(db, groups)
    assert [a.status_code for a in answers] == [201] * 8 + [409]
    assert answers[8].json()["trade_id"] == booked["id"]
    repeats = [answers[4], answers[5], answers[7]]
    first = repeats[0].json()
    assert [r.json() for r in repeats] == [expected_body(sent[4], first["id"])] * 3
    replayed = sorted(str(r.headers.get("idempotent-replayed")) for r in repeats)
    assert replayed == ["None", "true", "true"]
    assert {r.headers["location"] for r in repeats} == {f"/api/v1/trades/{first['id']}"}
    # The refused request left its key free: another body under it is booked, not a 422.
    retry = await api.post(
        "/trades", json=sent[6], role="trader", headers={"Idempotency-Key": "r-2"}
    )
    assert retry.status_code == 201, retry.text
    ids = {a.json()["id"] for a in answers[:8]} | {booked["id"], retry.json()["id"]}
    assert len(ids) == 8
    await assert_booked_once(api, db, ids)


async def test_a_member_that_matches_an_alleged_confirmation_answers_and_replays_it_confirmed(
    api: Api, db: Database, reference: None, groups: list[int]
) -> None:
    alleged = await confirm(api, confirmation_payload())  # Goldman's view of trade_payload()
    sent = [trade_payload(), *payloads(5)]
    headers = [{"Idempotency-Key": f"m-{i}"} for i in range(len(sent))]
    answers = await post_all(api, sent, headers=headers)

    assert_grouped(db, groups, members=6)
    assert [a.status_code for a in answers] == [201] * 6
    matched = answers[0].json()
    assert (matched["status"], matched["version"]) == ("confirmed", 2)
    assert [(a.json()["status"], a.json()["version"]) for a in answers[1:]] == [("captured", 1)] * 5
    replay = await api.post("/trades", json=sent[0], role="trader", headers=headers[0])
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (201, "true")
    assert replay.json() == matched
    confirmation = (await api.get(f"/confirmations/{alleged['id']}", role="operations")).json()
    assert (confirmation["status"], confirmation["trade_id"]) == ("matched", matched["id"])


async def test_each_audit_record_carries_its_own_request_id(
    api: Api, db: Database, reference: None, groups: list[int]
) -> None:
    sent = payloads(12)
    headers = [{"X-Request-ID": f"req-group-{i}"} for i in range(12)]
    answers = await post_all(api, sent, headers=headers)

    assert_grouped(db, groups)
    await seal(db.sessionmaker)
    response = await api.get("/audit/events?entity_type=trade&limit=1000", role="compliance")
    captured = {
        item["entity_id"]: item["request_id"]
        for item in response.json()["items"]
        if item["action"] == "captured"
    }
    assert captured == {a.json()["id"]: f"req-group-{i}" for i, a in enumerate(answers)}


async def test_a_request_cancelled_by_its_client_does_not_break_its_group(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = payloads(8)
    tasks = [asyncio.create_task(api.post("/trades", json=p, role="trader")) for p in sent]
    real = service.capture_group

    async def cancel_one_first(session: Any, trades: Sequence[NewTrade], **kw: Any) -> Any:
        if not tasks[5].done():
            tasks[5].cancel()  # waiting in a group, queued, or not yet there
            await asyncio.sleep(0)
        return await real(session, trades, **kw)

    monkeypatch.setattr(service, "capture_group", cancel_one_first)
    answers = await asyncio.gather(*tasks, return_exceptions=True)

    others = [a for i, a in enumerate(answers) if i != 5]
    assert [a.status_code for a in others if isinstance(a, httpx.Response)] == [201] * 7
    listed = (await api.get("/trades?limit=200", role="trader")).json()["items"]
    booked = {t["external_id"] for t in listed}
    assert {p["external_id"] for i, p in enumerate(sent) if i != 5} <= booked
    if db.backend == "postgres":
        assert isinstance(answers[5], asyncio.CancelledError)
    ids = {t["id"] for t in listed}
    assert len(ids) in (7, 8)
    await assert_booked_once(api, db, ids)


async def test_trades_of_two_api_keys_in_one_group_are_booked_each_by_its_own(
    api: Api, db: Database, reference: None, groups: list[int]
) -> None:
    issued = await api.post(
        "/api-keys", json={"name": "Second desk", "role": "trader"}, role="admin"
    )
    assert issued.status_code == 201, issued.text
    second = {"Authorization": f"Bearer {issued.json()['key']}"}
    sent = payloads(12)
    answers = await asyncio.gather(
        *(
            api.post("/trades", json=p, headers=second)
            if i % 2
            else api.post("/trades", json=p, role="trader")
            for i, p in enumerate(sent)
        )
    )

    assert [a.status_code for a in answers] == [201] * 12
    assert_grouped(db, groups, members=12)
    async with db.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT t.external_id, t.created_by, e.created_by FROM trades t "
                "JOIN journal_entries e ON e.source_type = 'trade' AND e.source_id = t.id"
            )
        )
        booked_by = {external_id: (trade, entry) for external_id, trade, entry in rows}
    assert sorted(booked_by) == sorted(p["external_id"] for p in sent)
    assert all(trade == entry for trade, entry in booked_by.values())
    keys = [booked_by[p["external_id"]][0] for p in sent]
    assert keys[0] != keys[1]
    assert keys == [keys[i % 2] for i in range(12)]
    assert keys[1] == issued.json()["id"]
    await assert_booked_once(api, db, {a.json()["id"] for a in answers})


async def test_a_book_added_is_known_to_the_next_capture_at_once(
    api: Api, reference: None, grouping: bool
) -> None:
    # Grouped, the reference data's token is read outside the request's session
    # (load_reference_fresh): still after the request came.
    payload = trade_payload(book="EM-CREDIT")
    refused = await api.post("/trades", json=payload, role="trader")
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "book", "message": "book 'EM-CREDIT' is not known"}
    ]

    assert (await api.post("/books", json=book_payload(), role="operations")).status_code == 201
    booked = await api.post("/trades", json=payload, role="trader")

    assert booked.status_code == 201, booked.text
    assert booked.json()["book"] == "EM-CREDIT"
