"""The settlement run on csd markets: the depository settles their instructions, so the run
leaves them as they are, counts and ages them (``at_csd``), and re-sends an instruction the
depository holds no live message for once it was repaired after a rejection. Internal markets
settle as before, in the same run."""

from datetime import UTC, datetime
from typing import Any

from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.settlement.outbound import service as outbound
from tests.clearing.support import OPS, book_confirmed, clear
from tests.conftest import Database
from tests.factories import JPM
from tests.positions.conftest import Adjust, line
from tests.settlement.outbound.support import PARIS, claim, instructed, messages_of, sent
from tests.settlement.support import get_instruction, instruction_of
from tests.support import Api, FrozenClock

DUE = "2026-11-25"
AGES = ("1", "2-3", "4-7", "8-15", "16+")


async def settle(api: Api, settlement_date: str = DUE, **body: Any) -> dict[str, Any]:
    response = await api.post(
        "/settlement-runs",
        json={"settlement_date": settlement_date, **body},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def at_csd(
    instructions: int, failing: dict[str, int] | None = None, resent: int = 0
) -> dict[str, Any]:
    ages = dict.fromkeys(AGES, 0) | (failing or {})
    return {
        "instructions": instructions,
        "failing": sum(ages.values()),
        "failing_by_age": [{"bucket": b, "instructions": n} for b, n in ages.items()],
        "resent": resent,
        "not_sendable": 0,
        "not_sendable_ids": [],
    }


async def test_a_csd_instruction_due_is_left_to_the_depository_while_internal_ones_settle(
    api: Api, adjust: Adjust, reference: None
) -> None:
    await adjust(
        "opening", line("CASH-USD", "USD", "50000.00"), line("CASH-EUR", "EUR", "1000000.00")
    )
    paris = await instructed(api)  # matched (LCH's), due today, cash to pay it is there
    nyse = await book_confirmed(api, commission="0", fees="0")
    await clear(api, DUE)
    internal = await instruction_of(api, nyse)

    dry = await settle(api, dry_run=True)
    run = await settle(api)

    for report in (dry, run):
        assert (report["total"], report["settled"]) == (1, 1)
        assert report["report"]["at_csd"] == at_csd(1)
    assert run["report"]["settled"] == 1
    after = await get_instruction(api, paris["id"])
    assert (after["status"], after["settled_quantity"], after["settled_amount"]) == (
        "matched",
        "0",
        "0",
    )
    assert (await get_instruction(api, internal["id"]))["status"] == "settled"
    assert len(await messages_of(api, paris["id"])) == 1  # it has its live message: no re-send


async def test_a_csd_instruction_past_its_date_is_aged_as_failing(
    api: Api, reference: None
) -> None:
    # Traded Thursday the 19th: due Monday the 23rd, failing two TARGET days by the 25th.
    paris = await instructed(api, trade_date="2026-11-19", trade_time="2026-11-19T10:00:00Z")
    assert paris["intended_settlement_date"] == "2026-11-23"

    run = await settle(api)

    assert run["report"]["at_csd"] == at_csd(1, {"2-3": 1})


async def test_a_rejected_message_is_re_sent_by_the_run_once_the_instruction_was_repaired(
    api: Api, db: Database, reference: None, clock: FrozenClock
) -> None:
    paris = await instructed(api, **PARIS)
    [message] = await claim(api)
    await sent(api, message["id"])
    clock.advance(minutes=1)
    async with db.sessionmaker() as session, UnitOfWork(session):
        await outbound.record_processing_status(
            session,
            reference=message["reference"],
            status="rejected",
            reasons=[{"code": "PRTY", "text": "priority not allowed"}],
            now=clock(),
            actor=SYSTEM_ACTOR,
        )

    unrepaired = await settle(api)
    assert unrepaired["report"]["at_csd"] == at_csd(1)
    assert len(await messages_of(api, paris["id"])) == 1  # sending it unchanged: rejected again

    clock.advance(minutes=1)
    current = await get_instruction(api, paris["id"])
    repaired = await api.patch(
        f"/settlement-instructions/{paris['id']}",
        json={"priority": 10},
        headers={"If-Match": f'"{current["version"]}"'},
        role=OPS,
    )
    assert repaired.status_code == 200, repaired.text
    assert len(await messages_of(api, paris["id"])) == 1  # nothing live to replace
    clock.advance(minutes=1)

    run = await settle(api)

    assert run["report"]["at_csd"] == at_csd(1, resent=1)
    rejected, resent = await messages_of(api, paris["id"])
    assert (rejected["status"], resent["kind"], resent["status"]) == ("rejected", "new", "pending")
    assert "<Nmrc>0010</Nmrc>" in resent["content"]
    assert resent["created_at"] == datetime(2026, 11, 25, 15, 3, tzinfo=UTC).isoformat().replace(
        "+00:00", "Z"
    )
    again = await settle(api)
    assert again["report"]["at_csd"] == at_csd(1)  # live again: nothing more to send


async def test_a_csd_instruction_never_sent_is_sent_by_the_run(
    api: Api, db: Database, reference: None
) -> None:
    # Made before its market settled at the depository: no message yet.
    markets = await api.get("/markets/XPAR", role=OPS)
    switched = await api.patch(
        "/markets/XPAR",
        json={"settlement_mode": "internal"},
        headers={"If-Match": markets.headers["etag"]},
        role=OPS,
    )
    assert switched.status_code == 200, switched.text
    paris = await instructed(api)
    assert await messages_of(api, paris["id"]) == []
    back = await api.patch(
        "/markets/XPAR",
        json={"settlement_mode": "csd"},
        headers={"If-Match": switched.headers["etag"]},
        role=OPS,
    )
    assert back.status_code == 200, back.text

    run = await settle(api)

    assert run["report"]["at_csd"] == at_csd(1, resent=1)
    [message] = await messages_of(api, paris["id"])
    assert (message["format"], message["status"]) == ("sese.023.001.11", "pending")
    assert JPM not in message["content"]
