"""Status blocks over HTTP: the processing status marks our outbound message and rejects to
repair or cancels; holds the CSD reports put the instruction on hold by whoever holds it and
release it; every block and reason lands in the status history; message ids are unique per
sender; MT548 and MT545 as SWIFT text.

The instruction is the Bund receipt of test_status_advices_api (pending, RVP, 1,000,000 against
790,079.45 EUR), sent as an outbound message with our reference ``01KBV1X0A2S9D8F7``.
"""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.settlement.outbound.models import OutboundMessage
from tests.clearing.support import OPS
from tests.conftest import Database
from tests.positions.conftest import Adjust, line
from tests.settlement.advices.test_status_advices_api import (
    ADVICES,
    GATEWAY,
    SETTLEMENT_DAY,
    bund_receipt,
    confirmation,
    created,
    hold,
    kept,
    message,
    post,
    post_xml,
    reason,
    status_advice,
    status_history,
)
from tests.settlement.support import audit_trail, get_instruction
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.usefixtures("matched_by_advice")

SEME = "01KBV1X0A2S9D8F7"
EUROCLEAR = "MGTCBEBEECL"
MESSAGES = Path(__file__).parent / "messages"


async def sent(db: Database, instruction_id: str, reference: str = SEME, kind: str = "new") -> str:
    """Our outbound message for the instruction, as the outbound queue keeps it once sent."""
    async with db.sessionmaker() as session, session.begin():
        row = OutboundMessage(
            id=f"obm_{reference.lower()}",
            instruction_id=instruction_id,
            kind=kind,
            format="MT541",
            reference=reference,
            related_reference=None,
            content=":16R:GENL\n:20C::SEME//" + reference + "\n:16S:GENL",
            status="sent",
            status_reasons=[],
            created_at=SETTLEMENT_DAY,
            sent_at=SETTLEMENT_DAY,
            version=2,
        )
        session.add(row)
    return row.id


async def outbound(db: Database, message_id: str) -> OutboundMessage:
    async with db.sessionmaker() as session:
        found = await session.scalar(
            select(OutboundMessage).where(OutboundMessage.id == message_id)
        )
        assert found is not None
        return found


def mt(name: str, *replacements: tuple[str, str]) -> bytes:
    text = (MESSAGES / name).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


async def post_mt(api: Api, data: bytes, role: str = GATEWAY, **params: str) -> httpx.Response:
    return await api.post(
        ADVICES, content=data, params=params, headers={"Content-Type": "text/plain"}, role=role
    )


def events(history: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    return [(e["block"], e["status"], [r["code"] for r in e["reasons"]]) for e in history]


# Processing status -----------------------------------------------------------------------------


async def test_an_mt548_acknowledges_our_message_matches_and_holds_by_the_csd(
    api: Api, db: Database, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    message_id = await sent(db, si)

    body = created(await post_mt(api, mt("mt548_multi.txt")))

    assert (body["sender"], body["reference"], body["instruction_id"], body["source"]) == (
        EUROCLEAR,
        SEME,
        si,
        "MT548",
    )
    assert body["status"] == "pending"
    assert [(b["block"], b["status"]) for b in body["blocks"]] == [
        ("processing", "acknowledged"),
        ("matching", "matched"),
        ("settlement", "pending"),
    ]
    assert body["reasons"] == [
        reason("CSDH", "Held by the CSD pending review of the account"),
        reason("X042", "Account review", issuer="EUCL"),
    ]
    after = await get_instruction(api, si)
    assert (
        after["status"],
        after["held_from"],
        after["held_by"],
        after["hold_reason"],
        after["fail_reason"],
    ) == ("on_hold", "matched", "csd", "CSDH", "CSDH")
    acknowledged = await outbound(db, message_id)
    assert (acknowledged.status, acknowledged.status_reasons, acknowledged.version) == (
        "acknowledged",
        [],
        3,
    )
    assert [r.action for r in await audit_trail(db, message_id)] == ["acknowledged"]
    assert events(await status_history(api, si)) == [
        ("processing", "acknowledged", []),
        ("matching", "matched", []),
        ("settlement", "pending", ["CSDH", "X042"]),
        ("hold", "held_by_csd", ["CSDH"]),
    ]


async def test_a_rejection_sends_the_instruction_to_repair_with_the_csds_reasons(
    api: Api, db: Database, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    message_id = await sent(db, si)

    # Block 4 alone: the sender comes as a parameter.
    body = created(await post_mt(api, mt("mt548_rejected.txt"), sender="MGTCBEBE"))

    assert (body["sender"], body["status"]) == ("MGTCBEBEXXX", "rejected")
    after = await get_instruction(api, si)
    assert (after["status"], after["repair_reasons"]) == (
        "repair",
        [{"code": "SAFE", "detail": "Unknown safekeeping account"}],
    )
    rejected = await outbound(db, message_id)
    assert (rejected.status, rejected.status_reasons) == (
        "rejected",
        [{"code": "SAFE", "text": "Unknown safekeeping account"}],
    )
    # Repaired (the SSI still fits), it is pending again, to be sent again.
    repaired = await api.post(f"/settlement-instructions/{si}/enrich", role=OPS)
    assert (repaired.status_code, repaired.json()["status"]) == (200, "pending")


async def test_a_cancellation_by_the_csd_cancels_the_instruction_once(
    api: Api, db: Database, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await sent(db, si)
    cancelled = mt(
        "mt548_rejected.txt",
        (":25D::IPRC//REJT", ":25D::IPRC//CAND"),
        (":24B::REJT//SAFE", ":24B::CAND//CANS"),
    )

    first = created(await post_mt(api, cancelled, sender=EUROCLEAR))
    again = created(
        await post_mt(
            api,
            cancelled.replace(b"EB26112500870", b"EB26112500871"),
            sender=EUROCLEAR,
        )
    )

    assert first["instruction"]["status"] == again["instruction"]["status"] == "cancelled"
    assert (await get_instruction(api, si))["status"] == "cancelled"


async def test_an_xml_advice_with_every_processing_status_block(
    api: Api, db: Database, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await sent(db, si)
    pending_processing = message(
        "sese024_matched.xml",
        SEME,
        ("<AckdAccptd>", "<PdgPrcg>"),
        ("</AckdAccptd>", "</PdgPrcg>"),
        ("<MtchgSts>\n      <Mtchd/>\n    </MtchgSts>", ""),
    )

    body = created(
        await post_xml(api, pending_processing, message_id="EB-PPRC-1", sender=EUROCLEAR)
    )

    assert (body["status"], body["blocks"]) == (
        "pending_processing",
        [{"block": "processing", "status": "pending_processing", "reasons": []}],
    )
    assert (await get_instruction(api, si))["status"] == "pending"


# Holds -----------------------------------------------------------------------------------------


async def test_a_hold_the_csd_reports_ends_with_the_next_advice_without_it(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    created(await post(api, status_advice(si, "matched")))

    held = created(
        await post(
            api,
            status_advice(
                si, "pending", message_id="S-1", reasons=[{"code": "PRCY"}, {"code": "CLAC"}]
            ),
        )
    )
    released = created(
        await post(api, status_advice(si, "failing", message_id="S-2", reasons=[{"code": "LACK"}]))
    )

    assert (held["instruction"]["status"], held["instruction"]["held_by"]) == (
        "on_hold",
        "counterparty",
    )
    assert held["instruction"]["fail_reason"] == "PRCY"
    assert (
        released["instruction"]["status"],
        released["instruction"]["held_by"],
        released["instruction"]["fail_reason"],
    ) == ("matched", None, "LACK")
    assert events(await status_history(api, si))[-4:] == [
        ("settlement", "pending", ["PRCY", "CLAC"]),
        ("hold", "held_by_counterparty", ["PRCY"]),
        ("settlement", "failing", ["LACK"]),
        ("hold", "released", []),
    ]


@pytest.mark.parametrize(("code", "held_by"), [("PREA", "us"), ("CVAL", "csd"), ("CDLR", "csd")])
async def test_each_hold_reason_says_who_holds_it(
    api: Api, reference: None, code: str, held_by: str
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]

    body = created(await post(api, status_advice(si, "pending", reasons=[{"code": code}])))

    assert body["instruction"] == {
        **body["instruction"],
        "status": "on_hold",
        "held_from": "pending",
        "held_by": held_by,
        "hold_reason": code,
    }


async def test_a_hold_by_operations_is_never_released_by_an_advice(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    held = await api.post(f"/settlement-instructions/{si}/hold", role=OPS)
    assert (held.status_code, held.json()["held_by"]) == (200, "operations")

    csd_hold = created(
        await post(api, status_advice(si, "pending", message_id="S-1", reasons=[{"code": "CSDH"}]))
    )
    no_hold = created(
        await post(api, status_advice(si, "pending", message_id="S-2", reasons=[{"code": "LACK"}]))
    )

    for body in (csd_hold, no_hold):
        assert (body["instruction"]["status"], body["instruction"]["held_by"]) == (
            "on_hold",
            "operations",
        )
    released = await api.post(f"/settlement-instructions/{si}/release", role=OPS)
    assert (released.json()["status"], released.json()["held_by"]) == ("pending", None)
    assert [
        (e["block"], e["status"]) for e in await status_history(api, si) if e["block"] == "hold"
    ] == [
        ("hold", "held_by_operations"),
        ("hold", "released"),
    ]


async def test_operations_take_over_a_csd_hold(api: Api, db: Database, reference: None) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    created(
        await post(api, status_advice(si, "pending", message_id="S-1", reasons=[{"code": "CSDH"}]))
    )

    taken = await api.post(f"/settlement-instructions/{si}/hold", role=OPS)
    after = created(
        await post(api, status_advice(si, "pending", message_id="S-2", reasons=[{"code": "LACK"}]))
    )

    assert (taken.status_code, taken.json()["held_by"]) == (200, "operations")
    assert after["instruction"]["held_by"] == "operations"


async def test_a_partial_confirmation_ends_a_csd_hold_but_not_one_by_hand(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    created(
        await post(api, status_advice(si, "pending", message_id="S-1", reasons=[{"code": "CSDH"}]))
    )
    clock.set(SETTLEMENT_DAY)

    body = created(await post_xml(api, message("sese025_partial.xml", si)))

    assert (body["instruction"]["status"], body["instruction"]["held_by"]) == (
        "partially_settled",
        None,
    )
    assert events(await status_history(api, si))[-2:] == [
        ("confirmation", "partially_settled", []),
        ("hold", "released", []),
    ]


async def test_a_legacy_hold_without_an_owner_is_kept_as_one_by_hand(
    api: Api, db: Database, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await hold(db, si)

    body = created(await post(api, status_advice(si, "pending", reasons=[{"code": "LACK"}])))

    assert body["instruction"]["status"] == "on_hold"


# Reasons, senders ------------------------------------------------------------------------------


async def test_a_proprietary_reason_is_kept_as_text_and_becomes_the_fail_reason(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    proprietary = {"code": "EB-WAIT-17", "proprietary": True, "issuer": "EUCL", "text": "Queue"}

    body = created(
        await post(
            api,
            {
                "message_id": "S-1",
                "message_type": "sese.024",
                "instruction_id": si,
                "settlement": {"status": "failing", "reasons": [proprietary]},
            },
        )
    )

    assert body["reasons"] == [reason("EB-WAIT-17", "Queue", issuer="EUCL")]
    assert (await get_instruction(api, si))["fail_reason"] == "EB-WAIT-17"


async def test_message_ids_are_unique_per_sender(api: Api, db: Database, reference: None) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    advice = status_advice(si, "matched", message_id="0001")

    first = created(await post(api, {**advice, "sender": "MGTCBEBEECL"}))
    other_sender = created(await post(api, {**advice, "sender": "DAKVDEFFXXX"}))
    replay = await post(api, advice, params={"sender": "MGTCBEBEECL"})
    conflict = await post(api, {**advice, "sender": "MGTCBEBEECL", "status": "unmatched"})

    assert first["id"] != other_sender["id"]
    assert (replay.status_code, replay.json()["id"]) == (200, first["id"])
    assert conflict.status_code == 409, conflict.text


async def test_a_sender_parameter_other_than_the_messages_is_422(api: Api, reference: None) -> None:
    response = await post_mt(api, mt("mt548_multi.txt"), sender="DAKVDEFFXXX")

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "block 2",
            "message": "'MGTCBEBEECL' differs from the sender parameter 'DAKVDEFFXXX'",
        }
    ]


async def test_a_malformed_mt_is_422_naming_the_field_and_line(api: Api, db: Database) -> None:
    response = await post_mt(api, mt("mt548_multi.txt", (":25D::SETT//PEND", ":25D::SETT//PENX")))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "line 18 :25D::SETT//", "message": "'PENX' is not one of PEND, PENF"}
    ]


# Confirmations as MT ---------------------------------------------------------------------------


async def test_an_mt545_settles_part_of_the_instruction_on_its_effective_date(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await sent(db, si)
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY.replace(day=27))  # a day late: it settled on the 26th

    body = created(await post_mt(api, mt("mt545_partial.txt")))

    assert (body["status"], body["settlement_date"], body["source"]) == (
        "partially_settled",
        "2026-11-26",
        "MT545",
    )
    after = await get_instruction(api, si)
    assert (after["status"], after["settled_quantity"], after["settled_on"]) == (
        "partially_settled",
        "400000",
        "2026-11-26",
    )


async def test_an_mt545_for_an_unknown_reference_is_kept(api: Api, clock: FrozenClock) -> None:
    clock.set(SETTLEMENT_DAY)

    body = kept(await post_mt(api, mt("mt545_partial.txt")))

    assert body["exception"] == f"no instruction has the reference '{SEME}'"


async def test_one_unknown_advice_posted_twice_at_once_is_kept_once_and_replayed(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    if db.backend != "postgres":
        pytest.skip("concurrent writers: SQLite serialises them already")
    clock.set(SETTLEMENT_DAY)
    data = mt("mt545_partial.txt")

    answers = await asyncio.gather(post_mt(api, data), post_mt(api, data))

    assert sorted(a.status_code for a in answers) == [200, 202], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]


# The status history ----------------------------------------------------------------------------


async def test_the_status_history_is_for_operations_compliance_and_gateways(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    path = f"/settlement-instructions/{instruction['id']}/status-history"

    answers = {
        role: (await api.get(path, role=role)).status_code
        for role in (OPS, "compliance", GATEWAY, "trader")
    }
    unknown = await api.get("/settlement-instructions/si_unknown/status-history", role=OPS)

    assert answers == {OPS: 200, "compliance": 200, GATEWAY: 200, "trader": 403}
    assert unknown.status_code == 404


async def test_a_confirmation_in_json_may_name_our_reference(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await sent(db, si)
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY)
    body = confirmation(si, "400000", "316031.78")
    del body["instruction_id"]

    answered = created(await post(api, {**body, "reference": SEME}))

    assert (answered["instruction_id"], answered["reference"]) == (si, SEME)
