"""GET /reports/buy-in-candidates: fails past the extension period of their instrument's class
(4 business days by default, 7 for illiquid shares: buy_in_extension_periods).

JPM (a liquid share) settles at NSCC on the US settlement calendar: sold 100 at 190.25 due
Wednesday 2026-11-25 holding 60, it settles 60 and fails LACK for 40 (7610.00). Thanksgiving
(Thursday) is no business day: Friday 2026-11-27 is its first day failing, Thursday 2026-12-03
its fifth. The Bund settles off venue on TARGET.
"""

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.clearing.support import NSCC, OPS, book_confirmed, clear, instructions
from tests.factories import BUND, GOLDMAN, JPM
from tests.positions.conftest import Adjust, line
from tests.settlement.support import bund, instruction_of
from tests.support import Api, FrozenClock, problem_fields

pytestmark = pytest.mark.usefixtures("reference")

REPORT = "/reports/buy-in-candidates"
JPM_DUE = "2026-11-25"
BUND_DUE = "2026-11-26"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T15:00:00").replace(tzinfo=UTC)


async def candidates(api: Api, as_of: str | None = None, role: str = OPS) -> dict[str, Any]:
    params = {"as_of": as_of} if as_of else {}
    response = await api.get(REPORT, params=params, role=role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settle(api: Api, settlement_date: str) -> None:
    response = await api.post(
        "/settlement-runs",
        json={"settlement_date": settlement_date},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text


async def partial_jpm_fail(api: Api, adjust: Adjust) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sell 100 JPM holding 60, partial allowed: 60 settle, 40 fail LACK. The trade and the
    instruction."""
    await adjust("opening", line("SEC-DTC", JPM, "60"), line("book:EQ-FLOW", JPM, "-60", cost="0"))
    sold = await book_confirmed(
        api, side="sell", quantity="100", price="190.25", commission="0", fees="0"
    )
    await clear(api, JPM_DUE)
    instruction = await instruction_of(api, sold)
    response = await api.patch(
        f"/settlement-instructions/{instruction['id']}",
        json={"partial_allowed": True},
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    await settle(api, JPM_DUE)
    instruction = await instruction_of(api, sold)
    assert (instruction["status"], instruction["settled_quantity"]) == ("partially_settled", "60")
    return sold, instruction


def jpm_item(sold: dict[str, Any], instruction: dict[str, Any]) -> dict[str, Any]:
    return {
        "instruction_id": instruction["id"],
        "obligation_id": instruction["obligation_id"],
        "trade_ids": [sold["id"]],
        "isin": JPM,
        "csdr_class": "liquid_share",
        "counterparty_lei": NSCC,
        "direction": "we_deliver",
        "quantity_due": "40",
        "currency": "USD",
        "amount_due": "7610.00",
        "intended_settlement_date": JPM_DUE,
        "days_failing": 5,
        "extension_days": 4,
        "days_past_extension": 1,
        "fail_reason": "LACK",
    }


async def test_a_liquid_share_five_business_days_failing_is_one_day_past_with_what_is_due(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    sold, instruction = await partial_jpm_fail(api, adjust)

    clock.set(at("2026-12-02"))
    assert await candidates(api) == {"as_of": "2026-12-02", "items": []}
    clock.set(at("2026-12-03"))
    report = await candidates(api, role="compliance")

    assert report == {"as_of": "2026-12-03", "items": [jpm_item(sold, instruction)]}


async def test_the_csv_is_streamed_with_a_header_and_an_attachment_name(
    api: Api, adjust: Adjust
) -> None:
    sold, instruction = await partial_jpm_fail(api, adjust)

    response = await api.get(REPORT, params={"as_of": "2026-12-03", "format": "csv"}, role=OPS)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="buy-in-candidates-2026-12-03.csv"'
    )
    assert response.text == (
        "instruction_id,obligation_id,trade_ids,isin,csdr_class,counterparty_lei,direction,"
        "quantity_due,currency,amount_due,intended_settlement_date,days_failing,"
        "extension_days,days_past_extension,fail_reason\r\n"
        f"{instruction['id']},{instruction['obligation_id']},{sold['id']},{JPM},liquid_share,"
        f"{NSCC},we_deliver,40,USD,7610.00,{JPM_DUE},5,4,1,LACK\r\n"
    )


async def reclassify(api: Api, isin: str, csdr_class: str) -> None:
    current = await api.get(f"/instruments/{isin}", role=OPS)
    response = await api.patch(
        f"/instruments/{isin}",
        json={"csdr_class": csdr_class},
        headers={"If-Match": current.headers["etag"]},
        role=OPS,
    )
    assert response.status_code == 200, response.text


async def test_an_illiquid_share_has_seven_days_before_it_is_a_candidate(api: Api) -> None:
    # The Bund stands in for an illiquid share: the class is the instrument's data.
    await reclassify(api, BUND, "illiquid_share")
    [bought] = [await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))]
    await clear(api, BUND_DUE)
    instruction = await instruction_of(api, bought)

    # Five TARGET days failing on 2026-12-03, seven on Monday 2026-12-07, eight on Tuesday.
    assert (await candidates(api, "2026-12-03"))["items"] == []
    assert (await candidates(api, "2026-12-07"))["items"] == []
    [item] = (await candidates(api, "2026-12-08"))["items"]

    assert item == {
        "instruction_id": instruction["id"],
        "obligation_id": instruction["obligation_id"],
        "trade_ids": [bought["id"]],
        "isin": BUND,
        "csdr_class": "illiquid_share",
        "counterparty_lei": GOLDMAN,
        "direction": "we_receive",
        "quantity_due": "1000000",
        "currency": "EUR",
        "amount_due": "790079.45",
        "intended_settlement_date": BUND_DUE,
        "days_failing": 8,
        "extension_days": 7,
        "days_past_extension": 1,
        "fail_reason": None,
    }


async def test_weekends_and_target_holidays_are_not_counted_and_the_period_at_isd_applies(
    api: Api, clock: FrozenClock
) -> None:
    # A Bund (sovereign debt: the default 4 days) bought Monday 2026-12-21, due Wednesday the
    # 23rd. Failing: Thursday 24th (1); Friday 25th is Christmas (TARGET closed), then the
    # weekend; Monday 28th (2), 29th (3), 30th (4), 31st (5); 1 January closed; 4 January (6).
    clock.set(at("2026-12-21"))
    bought = await book_confirmed(
        api,
        **bund(
            counterparty_lei=GOLDMAN, trade_date="2026-12-21", trade_time="2026-12-21T10:00:00Z"
        ),
    )
    assert bought["settlement_date"] == "2026-12-23"
    await clear(api, "2026-12-23")

    assert (await candidates(api, "2026-12-30"))["items"] == []
    [on_31st] = (await candidates(api, "2026-12-31"))["items"]
    [on_4th] = (await candidates(api, "2027-01-04"))["items"]
    assert (on_31st["days_failing"], on_31st["extension_days"], on_31st["days_past_extension"]) == (
        5,
        4,
        1,
    )
    assert (on_4th["days_failing"], on_4th["days_past_extension"]) == (6, 2)

    # A shorter default from 2026-12-01 on applies: the instruction was due after it.
    response = await api.post(
        "/buy-in-extension-periods",
        json={"csdr_class": "default", "business_days": 2, "effective_from": "2026-12-01"},
        role=OPS,
    )
    assert response.status_code == 201, response.text
    [item] = (await candidates(api, "2026-12-30"))["items"]
    assert (item["days_failing"], item["extension_days"], item["days_past_extension"]) == (4, 2, 2)


async def test_an_instruction_due_before_a_new_period_keeps_the_one_in_force_then(
    api: Api,
) -> None:
    bought = await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    await clear(api, BUND_DUE)
    response = await api.post(
        "/buy-in-extension-periods",
        json={"csdr_class": "default", "business_days": 10, "effective_from": "2026-11-27"},
        role=OPS,
    )
    assert response.status_code == 201, response.text

    [item] = (await candidates(api, "2026-12-03"))["items"]

    assert (item["instruction_id"], item["extension_days"], item["days_past_extension"]) == (
        (await instruction_of(api, bought))["id"],
        4,
        1,
    )


async def test_settled_and_cancelled_instructions_are_never_candidates(
    api: Api, adjust: Adjust
) -> None:
    await adjust("opening", line("CASH-USD", "USD", "19000.00"))
    await book_confirmed(api, side="buy", quantity="100", price="190.00", commission="0", fees="0")
    await clear(api, JPM_DUE)
    await settle(api, JPM_DUE)
    bought = await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    await clear(api, BUND_DUE)
    bund_instruction = await instruction_of(api, bought)
    response = await api.post(f"/settlement-instructions/{bund_instruction['id']}/cancel", role=OPS)
    assert response.status_code == 200, response.text

    assert sorted(i["status"] for i in await instructions(api)) == ["cancelled", "settled"]
    assert (await candidates(api, "2027-01-29"))["items"] == []


async def test_traders_and_gateways_are_refused_bad_dates_and_formats_are_422(api: Api) -> None:
    for role in ("trader", "gateway"):
        assert (await api.get(REPORT, role=role)).status_code == 403
    bad_date = await api.get(REPORT, params={"as_of": "2026-13-01"}, role=OPS)
    bad_format = await api.get(REPORT, params={"format": "xlsx"}, role=OPS)

    assert (bad_date.status_code, problem_fields(bad_date)) == (422, {"as_of"})
    assert (bad_format.status_code, problem_fields(bad_format)) == (422, {"format"})
