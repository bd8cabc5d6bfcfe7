"""The outbound queue over HTTP: instructions on csd markets queue their sese.023 or MT54x,
a gateway claims and reports them sent, the depository's processing status moves them, and a
cancellation or a new priority writes cancellation and replacement messages."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditRecord
from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.core.errors import NotFound
from app.settlement.outbound import service
from app.settlement.outbound.references import reference_problem
from tests.clearing.support import OPS, book_confirmed, clear
from tests.conftest import Database
from tests.settlement.outbound.support import XETRA, claim, instructed, messages_of, sent
from tests.settlement.support import demo_ssi, enrich, get_instruction, instruction_of
from tests.support import Api, FrozenClock

LCH = "R1IO4YJ0O79SMWVCHB58"
EUREX = "529900LN3S50JPU47S06"


async def record(
    db: Database, reference: str, status: str, now: datetime, reasons: list[dict[str, Any]]
) -> service.ProcessingStatus:
    async with db.sessionmaker() as session, UnitOfWork(session):
        return await service.record_processing_status(
            session,
            reference=reference,
            status=status,
            reasons=reasons,
            now=now,
            actor=SYSTEM_ACTOR,
        )


async def test_a_paris_instruction_is_queued_as_a_sese023_naming_our_reference(
    api: Api, reference: None
) -> None:
    instruction = await instructed(api)

    [message] = await messages_of(api, instruction["id"])

    assert {k: message[k] for k in ("instruction_id", "kind", "format", "status")} == {
        "instruction_id": instruction["id"],
        "kind": "new",
        "format": "sese.023.001.11",
        "status": "pending",
    }
    assert reference_problem(message["reference"]) is None
    assert len(message["reference"]) == 16
    assert (message["related_reference"], message["status_reasons"]) == (None, [])
    assert (message["claimed_at"], message["sent_at"], message["advised_at"]) == (None,) * 3
    content = message["content"]
    assert f"<BizMsgIdr>{message['reference']}</BizMsgIdr>" in content
    assert f"<TxId>{message['reference']}</TxId>" in content
    # LCH took the trade (novation): its SSI is the delivering side of our receipt.
    assert "<AnyBIC>BACPFRPP</AnyBIC>" in content
    assert "<Id>DEMO-LCH-EOCF-01</Id>" in content
    assert '<Amt Ccy="EUR">68920</Amt>' in content
    assert "<Unit>100</Unit>" in content
    assert '<Amt Ccy="EUR">689.2</Amt>' in content  # the deal price, one trade


async def test_a_xetra_instruction_is_queued_as_an_mt541(api: Api, reference: None) -> None:
    instruction = await instructed(api, **XETRA)

    [message] = await messages_of(api, instruction["id"])

    assert message["format"] == "MT541"
    assert message["content"].startswith(
        f":16R:GENL\r\n:20C::SEME//{message['reference']}\r\n:23G:NEWM\r\n"
    )
    assert ":36B::SETT//UNIT/100,\r\n" in message["content"]
    assert ":19A::SETT//EUR21235,\r\n" in message["content"]


async def test_an_internal_market_instruction_queues_nothing(api: Api, reference: None) -> None:
    trade = await book_confirmed(api)  # JPM on NYSE: settled internally
    await clear(api, trade["settlement_date"])
    instruction = await instruction_of(api, trade)

    assert await messages_of(api, instruction["id"]) == []


async def test_a_gateway_claims_then_reports_sent_and_a_repeat_changes_nothing(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    instruction = await instructed(api)
    [queued] = await messages_of(api, instruction["id"])
    early = await api.post(f"/outbound-messages/{queued['id']}/sent", role="gateway")
    assert early.status_code == 409, early.text

    [claimed] = await claim(api)
    assert (claimed["id"], claimed["status"], claimed["claimed_at"]) == (
        queued["id"],
        "claimed",
        "2026-11-25T15:00:00Z",
    )
    assert await claim(api) == []  # nothing else pending
    clock.advance(seconds=5)
    done = await sent(api, claimed["id"])
    again = await sent(api, claimed["id"])

    assert (done["status"], done["sent_at"]) == ("sent", "2026-11-25T15:00:05Z")
    assert again == done


@pytest.mark.parametrize("limit", [0, 101])
async def test_a_claim_takes_1_to_100(api: Api, reference: None, limit: int) -> None:
    response = await api.post("/outbound-messages/claim", params={"limit": limit}, role="gateway")
    assert response.status_code == 422, response.text


async def test_a_claim_older_than_the_lease_is_claimed_again(
    api: Api, db: Database, reference: None, clock: FrozenClock
) -> None:
    instruction = await instructed(api)
    [first] = await claim(api)
    clock.advance(minutes=4)
    assert await claim(api) == []  # still within the 5-minute lease
    clock.advance(minutes=2)

    [again] = await claim(api, role="operations")

    assert (again["id"], again["status"], again["claimed_at"]) == (
        first["id"],
        "claimed",
        "2026-11-25T15:06:00Z",
    )
    async with db.sessionmaker() as session:
        actions = (
            await session.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.entity_id == first["id"])
                .order_by(AuditRecord.id)
            )
        ).all()
    assert actions == ["created", "claimed", "lease_expired", "claimed"]
    assert instruction["id"] == first["instruction_id"]


async def test_the_depositorys_processing_status_moves_the_message_once(
    api: Api, db: Database, reference: None, clock: FrozenClock
) -> None:
    instruction = await instructed(api)
    [message] = await claim(api)
    await sent(api, message["id"])
    reasons = [{"code": "SAFE", "text": "unknown safekeeping account"}]
    advised = datetime(2026, 11, 25, 15, 1, tzinfo=UTC)

    first = await record(db, message["reference"], "rejected", advised, reasons)
    repeat = await record(db, message["reference"], "rejected", advised + timedelta(1), [])

    assert (first.moved, repeat.moved) == (True, False)
    [stored] = await messages_of(api, instruction["id"])
    assert (stored["status"], stored["status_reasons"], stored["advised_at"]) == (
        "rejected",
        reasons,
        "2026-11-25T15:01:00Z",
    )
    with pytest.raises(NotFound):
        await record(db, "NOSUCHREFERENCE", "acknowledged", advised, [])


async def test_cancelling_the_instruction_queues_a_sese020_for_its_message(
    api: Api, reference: None
) -> None:
    instruction = await instructed(api)

    response = await api.post(f"/settlement-instructions/{instruction['id']}/cancel", role=OPS)

    assert response.status_code == 200, response.text
    new, cancel = await messages_of(api, instruction["id"])
    assert (cancel["kind"], cancel["format"], cancel["related_reference"]) == (
        "cancel",
        "sese.020.001.07",
        new["reference"],
    )
    assert f"<TxId>{new['reference']}</TxId>" in cancel["content"]
    assert f"<BizMsgIdr>{cancel['reference']}</BizMsgIdr>" in cancel["content"]


async def test_a_new_priority_cancels_the_message_and_sends_a_replacement(
    api: Api, reference: None
) -> None:
    instruction = await instructed(api, **XETRA)

    response = await api.patch(
        f"/settlement-instructions/{instruction['id']}",
        json={"priority": 10},
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=OPS,
    )

    assert response.status_code == 200, response.text
    first, cancel, replacement = await messages_of(api, instruction["id"])
    assert [m["kind"] for m in (first, cancel, replacement)] == ["new", "cancel", "new"]
    assert cancel["format"] == replacement["format"] == "MT541"
    assert f":23G:CANC\r\n:16R:LINK\r\n:20C::PREV//{first['reference']}\r\n" in cancel["content"]
    assert ":22F::PRIR//0050\r\n" in first["content"]
    assert ":22F::PRIR//0010\r\n" in replacement["content"]


async def test_an_ssi_account_outside_the_x_set_keeps_the_instruction_in_repair(
    api: Api, reference: None
) -> None:
    ssi = await demo_ssi(api, EUREX, "XETR")
    read = await api.get(f"/ssis/{ssi['id']}", role=OPS)
    patched = await api.patch(
        f"/ssis/{ssi['id']}",
        json={"account": "ECAG_CBF#01"},
        headers={"If-Match": read.headers["etag"]},
        role=OPS,
    )
    assert patched.status_code == 200, patched.text

    instruction = await instructed(api, **XETRA)

    assert instruction["status"] == "repair"
    assert instruction["repair_reasons"] == [
        {
            "code": "NOT_INSTRUCTABLE",
            "detail": "counterparty_ssi.account: 'ECAG_CBF#01' has characters outside the "
            "SWIFT X set: '_', '#'. Fix it, then enrich again.",
        }
    ]
    assert await messages_of(api, instruction["id"]) == []

    fixed = await api.patch(
        f"/ssis/{ssi['id']}",
        json={"account": "ECAG-CBF-01"},
        headers={"If-Match": patched.headers["etag"]},
        role=OPS,
    )
    assert fixed.status_code == 200, fixed.text
    enriched = await enrich(api, instruction["id"])

    assert enriched.status_code == 200, enriched.text
    assert enriched.json()["status"] == "matched"  # Eurex's: pre-matched
    [message] = await messages_of(api, instruction["id"])
    assert ":97A::SAFE//ECAG-CBF-01\r\n" in message["content"]


async def test_messages_are_listed_filtered_and_read(api: Api, reference: None) -> None:
    paris = await instructed(api)
    xetra = await instructed(api, **XETRA)
    [claimed] = await claim(api, limit=1)  # the oldest: Paris

    def ids(response: Any) -> list[str]:
        assert response.status_code == 200, response.text
        return [m["instruction_id"] for m in response.json()["items"]]

    every = await api.get("/outbound-messages", role="compliance")
    by_status = await api.get("/outbound-messages", params={"status": "pending"}, role=OPS)
    by_format = await api.get("/outbound-messages", params={"format": "MT541"}, role="gateway")
    by_instruction = await api.get(
        "/outbound-messages", params={"instruction_id": paris["id"]}, role=OPS
    )
    one = await api.get(f"/outbound-messages/{claimed['id']}", role=OPS)
    missing = await api.get("/outbound-messages/om_nope", role=OPS)
    unknown = await api.get("/settlement-instructions/si_nope/messages", role=OPS)
    trader = await api.get("/outbound-messages", role="trader")

    assert ids(every) == [paris["id"], xetra["id"]]
    assert ids(by_status) == [xetra["id"]]
    assert ids(by_format) == [xetra["id"]]
    assert ids(by_instruction) == [paris["id"]]
    assert one.json() == claimed
    assert (missing.status_code, unknown.status_code, trader.status_code) == (404, 404, 403)
    assert (await get_instruction(api, paris["id"]))["status"] == "matched"


async def test_what_a_message_says_never_changes_as_it_moves(
    api: Api, db: Database, reference: None
) -> None:
    instruction = await instructed(api)
    [message] = await claim(api)
    await sent(api, message["id"])
    await record(db, message["reference"], "acknowledged", datetime.now(UTC), [])

    async with db.sessionmaker() as session:
        records = (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id == message["id"]))
        ).all()
    assert [r.action for r in sorted(records, key=lambda r: r.id)] == [
        "created",
        "claimed",
        "sent",
        "acknowledged",
    ]
    written = ("content", "reference", "related_reference", "instruction_id", "kind", "format")
    images = [image for r in records for image in (r.before, r.after) if image is not None]
    assert {tuple(image[k] for k in written) for image in images} == {
        (
            message["content"],
            message["reference"],
            None,
            instruction["id"],
            "new",
            "sese.023.001.11",
        )
    }


async def test_postgresql_refuses_to_rewrite_a_message(
    api: Api, db: Database, reference: None
) -> None:
    if db.backend != "postgres":
        pytest.skip("the trigger exists on PostgreSQL only")
    await instructed(api)
    [message] = await claim(api)

    for statement in (
        "UPDATE outbound_messages SET content = 'rewritten' WHERE id = :id",
        "UPDATE outbound_messages SET reference = 'OTHER' WHERE id = :id",
        "DELETE FROM outbound_messages WHERE id = :id",
    ):
        with pytest.raises(DBAPIError) as caught:
            async with db.engine.begin() as connection:
                await connection.execute(text(statement), {"id": message["id"]})
        assert getattr(caught.value.orig, "sqlstate", None) == "42501"
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE outbound_messages SET status = 'sent' WHERE id = :id"),
            {"id": message["id"]},
        )
