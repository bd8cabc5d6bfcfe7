"""Settlement instructions over HTTP: made by clearing runs, enriched from the counterparties'
SSIs, repaired by operations, listed, read, refused, and on record.

Trades are booked on 2026-11-24 (a Tuesday) as the demo data has them: US shares settle T+1 on
NYSE + FED days (2026-11-25), EU shares and the off-venue bonds T+2 on TARGET days (2026-11-26).
Amounts, by hand (from us: a buy receives the securities and pays the cash):
- Bund 1,000,000 at 78.50 %: gross 785,000.00; accrued 1,000,000 x 1.80 % x 103 / 365 (15 Aug to
  26 Nov; a 365-day coupon period) = 5,079.452... -> 5,079.45; net 790,079.45 either way (no
  commission or fees).
- Bund 400,000 at 78.50 %: gross 314,000.00; accrued 400,000 x 1.80 % x 103 / 365 = 2,031.780...
  -> 2,031.78; net 316,031.78.
- 100 JPM at 189.25 + 1.50 + 0.02 = 18,926.52; 100 TotalEnergies at 57.42 + 1.52 = 5,743.52;
  100 SAP at 212.35 + 1.52 = 21,236.52.
"""

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.clearing.support import (
    EUREX,
    LCH,
    MORGAN,
    NSCC,
    OAT,
    OPS,
    SAP,
    SOCGEN,
    instructions,
    trade,
)
from tests.conftest import Database
from tests.factories import BUND, DEUTSCHE, GOLDMAN, JPM, TOTAL
from tests.reference.factories import BAD_LEI
from tests.settlement.support import (
    CLEARED_AT,
    ENTITY,
    INSTRUCTIONS,
    add_ssi,
    as_instructed,
    audit_trail,
    book_and_clear,
    bund,
    demo_ssi,
    enrich,
    get_instruction,
    instruction_of,
    outbox,
    remove_ssis,
)
from tests.support import Api, FrozenClock, problem_fields
from tests.trades.confirmations.factories import key_id

# Bilateral instructions here wait for a sese.024 advice, as on any market that does not match
# them itself (the demo's off-venue market does; see test_a_market_that_settles_internally...).
pytestmark = pytest.mark.usefixtures("matched_by_advice")

INSTRUCTION_ID = re.compile(r"^si_[0-9a-z]{26}$")
PROBLEMS = "https://settlement.example/problems/"
READERS = ["trader", "gateway", "operations", "compliance"]
ENRICHED_AT = "2026-11-25T15:30:00Z"


def missing(lei: str, mic: str, currency: str) -> list[dict[str, str]]:
    detail = f"{lei} has no SSI for market {mic} or currency {currency}: add one."
    return [{"code": "SSI_MISSING", "detail": detail}]


def ambiguous(lei: str, level: str, ssi_ids: list[str]) -> list[dict[str, str]]:
    named = ", ".join(sorted(ssi_ids))
    detail = f"{lei} has {len(ssi_ids)} SSIs for {level} ({named}): keep one."
    return [{"code": "SSI_AMBIGUOUS", "detail": detail}]


# Created by clearing ---------------------------------------------------------------------------


async def test_a_gross_bond_buy_is_instructed_with_every_sese023_field(
    api: Api, reference: None
) -> None:
    # Goldman nets nothing ("none"): its off-venue Bund trade settles gross, at Euroclear Bank.
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    cleared = await trade(api, booked["id"])
    gs_xoff = await demo_ssi(api, GOLDMAN, "XOFF")

    instruction = await instruction_of(api, booked)

    assert INSTRUCTION_ID.match(instruction["id"])
    assert instruction == {
        "id": instruction["id"],
        "obligation_id": cleared["obligation_id"],
        "delivery_type": "RVP",  # we buy: receive the bonds against payment
        "isin": BUND,
        "quantity": "1000000",
        "amount": "790079.45",
        "credit_debit": "DBIT",  # we pay
        "currency": "EUR",
        "securities_account": "SEC-EB",
        "cash_account": "CASH-EUR",
        "counterparty_lei": GOLDMAN,
        "counterparty_ssi": {
            "id": gs_xoff["id"],
            "place_of_settlement": "MGTCBEBEECL",
            "agent_bic": "GOLDUS33",
            "account": "DEMO-GS-EB-01",
        },
        "intended_settlement_date": "2026-11-26",
        "priority": 50,
        "partial_allowed": False,
        "partial_indicator": "NPAR",
        "status": "pending",
        "repair_reasons": [],
        "settled_quantity": "0",
        "settled_amount": "0",
        "settled_on": None,
        "fail_reason": None,
        "days_failing": 0,
        "held_from": None,
        "held_by": None,
        "hold_reason": None,
        "version": 1,
        "created_at": CLEARED_AT,
        "updated_at": CLEARED_AT,
    }
    assert await get_instruction(api, instruction["id"]) == instruction
    assert (cleared["status"], cleared["counterparty_of_record"]) == ("instructed", None)


@pytest.mark.parametrize(
    ("side", "delivery_type", "credit_debit"),
    [("buy", "RVP", "DBIT"), ("sell", "DVP", "CRDT")],
)
async def test_the_side_gives_the_delivery_type_and_the_cash_direction(
    api: Api, reference: None, side: str, delivery_type: str, credit_debit: str
) -> None:
    # A Bund sale: 785,000.00 + 5,079.45 accrued = 790,079.45 received, as a buy pays it.
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN, side=side))

    instruction = await instruction_of(api, booked)

    assert (
        instruction["delivery_type"],
        instruction["quantity"],
        instruction["amount"],
        instruction["credit_debit"],
    ) == (delivery_type, "1000000", "790079.45", credit_debit)


@pytest.mark.parametrize(
    ("overrides", "ccp", "mic", "securities_account", "currency", "amount", "settles"),
    [
        pytest.param(
            {"isin": JPM}, NSCC, "XNYS", "SEC-DTC", "USD", "18926.52", "2026-11-25", id="NSCC"
        ),
        pytest.param(
            {"isin": TOTAL, "currency": "EUR", "venue": "XPAR", "price": "57.42"},
            LCH,
            "XPAR",
            "SEC-EOCF",
            "EUR",
            "5743.52",
            "2026-11-26",
            id="LCH",
        ),
        pytest.param(
            {"isin": SAP, "currency": "EUR", "venue": "XETR", "price": "212.35"},
            EUREX,
            "XETR",
            "SEC-CBF",
            "EUR",
            "21236.52",
            "2026-11-26",
            id="Eurex",
        ),
    ],
)
async def test_a_ccp_trade_is_instructed_pre_matched_with_the_ccp(
    api: Api,
    reference: None,
    overrides: dict[str, Any],
    ccp: str,
    mic: str,
    securities_account: str,
    currency: str,
    amount: str,
    settles: str,
) -> None:
    # Goldman's trade on the venue is novated to its CCP; the CCP's SSI says where it settles.
    (booked,) = await book_and_clear(api, {"counterparty_lei": GOLDMAN, **overrides})
    ccp_ssi = await demo_ssi(api, ccp, mic)

    instruction = await instruction_of(api, booked)

    assert {
        key: instruction[key]
        for key in (
            "delivery_type",
            "quantity",
            "amount",
            "credit_debit",
            "currency",
            "securities_account",
            "cash_account",
            "counterparty_lei",
            "counterparty_ssi",
            "intended_settlement_date",
            "status",
            "repair_reasons",
        )
    } == {
        "delivery_type": "RVP",
        "quantity": "100",
        "amount": amount,
        "credit_debit": "DBIT",
        "currency": currency,
        "securities_account": securities_account,
        "cash_account": f"CASH-{currency}",
        "counterparty_lei": ccp,
        "counterparty_ssi": as_instructed(ccp_ssi),
        "intended_settlement_date": settles,
        "status": "matched",
        "repair_reasons": [],
    }
    cleared = await trade(api, booked["id"])
    assert (cleared["status"], cleared["counterparty_of_record"]) == ("instructed", ccp)


async def test_a_cash_residue_of_bilateral_netting_is_paid_free_of_delivery(
    api: Api, reference: None
) -> None:
    # Deutsche nets bilaterally. We buy 1,000,000 at 78.50 (pay 790,079.45) and sell 1,000,000 at
    # 78.60 (786,000.00 + 5,079.45 = 791,079.45 received): flat in bonds, 1,000.00 to receive.
    bought, sold = await book_and_clear(api, bund(), bund(side="sell", price="78.60"))

    instruction = await instruction_of(api, bought)

    assert (
        instruction["delivery_type"],
        instruction["quantity"],
        instruction["amount"],
        instruction["credit_debit"],
        instruction["counterparty_lei"],
        instruction["status"],
    ) == ("PFOD", "0", "1000.00", "CRDT", DEUTSCHE, "pending")
    assert [(await trade(api, t["id"]))["status"] for t in (bought, sold)] == ["instructed"] * 2


async def test_an_obligation_that_moves_nothing_gets_no_instruction(
    api: Api, reference: None
) -> None:
    # Bought and sold back at the same price from Deutsche: flat in bonds and in cash.
    await book_and_clear(api, bund(), bund(side="sell"))

    assert await instructions(api) == []


# Missing SSI, repaired -------------------------------------------------------------------------


async def test_a_missing_ssi_sends_the_instruction_to_repair_until_it_is_added(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    # Deutsche (bilateral) has no XOFF SSI any more. We buy 1,000,000 (pay 790,079.45) and sell
    # 400,000 (receive 316,031.78): one obligation, receive 600,000 and pay 474,047.67.
    await remove_ssis(api, (await demo_ssi(api, DEUTSCHE, "XOFF"))["id"])
    bought, sold = await book_and_clear(api, bund(), bund(side="sell", quantity="400000"))

    held = await instruction_of(api, bought)

    assert (held["delivery_type"], held["quantity"], held["amount"], held["credit_debit"]) == (
        "RVP",
        "600000",
        "474047.67",
        "DBIT",
    )
    assert (held["status"], held["counterparty_ssi"], held["repair_reasons"]) == (
        "repair",
        None,
        missing(DEUTSCHE, "XOFF", "EUR"),
    )
    assert [(await trade(api, t["id"]))["status"] for t in (bought, sold)] == ["cleared"] * 2

    # 15:30 - operations add the SSI and enrich the instruction again.
    clock.advance(minutes=30)
    added = await add_ssi(
        api,
        counterparty_lei=DEUTSCHE,
        mic="XOFF",
        currency=None,
        place_of_settlement="MGTCBEBEECL",
        agent_bic="DEUTDEFF",
        account="DEMO-DB-EB-02",
    )
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    assert response.json() == {
        **held,
        "status": "pending",
        "counterparty_ssi": {
            "id": added["id"],
            "place_of_settlement": "MGTCBEBEECL",
            "agent_bic": "DEUTDEFF",
            "account": "DEMO-DB-EB-02",
        },
        "repair_reasons": [],
        "version": 2,
        "updated_at": ENRICHED_AT,
    }
    assert await get_instruction(api, held["id"]) == response.json()
    assert [(await trade(api, t["id"]))["status"] for t in (bought, sold)] == ["instructed"] * 2


async def test_a_ccp_instruction_repaired_with_a_currency_ssi_is_matched(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    # LCH loses its XPAR SSI; a currency SSI (EUR) is what operations add back.
    await remove_ssis(api, (await demo_ssi(api, LCH, "XPAR"))["id"])
    (booked,) = await book_and_clear(
        api, {"isin": TOTAL, "currency": "EUR", "venue": "XPAR", "price": "57.42"}
    )
    held = await instruction_of(api, booked)
    assert (held["counterparty_lei"], held["status"], held["repair_reasons"]) == (
        LCH,
        "repair",
        missing(LCH, "XPAR", "EUR"),
    )
    assert (await trade(api, booked["id"]))["status"] == "cleared"

    clock.advance(minutes=30)
    added = await add_ssi(
        api,
        counterparty_lei=LCH,
        mic=None,
        currency="EUR",
        place_of_settlement="SICVFRPP",
        agent_bic="BACPFRPP",
        account="DEMO-LCH-EUR-01",
    )
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    assert response.json() == {
        **held,
        "status": "matched",  # straight on: a CCP's instruction is pre-matched
        "counterparty_ssi": as_instructed(added),
        "repair_reasons": [],
        "version": 2,
        "updated_at": ENRICHED_AT,
    }
    assert (await trade(api, booked["id"]))["status"] == "instructed"


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        pytest.param(bund(counterparty_lei=GOLDMAN), "pending", id="pending"),
        pytest.param({"isin": JPM}, "matched", id="matched"),
    ],
)
async def test_enriching_an_instruction_not_in_repair_is_a_conflict(
    api: Api, reference: None, db: Database, overrides: dict[str, Any], status: str
) -> None:
    (booked,) = await book_and_clear(api, overrides)
    instruction = await instruction_of(api, booked)
    records_before = len(await audit_trail(db, instruction["id"]))

    response = await enrich(api, instruction["id"])

    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json() == {
        "type": PROBLEMS + "invalid-transition",
        "title": "This change is not allowed in the current state",
        "status": 409,
        "detail": f"'enriched' is not allowed when the status is '{status}'",
        "instance": f"/api/v1{INSTRUCTIONS}/{instruction['id']}/enrich",
        "current_status": status,
        "event": "enriched",
    }
    assert await get_instruction(api, instruction["id"]) == instruction
    assert len(await audit_trail(db, instruction["id"])) == records_before


async def test_two_operators_enriching_at_once_enrich_it_once(
    api: Api, reference: None, db: Database
) -> None:
    if db.backend != "postgres":
        pytest.skip("concurrent writers: the row lock is PostgreSQL's")
    await remove_ssis(api, (await demo_ssi(api, GOLDMAN, "XOFF"))["id"])
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    await add_ssi(api, mic="XOFF", currency=None, place_of_settlement="MGTCBEBEECL")

    answers = await asyncio.gather(enrich(api, held["id"]), enrich(api, held["id"]))

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert [r.action for r in await audit_trail(db, held["id"])] == ["created", "enriched"]
    assert (await get_instruction(api, held["id"]))["version"] == 2
    assert [r.action for r in await audit_trail(db, booked["id"])].count("instructed") == 1


# Ambiguous SSI ---------------------------------------------------------------------------------


async def test_two_ssis_for_the_market_are_ambiguous_until_a_more_specific_one_decides(
    api: Api, reference: None, db: Database, clock: FrozenClock
) -> None:
    # The reference API accepts a second Goldman SSI for XOFF (duplicates are allowed, so that
    # enrichment can report them instead of guessing).
    first = await demo_ssi(api, GOLDMAN, "XOFF")
    second = await add_ssi(
        api,
        mic="XOFF",
        currency=None,
        place_of_settlement="MGTCBEBEECL",
        agent_bic="GOLDUS33",
        account="DEMO-GS-EB-02",
    )
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    reasons = ambiguous(GOLDMAN, "market XOFF", [first["id"], second["id"]])
    assert (held["status"], held["counterparty_ssi"], held["repair_reasons"]) == (
        "repair",
        None,
        reasons,
    )

    # 15:30 - enriching while both still exist: still in repair, the attempt on record.
    clock.advance(minutes=30)
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    still = response.json()
    assert still == {**held, "version": 2, "updated_at": ENRICHED_AT}
    assert (await trade(api, booked["id"]))["status"] == "cleared"
    failed = (await audit_trail(db, held["id"]))[-1]
    assert (failed.entity_type, failed.action) == (ENTITY, "enrichment_failed")
    assert failed.before is not None
    assert failed.after is not None
    assert (failed.before["version"], failed.after["version"]) == (1, 2)
    assert failed.after["status"] == "repair"
    assert failed.after["repair_reasons"] == reasons
    assert [e.event_type for e in await outbox(db, held["id"])] == [
        "settlement_instruction.created",
        "settlement_instruction.enrichment_failed",
    ]

    # An SSI for XOFF in EUR is more specific than both and decides.
    clock.advance(minutes=30)
    decisive = await add_ssi(
        api,
        counterparty_lei=GOLDMAN,
        mic="XOFF",
        currency="EUR",
        place_of_settlement="MGTCBEBEECL",
        agent_bic="GOLDUS33",
        account="DEMO-GS-EB-EUR",
    )
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    assert response.json() == {
        **still,
        "status": "pending",
        "counterparty_ssi": as_instructed(decisive),
        "repair_reasons": [],
        "version": 3,
        "updated_at": "2026-11-25T16:00:00Z",
    }
    assert (await trade(api, booked["id"]))["status"] == "instructed"


async def test_each_enrichment_brings_the_repair_reason_up_to_date(
    api: Api, reference: None
) -> None:
    # Goldman without its XOFF SSI: missing. Two EUR SSIs: ambiguous. An XOFF SSI: decided.
    await remove_ssis(api, (await demo_ssi(api, GOLDMAN, "XOFF"))["id"])
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    assert held["repair_reasons"] == missing(GOLDMAN, "XOFF", "EUR")

    euro = [
        await add_ssi(api, currency="EUR", place_of_settlement="MGTCBEBEECL", account=account)
        for account in ("DEMO-GS-EUR-01", "DEMO-GS-EUR-02")
    ]
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["repair_reasons"]) == (
        "repair",
        ambiguous(GOLDMAN, "currency EUR", [s["id"] for s in euro]),
    )

    market = await add_ssi(
        api,
        mic="XOFF",
        currency=None,
        place_of_settlement="MGTCBEBEECL",
        agent_bic="GOLDUS33",
        account="DEMO-GS-EB-03",
    )
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["counterparty_ssi"], body["repair_reasons"], body["version"]) == (
        "pending",
        as_instructed(market),
        [],
        3,
    )


async def test_an_ambiguous_ssi_is_repaired_by_deleting_one_through_the_api(
    api: Api, reference: None, db: Database, clock: FrozenClock
) -> None:
    first = await demo_ssi(api, GOLDMAN, "XOFF")
    second = await add_ssi(
        api,
        mic="XOFF",
        currency=None,
        place_of_settlement="MGTCBEBEECL",
        agent_bic="GOLDUS33",
        account="DEMO-GS-EB-02",
    )
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    assert held["repair_reasons"] == ambiguous(GOLDMAN, "market XOFF", [first["id"], second["id"]])

    # 15:30 - operations keep the demo SSI: the reason said "keep one".
    clock.advance(minutes=30)
    removed = await api.delete(f"/ssis/{second['id']}", headers={"If-Match": '"1"'}, role=OPS)
    assert removed.status_code == 204, removed.text
    response = await enrich(api, held["id"])

    assert response.status_code == 200, response.text
    assert response.json() == {
        **held,
        "status": "pending",
        "counterparty_ssi": as_instructed(first),
        "repair_reasons": [],
        "version": 2,
        "updated_at": ENRICHED_AT,
    }
    assert (await trade(api, booked["id"]))["status"] == "instructed"
    assert [r.action for r in await audit_trail(db, second["id"])] == ["created", "deleted"]


async def test_deleting_an_ssi_leaves_the_instructions_that_copied_it_as_they_are(
    api: Api, reference: None, db: Database
) -> None:
    used = await demo_ssi(api, GOLDMAN, "XOFF")
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    instruction = await instruction_of(api, booked)
    assert instruction["counterparty_ssi"] == as_instructed(used)

    await remove_ssis(api, used["id"])

    assert (await api.get(f"/ssis/{used['id']}", role=OPS)).status_code == 404
    assert await get_instruction(api, instruction["id"]) == instruction
    assert [r.action for r in await audit_trail(db, instruction["id"])] == ["created"]
    # Only a new instruction notices: Goldman's next Bund trade has no SSI to go by.
    (later,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN, quantity="2000"))
    assert (await instruction_of(api, later))["repair_reasons"] == missing(GOLDMAN, "XOFF", "EUR")


# Listing and reading ---------------------------------------------------------------------------


async def test_the_list_filters_by_status_date_isin_counterparty_and_obligation(
    api: Api, reference: None
) -> None:
    # a: Bund from Goldman, gross, pending      b: OAT sold to Morgan Stanley, gross, pending
    # c: JPM from Goldman, novated to NSCC, matched, settling a day earlier
    # d: Bund from Société Générale, whose XOFF SSI is gone: repair
    await remove_ssis(api, (await demo_ssi(api, SOCGEN, "XOFF"))["id"])
    booked = await book_and_clear(
        api,
        bund(counterparty_lei=GOLDMAN),
        bund(isin=OAT, counterparty_lei=MORGAN, side="sell", quantity="250000", price="95.10"),
        {"isin": JPM},
        bund(counterparty_lei=SOCGEN),
    )
    made = [await instruction_of(api, t) for t in booked]
    name = {i["id"]: letter for letter, i in zip("abcd", made, strict=True)}
    filters: dict[str, dict[str, str]] = {
        "none": {},
        "pending": {"status": "pending"},
        "matched": {"status": "matched"},
        "repair": {"status": "repair"},
        "settled": {"status": "settled"},
        "due 25th": {"intended_settlement_date": "2026-11-25"},
        "due 26th": {"intended_settlement_date": "2026-11-26"},
        "Bund": {"isin": BUND},
        "Bund, lower case": {"isin": BUND.lower()},
        "Bund in repair": {"isin": BUND, "status": "repair"},
        "Goldman": {"counterparty_lei": GOLDMAN},  # not c: its counterparty is NSCC
        "NSCC": {"counterparty_lei": NSCC},
        "obligation of b": {"obligation_id": made[1]["obligation_id"]},
        "unknown obligation": {"obligation_id": "obl_unknown"},
    }

    found = {
        label: "".join(sorted(name[i["id"]] for i in await instructions(api, **params)))
        for label, params in filters.items()
    }

    assert found == {
        "none": "abcd",
        "pending": "ab",
        "matched": "c",
        "repair": "d",
        "settled": "",
        "due 25th": "c",
        "due 26th": "abd",
        "Bund": "ad",
        "Bund, lower case": "ad",
        "Bund in repair": "d",
        "Goldman": "a",
        "NSCC": "c",
        "obligation of b": "b",
        "unknown obligation": "",
    }


async def test_the_list_pages_in_id_order_with_a_cursor(api: Api, reference: None) -> None:
    # Goldman's three Bund trades settle gross: three instructions.
    await book_and_clear(api, *[bund(counterparty_lei=GOLDMAN, quantity=q) for q in "123"])
    ids = sorted(i["id"] for i in await instructions(api))
    assert len(ids) == 3

    first = await api.get(INSTRUCTIONS, params={"limit": 2}, role=OPS)
    assert first.status_code == 200, first.text
    assert [i["id"] for i in first.json()["items"]] == ids[:2]
    cursor = first.json()["next_cursor"]
    assert cursor is not None

    last = await api.get(INSTRUCTIONS, params={"limit": 2, "cursor": cursor}, role=OPS)
    assert last.status_code == 200, last.text
    assert last.json() == {"items": [await get_instruction(api, ids[2])], "next_cursor": None}


async def test_an_instruction_as_it_stood_before_its_enrichment(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    await remove_ssis(api, (await demo_ssi(api, GOLDMAN, "XOFF"))["id"])
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    clock.advance(minutes=30)
    await add_ssi(api, mic="XOFF", currency=None, place_of_settlement="MGTCBEBEECL")
    assert (await enrich(api, held["id"])).status_code == 200

    response = await api.get(
        f"{INSTRUCTIONS}/{held['id']}", params={"as_of": "2026-11-25T15:10:00Z"}, role=OPS
    )

    assert response.status_code == 200, response.text
    assert response.json() == held
    assert response.headers["etag"] == '"1"'


async def test_as_of_answers_each_version_exactly_as_it_was_answered(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    # 15:00 created in repair (Goldman has no XOFF SSI); 15:30 enriched: pending, version 2.
    await remove_ssis(api, (await demo_ssi(api, GOLDMAN, "XOFF"))["id"])
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    clock.advance(minutes=30)
    await add_ssi(api, mic="XOFF", currency=None, place_of_settlement="MGTCBEBEECL")
    enriched = await enrich(api, held["id"])
    assert enriched.status_code == 200, enriched.text
    path = f"{INSTRUCTIONS}/{held['id']}"

    async def as_of(moment: str, role: str = OPS) -> dict[str, Any]:
        response = await api.get(path, params={"as_of": moment}, role=role)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert await as_of(CLEARED_AT) == held  # the instant it was made
    assert await as_of("2026-11-25T16:29:59+01:00") == held  # 15:29:59 UTC, with an offset
    assert await as_of(ENRICHED_AT) == enriched.json()
    # Now: the same JSON as without as_of (decimals, dates, timestamps, the SSI, the reasons).
    current = await api.get(path, role=OPS)
    assert (current.status_code, current.headers["etag"]) == (200, '"2"')
    assert await as_of("2026-11-26T09:00:00Z", role="compliance") == current.json()
    assert current.json() == enriched.json()
    assert (held["amount"], held["quantity"], held["settled_amount"]) == (
        "790079.45",
        "1000000",
        "0",
    )


async def test_as_of_before_the_instruction_existed_is_404(api: Api, reference: None) -> None:
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    instruction = await instruction_of(api, booked)
    path = f"{INSTRUCTIONS}/{instruction['id']}"

    response = await api.get(path, params={"as_of": "2026-11-25T14:59:59Z"}, role=OPS)

    assert response.status_code == 404, response.text
    assert response.json() == {
        "type": PROBLEMS + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": f"Settlement instruction '{instruction['id']}' did not exist at "
        "2026-11-25T14:59:59+00:00.",
        "instance": f"/api/v1{path}",
    }


async def test_as_of_of_an_unknown_instruction_is_404(api: Api, reference: None) -> None:
    response = await api.get(
        f"{INSTRUCTIONS}/si_unknown", params={"as_of": "2026-11-25T15:00:00Z"}, role=OPS
    )

    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "No settlement instruction 'si_unknown'."


@pytest.mark.parametrize(
    "moment", ["2026-11-25T15:30:00", "yesterday", "2026-11-25", "0001-01-01T00:00:00+14:00"]
)
async def test_as_of_must_be_a_timestamp_with_an_offset(
    api: Api, reference: None, moment: str
) -> None:
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    instruction = await instruction_of(api, booked)

    response = await api.get(
        f"{INSTRUCTIONS}/{instruction['id']}", params={"as_of": moment}, role=OPS
    )

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"as_of"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_unknown_instruction_is_not_found(api: Api, reference: None, method: str) -> None:
    path = f"{INSTRUCTIONS}/si_unknown" + ("/enrich" if method == "POST" else "")

    response = await api.request(method, path, role=OPS)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json() == {
        "type": PROBLEMS + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No settlement instruction 'si_unknown'.",
        "instance": f"/api/v1{path}",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isin", "US0378331006"),  # check digit broken
        ("isin", "XX"),
        ("counterparty_lei", BAD_LEI),
        ("status", "failed"),
        ("intended_settlement_date", "2026-13-01"),
        ("obligation_id", "o" * 41),
        ("limit", "0"),
        ("cursor", "not-a-cursor"),
    ],
)
async def test_a_bad_filter_is_refused_naming_it(api: Api, field: str, value: str) -> None:
    response = await api.get(INSTRUCTIONS, params={field: value}, role=OPS)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}


# Who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
async def test_every_business_role_reads_instructions(api: Api, reference: None, role: str) -> None:
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    instruction = await instruction_of(api, booked)

    listed = await api.get(INSTRUCTIONS, role=role)
    one = await api.get(f"{INSTRUCTIONS}/{instruction['id']}", role=role)

    assert (listed.status_code, one.status_code) == (200, 200)
    assert listed.json() == {"items": [instruction], "next_cursor": None}
    assert one.json() == instruction


@pytest.mark.parametrize("path", [INSTRUCTIONS, f"{INSTRUCTIONS}/si_unknown"])
async def test_admin_may_not_read_instructions(api: Api, path: str) -> None:
    response = await api.get(path, role="admin")

    assert response.status_code == 403, response.text
    assert response.json()["detail"] == (
        "The role 'admin' may not call this route "
        "(allowed: compliance, gateway, operations, trader)."
    )


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_may_enrich(api: Api, reference: None, role: str) -> None:
    await remove_ssis(api, (await demo_ssi(api, GOLDMAN, "XOFF"))["id"])
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)

    response = await enrich(api, held["id"], role=role)

    assert response.status_code == 403, response.text
    assert response.json()["detail"] == (
        f"The role '{role}' may not call this route (allowed: operations)."
    )
    assert await get_instruction(api, held["id"]) == held


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", INSTRUCTIONS),
        ("GET", f"{INSTRUCTIONS}/si_unknown"),
        ("POST", f"{INSTRUCTIONS}/si_unknown/enrich"),
    ],
)
@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Send 'Authorization: Bearer <api key>'."),
        ({"Authorization": "Bearer not-a-key"}, "The API key is unknown or revoked."),
    ],
)
async def test_without_a_valid_key_the_answer_is_401(
    api: Api, method: str, path: str, headers: dict[str, str], detail: str
) -> None:
    response = await api.request(method, path, headers=headers)

    assert response.status_code == 401, response.text
    assert (response.json()["type"], response.json()["detail"]) == (
        PROBLEMS + "unauthenticated",
        detail,
    )


# On record ------------------------------------------------------------------------------------


async def test_clearing_records_each_instruction_created_with_its_event(
    api: Api, reference: None, db: Database
) -> None:
    operations = await key_id(api, OPS)
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    instruction = await instruction_of(api, booked)

    (created,) = await audit_trail(db, instruction["id"])
    (event,) = await outbox(db, instruction["id"])

    assert (
        created.entity_type,
        created.action,
        created.actor_key_id,
        created.actor_role,
        created.occurred_at,
        created.before,
    ) == (ENTITY, "created", operations, "operations", datetime(2026, 11, 25, 15, tzinfo=UTC), None)
    assert created.after is not None
    assert {key: created.after[key] for key in ("id", "status", "amount", "counterparty_ssi")} == {
        "id": instruction["id"],
        "status": "pending",
        "amount": "790079.45",
        "counterparty_ssi": instruction["counterparty_ssi"],
    }
    assert (event.id, event.event_type, event.entity_type) == (
        created.id,
        "settlement_instruction.created",
        ENTITY,
    )


async def test_enrichment_is_recorded_with_its_request_and_instructs_the_trade(
    api: Api, reference: None, db: Database, clock: FrozenClock
) -> None:
    operations = await key_id(api, OPS)
    await remove_ssis(api, (await demo_ssi(api, GOLDMAN, "XOFF"))["id"])
    (booked,) = await book_and_clear(api, bund(counterparty_lei=GOLDMAN))
    held = await instruction_of(api, booked)
    clock.advance(minutes=30)
    added = await add_ssi(
        api, mic="XOFF", currency=None, place_of_settlement="MGTCBEBEECL", account="DEMO-GS-EB-9"
    )

    response = await enrich(api, held["id"], headers={"X-Request-ID": "enrich-1"})

    assert response.status_code == 200, response.text
    records = await audit_trail(db, held["id"])
    assert [r.action for r in records] == ["created", "enriched"]
    enriched = records[1]
    assert (
        enriched.actor_key_id,
        enriched.request_id,
        enriched.occurred_at,
    ) == (operations, "enrich-1", datetime(2026, 11, 25, 15, 30, tzinfo=UTC))
    assert enriched.before is not None
    assert enriched.after is not None
    assert (enriched.before["status"], enriched.after["status"]) == ("repair", "pending")
    assert (enriched.before["counterparty_ssi"], enriched.after["counterparty_ssi"]) == (
        None,
        as_instructed(added),
    )
    assert (enriched.before["repair_reasons"], enriched.after["repair_reasons"]) == (
        missing(GOLDMAN, "XOFF", "EUR"),
        [],
    )
    events = await outbox(db, held["id"])
    assert [(e.id, e.event_type) for e in events] == [
        (records[0].id, "settlement_instruction.created"),
        (enriched.id, "settlement_instruction.enriched"),
    ]
    # The trade moved on in the same request, and says so in its own trail.
    instructed = (await audit_trail(db, booked["id"]))[-1]
    assert (instructed.action, instructed.request_id) == ("instructed", "enrich-1")
    assert instructed.after is not None
    assert instructed.after["status"] == "instructed"
