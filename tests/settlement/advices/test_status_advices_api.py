"""Status advices over HTTP: the CSD's sese.024 moves the matching state or records why an
instruction fails; its sese.025 posts what settled, part by part; JSON and ISO 20022 XML alike.
Whatever is refused changes nothing.

The instruction, unless a test says otherwise, is our gross receipt of 1,000,000 Bund from
Goldman (netting none) at Euroclear Bank: RVP, 790,079.45 EUR paid (785,000.00 at 78.50 % plus
5,079.45 accrued), due 2026-11-26, `pending` after clearing (bilateral: the CSD matches it).
Confirmed in two parts: 400,000 against 316,031.78 (790,079.45 x 0.4), then 600,000 against
the remaining 474,047.67 (790,079.45 - 316,031.78).
"""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.positions.journal.models import JournalEntry
from app.settlement.advices.models import StatusAdvice
from app.settlement.instructions.models import SettlementInstruction
from tests.clearing.support import NSCC, OAT, OPS, book_confirmed, clear, instructions, trade
from tests.conftest import Database
from tests.factories import BUND, GOLDMAN
from tests.positions.conftest import Adjust, cash_balances, ledger_check, line, positions
from tests.settlement.support import (
    audit_trail,
    book_and_clear,
    bund,
    get_instruction,
    instruction_of,
    outbox,
)
from tests.support import Api, FrozenClock, problem_fields

# Bilateral Bund instructions wait in `pending` for the CSD's sese.024 (the demo's off-venue
# market would match them itself).
pytestmark = pytest.mark.usefixtures("matched_by_advice")

ADVICES = "/status-advices"
GATEWAY = "gateway"
MESSAGES = Path(__file__).parent / "messages"
SAMPLE_INSTRUCTION = "si_01kbv1x0a2s9d8f7g6h5j4k3m2"  # the samples' AcctOwnrTxId
ADVICE_ID = re.compile(r"^adv_[0-9a-z]{26}$")
RECEIVED_AT = "2026-11-25T15:00:00Z"  # the frozen clock
SETTLEMENT_DAY = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
SETTLED_AT = "2026-11-26T16:00:00Z"
PROBLEMS = "https://settlement.example/problems/"
QTY = "SctiesSttlmTxConf/QtyAndAcctDtls/SttldQty/Qty/FaceAmt"


# Building and sending advices ------------------------------------------------------------------


async def status_history(api: Api, instruction_id: str) -> list[dict[str, Any]]:
    response = await api.get(
        f"/settlement-instructions/{instruction_id}/status-history",
        params={"limit": 200},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def status_advice(instruction_id: str, status: str, **fields: Any) -> dict[str, Any]:
    return {
        "message_id": f"EB-STS-{status}",
        "message_type": "sese.024",
        "instruction_id": instruction_id,
        "status": status,
        **fields,
    }


def confirmation(instruction_id: str, quantity: str, amount: str, **fields: Any) -> dict[str, Any]:
    return {
        "message_id": f"EB-CNF-{quantity}",
        "message_type": "sese.025",
        "instruction_id": instruction_id,
        "settled_quantity": quantity,
        "settled_amount": amount,
        "settlement_date": "2026-11-26",
        **fields,
    }


def message(name: str, instruction_id: str, *replacements: tuple[str, str]) -> bytes:
    """A sample XML message about our instruction, with ``replacements`` made."""
    text = (MESSAGES / name).read_text(encoding="utf-8").replace(SAMPLE_INSTRUCTION, instruction_id)
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


async def post(
    api: Api, body: dict[str, Any], role: str = GATEWAY, **kwargs: Any
) -> httpx.Response:
    return await api.post(ADVICES, json=body, role=role, **kwargs)


async def post_xml(api: Api, data: bytes, role: str = GATEWAY, **params: str) -> httpx.Response:
    return await api.post(
        ADVICES,
        content=data,
        params=params,
        headers={"Content-Type": "application/xml"},
        role=role,
    )


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert ADVICE_ID.match(body["id"])
    assert response.headers["location"] == f"/api/v1{ADVICES}/{body['id']}"
    return body


def the_instruction(
    instruction_id: str,
    status: str,
    settled_quantity: str = "0",
    settled_amount: str = "0",
    fail_reason: str | None = None,
    held_from: str | None = None,
    held_by: str | None = None,
    hold_reason: str | None = None,
) -> dict[str, Any]:
    """The ``instruction`` of an advice answer."""
    return {
        "id": instruction_id,
        "status": status,
        "held_from": held_from,
        "held_by": held_by,
        "hold_reason": hold_reason,
        "settled_quantity": settled_quantity,
        "settled_amount": settled_amount,
        "fail_reason": fail_reason,
    }


def reason(code: str, text: str | None = None, issuer: str | None = None) -> dict[str, Any]:
    """A reason as answered: ISO, or proprietary when it has an issuer."""
    return {"code": code, "text": text, "proprietary": issuer is not None, "issuer": issuer}


def state(instruction: dict[str, Any]) -> tuple[Any, ...]:
    return (
        instruction["status"],
        instruction["settled_quantity"],
        instruction["settled_amount"],
        instruction["fail_reason"],
    )


# The instructions ------------------------------------------------------------------------------


async def bund_receipt(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our Bund buy from Goldman, cleared: the trade and its pending instruction."""
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    instruction = await instruction_of(api, booked)
    assert (
        instruction["status"],
        instruction["delivery_type"],
        instruction["quantity"],
        instruction["amount"],
        instruction["credit_debit"],
        instruction["intended_settlement_date"],
    ) == ("pending", "RVP", "1000000", "790079.45", "DBIT", "2026-11-26")
    return booked, instruction


async def counts(db: Database) -> tuple[int, int]:
    """Journal entries and status advices: what a refused advice must not add to."""
    async with db.sessionmaker() as session:
        entries = await session.scalar(select(func.count()).select_from(JournalEntry))
        advices = await session.scalar(select(func.count()).select_from(StatusAdvice))
    return int(entries or 0), int(advices or 0)


async def hold(db: Database, instruction_id: str) -> None:
    """Park the instruction as a hold does (status on_hold, the state it was in kept)."""
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(SettlementInstruction)
            .where(SettlementInstruction.id == instruction_id)
            .values(held_from=SettlementInstruction.status, status="on_hold")
        )


# sese.024 --------------------------------------------------------------------------------------


async def test_a_matched_advice_moves_a_pending_instruction_to_matched_and_a_run_settles_it(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    booked, instruction = await bund_receipt(api)
    si = instruction["id"]

    response = await post(api, status_advice(si, "matched", message_id="EB-20261125-000871"))

    body = created(response)
    assert body == {
        "id": body["id"],
        "message_id": "EB-20261125-000871",
        "sender": body["sender"],
        "message_type": "sese.024",
        "reference": si,
        "instruction_id": si,
        "status": "matched",
        "reasons": [],
        "blocks": [{"block": "matching", "status": "matched", "reasons": []}],
        "settled_quantity": None,
        "settled_amount": None,
        "settlement_date": None,
        "source": "json",
        "received_at": RECEIVED_AT,
        "exception": None,
        "resolution": None,
        "instruction": the_instruction(si, "matched"),
    }
    # JSON without a sender: the API key's id is the sender.
    async with db.sessionmaker() as session:
        row = await session.get(StatusAdvice, body["id"])
        assert row is not None
        assert body["sender"] == row.received_by
    after = await get_instruction(api, si)
    assert (after["status"], after["version"], after["updated_at"]) == ("matched", 2, RECEIVED_AT)

    await adjust("opening", line("CASH-EUR", "EUR", "790079.45"))
    clock.set(SETTLEMENT_DAY)
    run = await api.post(
        "/settlement-runs",
        json={"settlement_date": "2026-11-26"},
        params={"wait": "true"},
        role=OPS,
    )
    assert run.status_code == 200, run.text
    assert run.json()["settled"] == 1
    assert state(await get_instruction(api, si)) == ("settled", "1000000", "790079.45", None)
    assert (await trade(api, booked["id"]))["status"] == "settled"


async def test_the_xml_matched_advice_does_the_same(api: Api, reference: None) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]

    response = await post_xml(
        api, message("sese024_matched.xml", si), message_id="EB-20261125-000871"
    )

    body = created(response)
    assert (body["message_id"], body["status"], body["source"]) == (
        "EB-20261125-000871",
        "matched",
        "sese.024.001.13",
    )
    assert body["instruction"] == the_instruction(si, "matched")
    assert (await get_instruction(api, si))["status"] == "matched"


async def test_an_unmatched_advice_keeps_it_pending_with_cmis_and_the_reasons_on_the_advice(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]

    response = await post_xml(api, message("sese024_unmatched.xml", si))

    body = created(response)
    assert (body["message_id"], body["status"], body["source"]) == (
        "EB-20261125-000872",
        "unmatched",
        "sese.024.001.12",
    )
    reasons = [reason("DQUA", "Counterparty instructs 990000"), reason("DDEA")]
    assert body["reasons"] == reasons
    assert body["sender"] == "MGTCBEBEECL"
    assert body["blocks"] == [
        {"block": "matching", "status": "unmatched", "reasons": reasons},
        {"block": "settlement", "status": "pending", "reasons": []},
    ]
    assert body["instruction"] == the_instruction(si, "pending", fail_reason="CMIS")
    after = await get_instruction(api, si)
    assert (after["status"], after["fail_reason"], after["version"]) == ("pending", "CMIS", 2)
    listed = await api.get(ADVICES, params={"instruction_id": si}, role="compliance")
    assert listed.status_code == 200, listed.text
    assert [(a["id"], a["reasons"]) for a in listed.json()["items"]] == [(body["id"], reasons)]


async def test_a_ccp_instruction_unmatched_returns_to_pending_and_matched_again_clears_cmis(
    api: Api, reference: None
) -> None:
    await book_confirmed(api, counterparty_lei=NSCC, commission="0", fees="0")
    await clear(api, "2026-11-25")
    [instruction] = await instructions(api)
    si = instruction["id"]
    assert instruction["status"] == "matched"

    unmatched = created(await post(api, status_advice(si, "unmatched", reasons=[{"code": "DSEC"}])))
    matched = created(await post(api, status_advice(si, "matched")))

    assert unmatched["instruction"] == the_instruction(si, "pending", fail_reason="CMIS")
    assert matched["instruction"] == the_instruction(si, "matched")
    assert state(await get_instruction(api, si)) == ("matched", "0", "0", None)


async def test_a_failing_advice_sets_the_fail_reason_and_its_match(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]

    response = await post_xml(
        api, message("sese024_failing.xml", si), message_id="EB-20261126-000113"
    )

    body = created(response)
    assert (body["status"], body["reasons"]) == (
        "failing",
        [reason("LACK", "Insufficient securities of the deliverer")],
    )
    # Mtchd came with the failing status: the pending instruction is matched as well.
    assert body["instruction"] == the_instruction(si, "matched", fail_reason="LACK")
    assert state(await get_instruction(api, si)) == ("matched", "0", "0", "LACK")


async def test_a_pending_advice_with_a_reason_changes_only_the_fail_reason(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]

    body = created(
        await post(api, status_advice(si, "pending", reasons=[{"code": "CLAC"}, {"code": "MONY"}]))
    )

    assert body["instruction"] == the_instruction(si, "pending", fail_reason="CLAC")


# sese.025 --------------------------------------------------------------------------------------


async def test_a_partial_then_the_final_confirmation_settle_it_in_two_parts(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    booked, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY)

    first = created(await post_xml(api, message("sese025_partial.xml", si)))

    assert first == {
        "id": first["id"],
        "message_id": "EB-20261126-004410",
        "sender": "MGTCBEBEECL",
        "message_type": "sese.025",
        "reference": si,
        "instruction_id": si,
        "status": "partially_settled",
        "reasons": [],
        "blocks": [],
        "settled_quantity": "400000",
        "settled_amount": "316031.78",
        "settlement_date": "2026-11-26",
        "source": "sese.025.001.12",
        "received_at": SETTLED_AT,
        "exception": None,
        "resolution": None,
        "instruction": the_instruction(si, "partially_settled", "400000", "316031.78"),
    }
    assert (await trade(api, booked["id"]))["status"] == "partially_settled"
    [held] = await positions(api, basis="settlement_date", isin=BUND)
    assert (held["account"], held["quantity"]) == ("SEC-EB", "400000")
    [cash] = await cash_balances(api, account="CASH-EUR")
    assert cash["settled"] == "483968.22"  # 800,000.00 - 316,031.78

    final = created(
        await post_xml(api, message("sese025_final.xml", si), message_id="EB-20261126-004977")
    )

    assert (final["status"], final["settled_quantity"], final["settled_amount"]) == (
        "settled",
        "600000",
        "474047.67",
    )
    assert final["instruction"] == the_instruction(si, "settled", "1000000", "790079.45")
    after = await get_instruction(api, si)
    assert state(after) == ("settled", "1000000", "790079.45", None)
    assert after["version"] == 3
    assert (await trade(api, booked["id"]))["status"] == "settled"
    [held] = await positions(api, basis="settlement_date", isin=BUND)
    assert (held["account"], held["quantity"]) == ("SEC-EB", "1000000")
    [cash] = await cash_balances(api, account="CASH-EUR")
    assert cash["settled"] == "9920.55"  # 800,000.00 - 790,079.45
    assert (await ledger_check(api))["ok"] is True
    # The trade, the opening cash, then one settlement entry per confirmation.
    assert await counts(db) == (4, 2)
    trail = [(r.action, r.actor_role) for r in await audit_trail(db, si)]
    assert trail[-2:] == [("partially_settled", GATEWAY), ("settled", GATEWAY)]
    events = [e.event_type for e in await outbox(db, si)]
    assert events[-2:] == [
        "settlement_instruction.partially_settled",
        "settlement_instruction.settled",
    ]
    assert [r.action for r in await audit_trail(db, first["id"])] == ["received"]

    # Settled: a late failing status no longer applies.
    late = await post(api, status_advice(si, "failing", reasons=[{"code": "LACK"}]))
    assert late.status_code == 409, late.text
    assert late.json()["type"] == PROBLEMS + "invalid-transition"


async def test_a_confirmation_of_a_sale_receives_the_cash(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    # Selling the Bund: DVP, 790,079.45 EUR received for 1,000,000 delivered in one go.
    await adjust(
        "opening",
        line("SEC-EB", BUND, "1000000"),
        line("book:FI-RATES", BUND, "-1000000", cost="785000.00"),
    )
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN, side="sell"))
    si = (await instruction_of(api, booked))["id"]
    clock.set(SETTLEMENT_DAY)

    body = created(
        await post(
            api,
            confirmation(
                si,
                "1000000",
                "790079.45",
                credit_debit="CRDT",
                securities_movement="DELI",
                payment="APMT",
            ),
        )
    )

    assert body["instruction"] == the_instruction(si, "settled", "1000000", "790079.45")
    [held] = await positions(api, basis="settlement_date", isin=BUND)
    assert (held["account"], held["quantity"]) == ("SEC-EB", "0")
    [cash] = await cash_balances(api, account="CASH-EUR")
    assert cash["settled"] == "790079.45"
    assert (await ledger_check(api))["ok"] is True


# The same message again ------------------------------------------------------------------------


async def test_the_same_message_again_answers_its_first_result_and_changes_nothing(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY)
    first = await post_xml(api, message("sese025_partial.xml", si))
    assert first.status_code == 201, first.text
    before = (await get_instruction(api, si), await counts(db))
    clock.advance(minutes=5)

    again = await post_xml(api, message("sese025_partial.xml", si))

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert (await get_instruction(api, si), await counts(db)) == before


async def test_the_same_message_id_with_other_content_is_409_and_changes_nothing(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY)
    first = created(await post_xml(api, message("sese025_partial.xml", si)))
    before = (await get_instruction(api, si), await counts(db))

    response = await post(
        api,
        confirmation(
            si, "500000", "395039.73", message_id="EB-20261126-004410", sender="MGTCBEBEECL"
        ),
    )

    assert response.status_code == 409, response.text
    assert response.json()["advice_id"] == first["id"]
    assert (await get_instruction(api, si), await counts(db)) == before


async def test_an_idempotency_key_replays_the_first_answer(api: Api, reference: None) -> None:
    _, instruction = await bund_receipt(api)
    body = status_advice(instruction["id"], "matched")
    headers = {"Idempotency-Key": "gw-0001"}

    first = await post(api, body, headers=headers)
    again = await post(api, body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


# Refused: nothing changes ----------------------------------------------------------------------


async def exceptions(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(f"{ADVICES}/exceptions", params=params, role=OPS)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def kept(response: httpx.Response) -> dict[str, Any]:
    """Kept as an exception: 202, nothing applied."""
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "exception"
    assert response.headers["location"] == f"/api/v1{ADVICES}/{body['id']}"
    return body


async def test_more_than_is_left_is_kept_as_an_exception_and_never_applied(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY)
    created(await post_xml(api, message("sese025_partial.xml", si)))
    before = await get_instruction(api, si)
    entries, advices = await counts(db)

    as_json = kept(await post(api, confirmation(si, "600001", "474047.67")))
    as_xml = kept(
        await post_xml(
            api,
            message(
                "sese025_final.xml",
                si,
                ("<FaceAmt>600000</FaceAmt>\n        </Qty>", "<FaceAmt>700000</FaceAmt></Qty>"),
                ('<Amt Ccy="EUR">474047.67</Amt>', '<Amt Ccy="EUR">474047.68</Amt>'),
            ),
            message_id="EB-20261126-004977",
        )
    )
    again = await post(api, confirmation(si, "600001", "474047.67"))

    assert as_json["exception"] == "settled_quantity: 600001 is more than the 600000 left to settle"
    assert as_xml["exception"] == (
        f"{QTY}: 700000 is more than the 600000 left to settle; "
        "SctiesSttlmTxConf/SttldAmt/Amt: 474047.68 is more than the 474047.67 left to settle"
    )
    assert as_json["instruction"] == the_instruction(si, "partially_settled", "400000", "316031.78")
    # Never applied twice: the same message again answers the exception (200, as replays do).
    assert again.status_code == 200, again.text
    assert again.json() == as_json
    assert await get_instruction(api, si) == before
    assert await counts(db) == (entries, advices + 2)
    listed = await exceptions(api)
    assert [e["id"] for e in listed] == [as_json["id"], as_xml["id"]]
    history = await status_history(api, si)
    assert [(e["block"], e["status"], e["advice_id"]) for e in history][-2:] == [
        ("confirmation", "exception", as_json["id"]),
        ("confirmation", "exception", as_xml["id"]),
    ]


async def test_a_confirmation_for_an_unknown_reference_is_kept_and_operations_resolve_it(
    api: Api, clock: FrozenClock, db: Database
) -> None:
    clock.set(SETTLEMENT_DAY)

    response = await post_xml(api, message("sese025_partial.xml", "0123456789ABCDEF"))

    body = kept(response)
    assert (body["reference"], body["instruction_id"], body["instruction"], body["sender"]) == (
        "0123456789ABCDEF",
        None,
        None,
        "MGTCBEBEECL",
    )
    assert body["exception"] == "no instruction has the reference '0123456789ABCDEF'"
    assert await counts(db) == (0, 1)
    compliance = await api.get(f"{ADVICES}/exceptions", role="compliance")
    assert [e["id"] for e in compliance.json()["items"]] == [body["id"]]

    resolved = await api.post(
        f"{ADVICES}/{body['id']}/resolve",
        json={"comment": "Not ours: returned to the CSD"},
        role=OPS,
    )
    twice = await api.post(f"{ADVICES}/{body['id']}/resolve", json={"comment": "x"}, role=OPS)
    by_compliance = await api.post(
        f"{ADVICES}/{body['id']}/resolve", json={"comment": "x"}, role="compliance"
    )

    assert resolved.status_code == 200, resolved.text
    out = resolved.json()
    assert (out["status"], out["resolution"]["comment"], out["resolution"]["resolved_at"]) == (
        "resolved",
        "Not ours: returned to the CSD",
        SETTLED_AT,
    )
    assert (twice.status_code, by_compliance.status_code) == (409, 403)
    assert await exceptions(api) == []
    assert [e["id"] for e in await exceptions(api, resolved="true")] == [body["id"]]
    assert [r.action for r in await audit_trail(db, body["id"])] == ["received", "resolved"]
    # The message again: still never applied, it answers what it became.
    replay = await post_xml(api, message("sese025_partial.xml", "0123456789ABCDEF"))
    assert (replay.status_code, replay.json()["status"]) == (200, "resolved")


async def test_a_status_advice_for_an_unknown_reference_is_kept_as_json_and_as_xml(
    api: Api, db: Database
) -> None:
    as_json = kept(await post(api, status_advice("si_unknown", "matched")))
    as_xml = kept(await post_xml(api, message("sese024_unmatched.xml", "si_unknown")))

    assert (as_json["instruction_id"], as_json["reference"]) == (None, "si_unknown")
    assert as_xml["exception"] == "no instruction has the reference 'si_unknown'"
    assert await counts(db) == (0, 2)


@pytest.mark.parametrize(
    ("quantity", "amount", "partial", "exception"),
    [
        (
            "1000000",
            "790079.45",
            True,
            "partial: says more is to come, but this settles everything that is left",
        ),
        (
            "400000",
            "316031.78",
            False,
            "partial: says this is the last part, but 600000 quantity, 474047.67 amount would "
            "be left",
        ),
        (
            "1000000",
            "316031.78",
            None,
            "settled_quantity: settles all that is left of it while the rest of the "
            "instruction stays open",
        ),
    ],
)
async def test_a_confirmation_that_does_not_add_up_is_kept_as_an_exception(
    api: Api,
    reference: None,
    clock: FrozenClock,
    db: Database,
    quantity: str,
    amount: str,
    partial: bool | None,
    exception: str,
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    clock.set(SETTLEMENT_DAY)
    before = await get_instruction(api, si)

    body = kept(await post(api, confirmation(si, quantity, amount, partial=partial)))

    assert body["exception"] == exception
    assert await get_instruction(api, si) == before
    assert await counts(db) == (1, 1)  # the trade's entry; the advice kept


async def test_a_confirmation_of_a_settled_instruction_is_kept_as_an_exception(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    clock.set(SETTLEMENT_DAY)
    created(await post(api, confirmation(si, "1000000", "790079.45")))

    body = kept(await post(api, confirmation(si, "1", "0.79", message_id="EB-CNF-late")))

    assert body["exception"] == "the instruction is settled: nothing of it is pending at the CSD"


async def test_more_decimals_than_the_currency_has_is_422(
    api: Api, reference: None, clock: FrozenClock, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    clock.set(SETTLEMENT_DAY)
    before = (await get_instruction(api, si), await counts(db))

    response = await post(api, confirmation(si, "400000", "316031.785"))

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "settled_amount", "message": "has 3 decimal places; EUR has 2"}
    ]
    assert (await get_instruction(api, si), await counts(db)) == before


async def test_a_settlement_date_not_yet_come_is_422(
    api: Api, reference: None, db: Database
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    before = (await get_instruction(api, si), await counts(db))

    response = await post(api, confirmation(si, "400000", "316031.78"))

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "settlement_date", "message": "2026-11-26 has not come yet (today is 2026-11-25)"}
    ]
    assert (await get_instruction(api, si), await counts(db)) == before


async def test_terms_other_than_the_instructions_are_422(api: Api, reference: None) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]

    response = await post(
        api,
        status_advice(
            si,
            "matched",
            isin=OAT,
            currency="USD",
            credit_debit="CRDT",
            securities_movement="DELI",
            payment="FREE",
        ),
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "isin", "message": f"'{OAT}' is not the instruction's ({BUND})"},
        {"field": "currency", "message": "'USD' is not the instruction's (EUR)"},
        {"field": "credit_debit", "message": "'CRDT' is not the instruction's (DBIT)"},
        {"field": "securities_movement", "message": "'DELI' is not the instruction's (RECE)"},
        {"field": "payment", "message": "'FREE' is not the instruction's (APMT)"},
    ]
    assert (await get_instruction(api, si))["status"] == "pending"


EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.025.001.12">
  <SctiesSttlmTxConf><TxIdDtls><AcctOwnrTxId>&xxe;</AcctOwnrTxId></TxIdDtls></SctiesSttlmTxConf>
</Document>"""

ENTITY_EXPANSION = """<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.025.001.12">&c;</Document>"""


def _broken(si: str) -> bytes:
    return message("sese025_partial.xml", si)[:1500]


def _other_namespace(si: str) -> bytes:
    return message("sese025_partial.xml", si, ('sese.025.001.12">', 'sese.025.001.09">'))


def _without_effective_date(si: str) -> bytes:
    return message(
        "sese025_final.xml",
        si,
        (
            "<FctvSttlmDt>\n        <Dt>\n          <DtTm>2026-11-26T15:02:44</DtTm>\n"
            "        </Dt>\n      </FctvSttlmDt>",
            "",
        ),
    )


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        pytest.param(_broken, ("body", "is not well-formed XML"), id="malformed"),
        pytest.param(_other_namespace, ("Document", "has the namespace"), id="namespace"),
        pytest.param(
            _without_effective_date,
            ("SctiesSttlmTxConf/TradDtls/FctvSttlmDt", "is missing"),
            id="missing-element",
        ),
        pytest.param(
            lambda _si: EXTERNAL_ENTITY.encode(),
            ("body", "a DTD is not allowed: entities are never expanded"),
            id="external-entity",
        ),
        pytest.param(
            lambda _si: ENTITY_EXPANSION.encode(),
            ("body", "a DTD is not allowed: entities are never expanded"),
            id="entity-expansion",
        ),
    ],
)
async def test_a_bad_xml_message_is_422_naming_what_is_wrong_and_changes_nothing(
    api: Api,
    reference: None,
    clock: FrozenClock,
    db: Database,
    build: Any,
    problem: tuple[str, str],
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    clock.set(SETTLEMENT_DAY)
    before = (await get_instruction(api, si), await counts(db))

    response = await post_xml(api, build(si), message_id="EB-20261126-004977")

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == problem[0]
    assert error["message"].startswith(problem[1])
    assert (await get_instruction(api, si), await counts(db)) == before


async def test_a_json_advice_of_the_wrong_shape_is_422_naming_the_fields(api: Api) -> None:
    response = await post(
        api,
        {
            "message_id": "EB-1",
            "message_type": "sese.024",
            "instruction_id": "si_x",
            "settled_quantity": "10",
        },
    )
    bad_code = await post(api, status_advice("si_x", "failing", reasons=[{"code": "lack"}]))

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"settled_quantity", "status"}
    assert bad_code.status_code == 422, bad_code.text
    assert problem_fields(bad_code) == {"reasons[0].code"}


async def test_a_body_neither_json_xml_nor_swift_text_is_415(api: Api) -> None:
    response = await api.post(
        ADVICES, content=b"matched", headers={"Content-Type": "text/csv"}, role=GATEWAY
    )

    assert response.status_code == 415
    assert response.json()["type"] == PROBLEMS + "unsupported-media-type"


# A held instruction ----------------------------------------------------------------------------


async def test_a_held_instruction_stays_on_hold_until_a_confirmation_settles_it_in_full(
    api: Api, adjust: Adjust, clock: FrozenClock, db: Database
) -> None:
    booked, instruction = await bund_receipt(api)
    si = instruction["id"]
    await adjust("opening", line("CASH-EUR", "EUR", "800000.00"))
    await hold(db, si)

    matched = created(await post(api, status_advice(si, "matched")))
    clock.set(SETTLEMENT_DAY)
    partial = created(await post_xml(api, message("sese025_partial.xml", si)))
    held = await get_instruction(api, si)
    final = created(
        await post_xml(api, message("sese025_final.xml", si), message_id="EB-20261126-004977")
    )

    # Released after the match, it would be matched; after the part, partially settled.
    assert matched["instruction"] == the_instruction(si, "on_hold", held_from="matched")
    assert partial["instruction"] == the_instruction(
        si, "on_hold", "400000", "316031.78", held_from="partially_settled"
    )
    assert state(held) == ("on_hold", "400000", "316031.78", None)
    # Settled in full: nothing is left to hold.
    assert final["instruction"] == the_instruction(si, "settled", "1000000", "790079.45")
    assert (await trade(api, booked["id"]))["status"] == "settled"


# Reading ---------------------------------------------------------------------------------------


async def test_advices_are_listed_by_instruction_and_type_and_read_one_by_one(
    api: Api, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    unmatched = created(await post(api, status_advice(si, "unmatched", reasons=[{"code": "DDAT"}])))
    matched = created(await post(api, status_advice(si, "matched")))

    first = await api.get(ADVICES, params={"instruction_id": si, "limit": 1}, role="trader")
    second = await api.get(
        ADVICES,
        params={"instruction_id": si, "limit": 1, "cursor": first.json()["next_cursor"]},
        role="trader",
    )
    confirmations = await api.get(ADVICES, params={"message_type": "sese.025"}, role=OPS)
    one = await api.get(f"{ADVICES}/{matched['id']}", role="compliance")
    unknown = await api.get(f"{ADVICES}/adv_unknown", role=GATEWAY)

    assert [a["id"] for a in first.json()["items"]] == [unmatched["id"]]
    assert [a["id"] for a in second.json()["items"]] == [matched["id"]]
    assert second.json()["next_cursor"] is None
    assert first.json()["items"][0]["instruction"] == the_instruction(
        si, "pending", fail_reason="CMIS"
    )
    assert confirmations.json()["items"] == []
    assert one.json() == matched
    assert unknown.status_code == 404


# Who may send ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trader", "compliance", "admin"])
async def test_only_gateways_and_operations_send_advices(
    api: Api, reference: None, db: Database, role: str
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    before = (await get_instruction(api, si), await counts(db))

    as_json = await post(api, status_advice(si, "matched"), role=role)
    as_xml = await post_xml(api, message("sese024_matched.xml", si), role=role, message_id="M-1")

    assert (as_json.status_code, as_xml.status_code) == (403, 403)
    assert (await get_instruction(api, si), await counts(db)) == before


async def test_without_a_key_it_is_401(api: Api, reference: None) -> None:
    _, instruction = await bund_receipt(api)

    response = await api.post(ADVICES, json=status_advice(instruction["id"], "matched"))

    assert response.status_code == 401
    assert (await get_instruction(api, instruction["id"]))["status"] == "pending"


async def test_operations_may_key_in_an_advice(api: Api, reference: None) -> None:
    _, instruction = await bund_receipt(api)

    response = await post(api, status_advice(instruction["id"], "matched"), role=OPS)

    assert created(response)["instruction"]["status"] == "matched"
