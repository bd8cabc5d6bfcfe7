"""Settlement over several runs and days: an instruction that settles only because another
delivered first, priorities, holds, recycling across a market holiday, days failing, the fails
report, cancelling.

Bund trades of 2026-11-24 (Goldman and Morgan Stanley settle gross, off venue, where the demo
market matches both sides itself) are due 2026-11-26 in SEC-EB and CASH-EUR. By hand: 1,000,000
at 78.50 % is 785,000.00 plus accrued 1,000,000 x 1.80 % x 103/365 = 5,079.45, net 790,079.45;
at 78.60 % it is 786,000.00 + 5,079.45 = 791,079.45.
"""

from datetime import UTC, datetime
from typing import Any

from tests.clearing.support import MORGAN, OPS, book_confirmed, clear
from tests.factories import BUND, GOLDMAN, JPM
from tests.positions.conftest import Adjust, cash_balances, ledger_check, line
from tests.settlement.support import bund, instruction_of
from tests.support import Api, FrozenClock

BUND_DUE = "2026-11-26"
JPM_DUE = "2026-11-25"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T15:00:00").replace(tzinfo=UTC)


async def settle(api: Api, settlement_date: str) -> dict[str, Any]:
    response = await api.post(
        "/settlement-runs",
        json={"settlement_date": settlement_date},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def act(api: Api, instruction: dict[str, Any], action: str) -> dict[str, Any]:
    response = await api.post(f"/settlement-instructions/{instruction['id']}/{action}", role=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reprioritise(api: Api, instruction: dict[str, Any], priority: int) -> dict[str, Any]:
    response = await api.patch(
        f"/settlement-instructions/{instruction['id']}",
        json={"priority": priority},
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def bund_pair(api: Api, adjust: Adjust) -> tuple[dict[str, Any], dict[str, Any]]:
    """We buy 1,000,000 Bund from Goldman (A) and sell them on to Morgan Stanley (B), holding
    no Bund and just the cash A costs."""
    await adjust("opening", line("CASH-EUR", "EUR", "790079.45"))
    bought = await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    sold = await book_confirmed(api, **bund(counterparty_lei=MORGAN, side="sell", price="78.60"))
    await clear(api, BUND_DUE)
    return await instruction_of(api, bought), await instruction_of(api, sold)


async def test_b_delivers_only_because_a_was_received_first(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    a, b = await bund_pair(api, adjust)
    assert (a["delivery_type"], a["status"], b["delivery_type"], b["status"]) == (
        "RVP",
        "matched",
        "DVP",
        "matched",
    )
    clock.set(at(BUND_DUE))

    run = await settle(api, BUND_DUE)

    assert (run["settled"], run["failed"]) == (2, 0)
    a, b = await instruction_of_id(api, a), await instruction_of_id(api, b)
    assert (a["status"], a["settled_amount"], b["status"], b["settled_amount"]) == (
        "settled",
        "790079.45",
        "settled",
        "791079.45",
    )
    # 790079.45 paid, 791079.45 received; no Bund left.
    [eur] = await cash_balances(api, account="CASH-EUR")
    assert eur["settled"] == "791079.45"
    assert (await ledger_check(api))["ok"] is True


async def instruction_of_id(api: Api, instruction: dict[str, Any]) -> dict[str, Any]:
    response = await api.get(f"/settlement-instructions/{instruction['id']}", role=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_priority_comes_before_age_and_a_later_run_settles_what_failed(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    _, b = await bund_pair(api, adjust)
    b = await reprioritise(api, b, 10)
    assert (b["priority"], b["version"]) == (10, 2)
    clock.set(at(BUND_DUE))

    first = await settle(api, BUND_DUE)

    # B goes first and lacks the Bund A has not delivered yet; A settles.
    assert (first["settled"], first["failed"]) == (1, 1)
    assert first["report"]["fails"] == [
        {"reason": "LACK", "currency": "EUR", "instructions": 1, "unsettled_amount": "791079.45"}
    ]
    assert (await instruction_of_id(api, b))["fail_reason"] == "LACK"
    second = await settle(api, BUND_DUE)
    assert (second["total"], second["settled"]) == (1, 1)
    assert (await instruction_of_id(api, b))["status"] == "settled"


async def test_a_held_instruction_is_skipped_as_held_and_settles_once_released(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    a, _ = await bund_pair(api, adjust)
    held = await act(api, a, "hold")
    assert (held["status"], held["held_from"], held["version"]) == ("on_hold", "matched", 2)
    clock.set(at(BUND_DUE))

    run = await settle(api, BUND_DUE)

    # A is skipped; B has nothing to deliver.
    assert (run["settled"], run["failed"], run["report"]["held"]) == (0, 1, 1)
    assert run["report"]["held_ids"] == [a["id"]]
    released = await act(api, a, "release")
    assert (released["status"], released["held_from"], released["version"]) == (
        "matched",
        None,
        3,
    )
    again = await settle(api, BUND_DUE)
    assert again["settled"] == 2


async def test_a_fail_recycles_across_a_market_holiday_and_counts_business_days(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    # Sell 100 JPM we do not hold, due Wednesday 2026-11-25. Thursday is Thanksgiving (NYSE and
    # the Fed closed); Friday is the next settlement day.
    sold = await book_confirmed(
        api, side="sell", quantity="100", price="190.00", commission="0", fees="0"
    )
    await clear(api, JPM_DUE)
    await settle(api, JPM_DUE)
    # On its own day it has not failed yet, though the run said why it did not settle.
    assert await failing_instructions(api) == []
    unsettled = await instruction_of(api, sold)
    assert (unsettled["fail_reason"], unsettled["days_failing"]) == ("LACK", 0)

    clock.set(at("2026-11-26"))
    holiday = await settle(api, "2026-11-26")
    assert (holiday["total"], holiday["failed"], holiday["report"]["market_closed"]) == (1, 0, 1)
    [failing] = await failing_instructions(api)
    # 2026-11-26 is no settlement day in New York: still 0 business days late.
    assert failing["days_failing"] == 0

    clock.set(at("2026-11-27"))
    [failing] = await failing_instructions(api)
    assert failing["days_failing"] == 1
    await adjust(
        "opening", line("SEC-DTC", JPM, "100"), line("book:EQ-FLOW", JPM, "-100", cost="0.00")
    )
    friday = await settle(api, "2026-11-27")

    assert friday["settled"] == 1
    settled = await instruction_of_id(api, failing)
    assert (settled["status"], settled["settled_on"], settled["days_failing"]) == (
        "settled",
        "2026-11-27",
        0,
    )
    assert await failing_instructions(api) == []


async def failing_instructions(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/settlement-instructions", params={"failing": "true"}, role=OPS)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_fails_report_counts_by_age_reason_and_counterparty(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    await bund_pair(api, adjust)
    await book_confirmed(api, side="sell", quantity="100", price="190.00", commission="0", fees="0")
    await clear(api, JPM_DUE)
    await settle(api, JPM_DUE)
    # Friday 2026-11-27: JPM (due Wednesday) is 1 New York business day late; the Bund pair (due
    # Thursday, never run) 1 TARGET day late, without a reason.
    clock.set(at("2026-11-27"))

    response = await api.get("/reports/fails", role="compliance")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["as_of"], report["instructions"]) == ("2026-11-27", 3)
    assert report["unsettled"] == [
        # 790079.45 + 791079.45 and 100 x 190.00.
        {"currency": "EUR", "amount": "1581158.90"},
        {"currency": "USD", "amount": "19000.00"},
    ]
    by_age = {row["bucket"]: row["instructions"] for row in report["by_age"]}
    assert by_age == {"1": 3, "2-3": 0, "4-7": 0, "8-15": 0, "16+": 0}
    assert [(r["fail_reason"], r["instructions"]) for r in report["by_reason"]] == [
        ("LACK", 1),
        ("NONE", 2),
    ]
    assert sorted(r["counterparty_lei"] for r in report["by_counterparty"]) == sorted(
        ["NSCCDEMO000000000060", GOLDMAN, MORGAN]
    )


async def test_an_instruction_that_settled_nothing_can_be_cancelled_once(
    api: Api, adjust: Adjust
) -> None:
    a, _ = await bund_pair(api, adjust)

    cancelled = await act(api, a, "cancel")
    again = await api.post(f"/settlement-instructions/{a['id']}/cancel", role=OPS)
    release = await api.post(f"/settlement-instructions/{a['id']}/release", role=OPS)

    assert (cancelled["status"], cancelled["version"]) == ("cancelled", 2)
    # A's payment is no longer due; B's receipt still is.
    [eur] = await cash_balances(api, account="CASH-EUR")
    assert (eur["settled"], eur["pending"]) == ("790079.45", "791079.45")
    assert again.status_code == 409
    assert release.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_a_stale_priority_change_is_412_and_a_bad_one_422(api: Api, adjust: Adjust) -> None:
    a, _ = await bund_pair(api, adjust)
    await reprioritise(api, a, 20)

    stale = await api.patch(
        f"/settlement-instructions/{a['id']}",
        json={"priority": 30},
        headers={"If-Match": '"1"'},
        role=OPS,
    )
    out_of_range = await api.patch(
        f"/settlement-instructions/{a['id']}",
        json={"priority": 0},
        headers={"If-Match": '"2"'},
        role=OPS,
    )
    by_a_trader = await api.patch(
        f"/settlement-instructions/{a['id']}",
        json={"priority": 30},
        headers={"If-Match": '"2"'},
        role="trader",
    )

    assert (stale.status_code, out_of_range.status_code, by_a_trader.status_code) == (
        412,
        422,
        403,
    )
    assert (await instruction_of_id(api, a))["priority"] == 20


async def test_holds_by_other_roles_are_refused(api: Api, adjust: Adjust) -> None:
    a, _ = await bund_pair(api, adjust)

    for role in ("trader", "gateway", "compliance", "admin"):
        response = await api.post(f"/settlement-instructions/{a['id']}/hold", role=role)
        assert response.status_code == 403, role
    assert (await instruction_of_id(api, a))["status"] == "matched"


async def test_the_settled_bund_left_the_desk_flat(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    await bund_pair(api, adjust)
    clock.set(at(BUND_DUE))
    await settle(api, BUND_DUE)

    response = await api.get(
        "/positions", params={"basis": "settlement_date", "isin": BUND}, role=OPS
    )

    assert [p["quantity"] for p in response.json()["items"]] == ["0"]
