"""POST /confirmations/{id}/force-match: four-eyes (one operations key proposes, another approves).

The test database holds one key per role; a second operations key is issued by the admin over
POST /api-keys, the way a real desk gets one.
"""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditRecord
from tests.conftest import Database
from tests.factories import DEUTSCHE, trade_payload
from tests.support import Api, FrozenClock, SecondKey, problem_fields
from tests.trades.confirmations.factories import (
    confirm,
    confirmation_body,
    confirmation_payload,
    get_json,
    key_id,
    reason,
    trade_status,
)
from tests.trades.conftest import BookTrade

TYPE_BASE = "https://settlement.example/problems/"
REASON = "Price agreed by phone with Goldman's desk"


async def force(
    api: Api,
    confirmation_id: str,
    *,
    by: SecondKey | str = "operations",
    trade_id: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Propose or approve as the default operations key, a role, or the second key."""
    merged = dict(headers or {})
    role: str | None = None
    if isinstance(by, SecondKey):
        merged.update(by.headers)
    else:
        role = by
    return await api.post(
        f"/confirmations/{confirmation_id}/force-match",
        json={"reason": REASON} if body is None else body,
        params={"trade_id": trade_id} if trade_id else None,
        headers=merged,
        role=role,
    )


async def audit_count(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


async def unmatched_on_price(api: Api, book_trade: BookTrade) -> tuple[dict[str, Any], ...]:
    """A trade and Goldman's confirmation of it at 189.30 (we booked 189.25): unmatched, DDEA."""
    booked = await book_trade()
    payload = confirmation_payload(trade_reference=booked["external_id"], price="189.30")
    sent = await confirm(api, payload)
    assert sent["reasons"] == [reason("DDEA", "price", "189.25", "189.30")]
    return booked, payload, sent


# Propose and approve -------------------------------------------------------------------------


async def test_proposed_by_one_key_and_approved_by_another_confirms_the_trade(
    api: Api, book_trade: BookTrade, clock: FrozenClock, ops2: SecondKey
) -> None:
    booked, payload, sent = await unmatched_on_price(api, book_trade)
    ops1 = await key_id(api, "operations")
    assert ops1 != ops2.id

    clock.advance(minutes=10)
    proposed = await force(api, sent["id"])

    assert proposed.status_code == 202, proposed.text
    proposal = {
        "proposed_by": ops1,
        "trade_id": booked["id"],
        "reason": REASON,
        "proposed_at": "2026-11-25T15:10:00Z",
        "approved_by": None,
    }
    assert proposed.json() == confirmation_body(
        payload,
        id_=sent["id"],
        status="unmatched",
        trade_id=booked["id"],
        reasons=sent["reasons"],
        force_match=proposal,
        version=2,
        updated_at="2026-11-25T15:10:00Z",
    )
    assert await trade_status(api, booked["id"]) == ("mismatched", 2)

    clock.advance(minutes=10)
    approved = await force(api, sent["id"], by=ops2)

    assert approved.status_code == 200, approved.text
    assert approved.json() == confirmation_body(
        payload,
        id_=sent["id"],
        status="matched",
        trade_id=booked["id"],
        reasons=sent["reasons"],  # the differences that were accepted stay on record
        force_match={**proposal, "approved_by": ops2.id},
        version=3,
        updated_at="2026-11-25T15:20:00Z",
    )
    assert await get_json(api, f"/confirmations/{sent['id']}") == approved.json()
    assert await trade_status(api, booked["id"]) == ("confirmed", 3)
    history = await get_json(api, f"/trades/{booked['id']}/history", role="compliance")
    assert [(h["action"], h["actor_key_id"]) for h in history][-1] == (
        "confirmation_matched",
        ops2.id,
    )
    assert (await get_json(api, "/confirmations/exceptions"))["items"] == []


async def test_the_proposer_approving_is_403_and_changes_nothing(
    api: Api, book_trade: BookTrade, db: Database, ops2: SecondKey
) -> None:
    booked, _, sent = await unmatched_on_price(api, book_trade)
    proposed = await force(api, sent["id"])
    assert proposed.status_code == 202
    records = await audit_count(db)

    again = await force(api, sent["id"])

    assert again.status_code == 403, again.text
    assert again.json()["type"] == TYPE_BASE + "forbidden"
    assert again.json()["detail"] == (
        "Four-eyes: the force-match must be approved by another operations key."
    )
    assert await get_json(api, f"/confirmations/{sent['id']}") == proposed.json()
    assert await trade_status(api, booked["id"]) == ("mismatched", 2)
    assert await audit_count(db) == records
    # The second key can still approve it.
    assert (await force(api, sent["id"], by=ops2)).status_code == 200


async def test_an_alleged_confirmation_needs_the_trade_named(
    api: Api, book_trade: BookTrade, ops2: SecondKey
) -> None:
    booked = await book_trade(external_id="FO-OURS-1")
    deutsche_trade = await book_trade(counterparty_lei=DEUTSCHE)
    # Goldman quotes a reference we do not know, and a price: not our trade by economics either.
    payload = confirmation_payload(trade_reference="GS-REF-77", price="189.30")
    sent = await confirm(api, payload)
    assert (sent["status"], sent["trade_id"]) == ("alleged", None)

    unnamed = await force(api, sent["id"])
    assert unnamed.status_code == 422, unnamed.text
    assert problem_fields(unnamed) == {"trade_id"}

    for wrong in (deutsche_trade["id"], "trd_nothing"):
        refused = await force(api, sent["id"], trade_id=wrong)
        assert refused.status_code == 422, refused.text
        assert problem_fields(refused) == {"trade_id"}
        assert refused.json()["detail"] == (
            f"Trade '{wrong}' is not a trade with {payload['counterparty_lei']}."
        )
    assert (await get_json(api, f"/confirmations/{sent['id']}")) == sent

    proposed = await force(api, sent["id"], trade_id=booked["id"])
    assert proposed.status_code == 202, proposed.text
    assert (proposed.json()["status"], proposed.json()["trade_id"]) == ("alleged", None)
    assert proposed.json()["force_match"]["trade_id"] == booked["id"]

    approved = await force(api, sent["id"], by=ops2, trade_id=booked["id"])
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["trade_id"]) == ("matched", booked["id"])
    assert await trade_status(api, booked["id"]) == ("confirmed", 2)
    assert await trade_status(api, deutsche_trade["id"]) == ("captured", 1)


async def test_the_approver_naming_another_trade_is_409(
    api: Api, book_trade: BookTrade, db: Database, ops2: SecondKey
) -> None:
    first = await book_trade()
    second = await book_trade(quantity="50")
    sent = await confirm(api, confirmation_payload(trade_reference="GS-REF-77", price="180"))
    assert sent["status"] == "alleged"
    proposed = await force(api, sent["id"], trade_id=first["id"])
    assert proposed.status_code == 202
    records = await audit_count(db)

    refused = await force(api, sent["id"], by=ops2, trade_id=second["id"])

    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"The proposal matches trade {first['id']}, not {second['id']}."
    )
    assert await get_json(api, f"/confirmations/{sent['id']}") == proposed.json()
    assert await trade_status(api, first["id"]) == ("captured", 1)
    assert await trade_status(api, second["id"]) == ("captured", 1)
    assert await audit_count(db) == records


async def test_candidates_are_resolved_by_naming_one(
    api: Api, book_trade: BookTrade, ops2: SecondKey
) -> None:
    first = await book_trade()
    second = await book_trade()
    sent = await confirm(api, confirmation_payload())
    assert sent["candidates"] == sorted([first["id"], second["id"]])
    assert sent["trade_id"] is None
    assert (await force(api, sent["id"])).status_code == 422

    assert (await force(api, sent["id"], trade_id=second["id"])).status_code == 202
    approved = await force(api, sent["id"], by=ops2)

    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["trade_id"]) == ("matched", second["id"])
    assert await trade_status(api, second["id"]) == ("confirmed", 2)
    assert await trade_status(api, first["id"]) == ("captured", 1)


async def test_approval_for_a_trade_already_confirmed_elsewhere_is_409(
    api: Api, book_trade: BookTrade, ops2: SecondKey
) -> None:
    booked = await book_trade()
    alleged = await confirm(
        api, confirmation_payload(confirmation_id="CP-ALLEGED", trade_reference="GS-REF-77")
    )
    assert (await force(api, alleged["id"], trade_id=booked["id"])).status_code == 202
    matched = await confirm(
        api,
        confirmation_payload(confirmation_id="CP-MATCHED", trade_reference=booked["external_id"]),
    )
    assert matched["status"] == "matched"

    refused = await force(api, alleged["id"], by=ops2)

    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"Trade {booked['id']} is already confirmed by CP-MATCHED ({matched['id']})."
    )
    assert (await get_json(api, f"/confirmations/{alleged['id']}"))["status"] == "alleged"


# Refusals ------------------------------------------------------------------------------------


async def test_force_matching_a_matched_confirmation_is_409(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    sent = await confirm(api, confirmation_payload(trade_reference=booked["external_id"]))
    refused = await force(api, sent["id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (f"Confirmation {sent['id']} is matched: nothing to force.")
    assert await get_json(api, f"/confirmations/{sent['id']}") == sent


async def test_force_matching_a_superseded_confirmation_is_409(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()
    old = await confirm(
        api, confirmation_payload(trade_reference=booked["external_id"], quantity="90")
    )
    await confirm(api, confirmation_payload(trade_reference=booked["external_id"]))
    refused = await force(api, old["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"Confirmation {old['id']} is superseded: nothing to force."
    )


async def test_force_matching_an_unknown_confirmation_is_404(api: Api, reference: None) -> None:
    response = await force(api, "cnf_nothing")
    assert response.status_code == 404
    assert response.json()["detail"] == "No confirmation 'cnf_nothing'."


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "trade_id": "trd_x"}]
)
async def test_force_match_needs_a_reason(api: Api, book_trade: BookTrade, body: Any) -> None:
    _, _, sent = await unmatched_on_price(api, book_trade)
    response = await force(api, sent["id"], body=body)
    assert response.status_code == 422, response.text
    assert problem_fields(response) & {"reason", "trade_id"}
    assert (await get_json(api, f"/confirmations/{sent['id']}"))["force_match"] is None


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_may_force_match(api: Api, book_trade: BookTrade, role: str) -> None:
    _, _, sent = await unmatched_on_price(api, book_trade)
    response = await force(api, sent["id"], by=role)
    assert response.status_code == 403
    assert (await get_json(api, f"/confirmations/{sent['id']}"))["force_match"] is None


async def test_force_match_without_a_key_is_401(api: Api, book_trade: BookTrade) -> None:
    _, _, sent = await unmatched_on_price(api, book_trade)
    response = await api.post(f"/confirmations/{sent['id']}/force-match", json={"reason": REASON})
    assert response.status_code == 401


# Audit ---------------------------------------------------------------------------------------


async def test_proposal_and_approval_are_audited_with_both_actors(
    api: Api, book_trade: BookTrade, db: Database, ops2: SecondKey
) -> None:
    booked, _, sent = await unmatched_on_price(api, book_trade)
    ops1 = await key_id(api, "operations")
    gateway = await key_id(api, "gateway")
    await force(api, sent["id"], headers={"X-Request-ID": "req-propose"})
    await force(api, sent["id"], by=ops2, headers={"X-Request-ID": "req-approve"})

    async with db.sessionmaker() as session:
        records = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.entity_type == "confirmation")
                .where(AuditRecord.entity_id == sent["id"])
                .order_by(AuditRecord.id)
            )
        ).all()
        trade_records = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.entity_id == booked["id"])
                .order_by(AuditRecord.id)
            )
        ).all()

    assert [(r.action, r.actor_key_id, r.actor_role) for r in records] == [
        ("received", gateway, "gateway"),
        ("force_match_proposed", ops1, "operations"),
        ("force_matched", ops2.id, "operations"),
    ]
    proposed, approved = records[1], records[2]
    assert (proposed.request_id, approved.request_id) == ("req-propose", "req-approve")
    assert proposed.actor_key_id != approved.actor_key_id
    assert proposed.before is not None
    assert proposed.after is not None
    assert proposed.before["force_match_proposed_by"] is None
    assert proposed.after["force_match_proposed_by"] == ops1
    assert proposed.after["force_match_reason"] == REASON
    assert approved.before is not None
    assert approved.after is not None
    assert (approved.before["status"], approved.after["status"]) == ("unmatched", "matched")
    assert approved.after["force_match_approved_by"] == ops2.id
    assert [(r.action, r.actor_key_id) for r in trade_records][-1] == (
        "confirmation_matched",
        ops2.id,
    )


# Withdrawn proposals -------------------------------------------------------------------------


async def test_a_corrected_confirmation_withdraws_the_proposal(
    api: Api, book_trade: BookTrade, ops2: SecondKey
) -> None:
    booked, payload, sent = await unmatched_on_price(api, book_trade)
    assert (await force(api, sent["id"])).status_code == 202

    corrected = await confirm(api, {**payload, "price": "189.40", "quantity": "90"})

    assert (corrected["id"], corrected["status"], corrected["force_match"]) == (
        sent["id"],
        "unmatched",
        None,
    )
    # What the first key proposed is gone: the second key's call is a new proposal, not an
    # approval of terms nobody proposed to accept.
    second = await force(api, sent["id"], by=ops2)
    assert second.status_code == 202, second.text
    assert second.json()["status"] == "unmatched"
    assert second.json()["force_match"]["proposed_by"] == ops2.id
    assert await trade_status(api, booked["id"]) == ("mismatched", 3)


async def test_an_amendment_after_a_force_match_needs_four_eyes_again(
    api: Api, book_trade: BookTrade, ops2: SecondKey
) -> None:
    booked, _, sent = await unmatched_on_price(api, book_trade)
    assert (await force(api, sent["id"])).status_code == 202
    assert (await force(api, sent["id"], by=ops2)).status_code == 200
    assert await trade_status(api, booked["id"]) == ("confirmed", 3)

    amended = await api.patch(
        f"/trades/{booked['id']}", json={"fees": "0.03"}, headers={"If-Match": "3"}, role="trader"
    )
    assert amended.status_code == 200, amended.text
    # The price still differs: compared again, the trade is mismatched and the approval is gone.
    assert (amended.json()["status"], amended.json()["version"]) == ("mismatched", 5)
    after = await get_json(api, f"/confirmations/{sent['id']}")
    assert (after["status"], after["force_match"]) == ("unmatched", None)

    one_key = await force(api, sent["id"], by=ops2)
    assert one_key.status_code == 202, one_key.text
    assert await trade_status(api, booked["id"]) == ("mismatched", 5)


async def test_an_alleged_confirmation_matched_on_booking_drops_its_proposal(
    api: Api, book_trade: BookTrade, ops2: SecondKey
) -> None:
    other = await book_trade(quantity="50")
    sent = await confirm(api, confirmation_payload(trade_reference="FO-LATE-1"))
    assert (await force(api, sent["id"], trade_id=other["id"])).status_code == 202
    created = await api.post("/trades", json=trade_payload(external_id="FO-LATE-1"), role="trader")
    assert created.json()["status"] == "confirmed"
    after = await get_json(api, f"/confirmations/{sent['id']}")
    assert (after["status"], after["trade_id"], after["force_match"]) == (
        "matched",
        created.json()["id"],
        None,
    )
    assert (await force(api, sent["id"], by=ops2)).status_code == 409
    assert await trade_status(api, other["id"]) == ("captured", 1)
