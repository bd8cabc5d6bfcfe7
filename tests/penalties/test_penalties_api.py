"""Penalty runs and penalties over HTTP: who may call, bad input, a dry run, reading, reversal
by operations (once), and the monthly report as CSV. The fail is tests.penalties.support's: 40
JPM failing LACK from 2026-11-25 (we pay), 40 x 190.25 x 0.0001 = 0.761 -> 0.76 USD."""

from typing import Any

import pytest

from tests.clearing.support import NSCC, OPS
from tests.conftest import Database
from tests.factories import JPM
from tests.penalties.support import DUE, add_price, failing_jpm, penalties, run_penalties
from tests.positions.conftest import Adjust
from tests.settlement.support import audit_trail
from tests.support import Api, problem_fields

pytestmark = pytest.mark.usefixtures("reference")

AMOUNT = "0.76"  # 40 x 190.25 = 7610.00 x 0.0001 = 0.761 -> 0.76


async def booked_one(api: Api, adjust: Adjust) -> dict[str, Any]:
    await failing_jpm(api, adjust)
    await add_price(api, DUE)
    run = await run_penalties(api, DUE)
    assert run["booked"] == 1, run
    [penalty] = await penalties(api)
    return penalty


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_run_and_reverse_penalties(api: Api, role: str) -> None:
    run = await api.post("/penalty-runs", json={"date": DUE}, role=role)
    reverse = await api.post("/penalties/pen-x/reverse", json={"reason": "x"}, role=role)
    assert (run.status_code, reverse.status_code) == (403, 403)


@pytest.mark.parametrize("role", ["trader", "gateway", "admin"])
async def test_operations_and_compliance_only_read_penalties(api: Api, role: str) -> None:
    for path in ("/penalties", "/penalties/pen-x", "/penalty-runs", "/reports/penalties"):
        assert (await api.get(path, role=role)).status_code == 403, path


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "date"), ({"date": "2026-13-01"}, "date"), ({"date": DUE, "extra": 1}, "extra")],
)
async def test_a_run_without_a_valid_date_is_422(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.post("/penalty-runs", json=body, role=OPS)
    assert response.status_code == 422, response.text
    assert any(field in name for name in problem_fields(response)), response.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/reports/penalties", {"month": "2026-13"}),
        ("/reports/penalties", {"month": "December"}),
        ("/penalties", {"payer": "nobody"}),
        ("/penalties", {"status": "cancelled"}),
        ("/penalties", {"date_from": "yesterday"}),
    ],
)
async def test_bad_filters_are_422(api: Api, path: str, params: dict[str, str]) -> None:
    response = await api.get(path, params=params, role=OPS)
    assert response.status_code == 422, response.text


async def test_a_dry_run_reports_what_it_would_book_and_writes_nothing(
    api: Api, adjust: Adjust
) -> None:
    await failing_jpm(api, adjust)
    await add_price(api, DUE)

    response = await api.post("/penalty-runs", json={"date": DUE, "dry_run": True}, role=OPS)

    assert response.status_code == 200, response.text
    dry = response.json()
    assert (dry["id"], dry["status"], dry["booked"]) == (None, "dry_run", 1)
    assert dry["report"]["by_kind"] == [
        {
            "kind": "settlement_fail",
            "payer": "us",
            "currency": "USD",
            "penalties": 1,
            "amount": AMOUNT,
        }
    ]
    assert await penalties(api) == []


async def test_a_penalty_is_read_filtered_and_reversed_once_by_operations(
    api: Api, adjust: Adjust, db: Database
) -> None:
    penalty = await booked_one(api, adjust)
    assert (penalty["amount"], penalty["payer"], penalty["counterparty_lei"]) == (
        AMOUNT,
        "us",
        NSCC,
    )
    assert (penalty["isin"], penalty["reference_price"], penalty["quantity"]) == (
        JPM,
        "190.25",
        "40",
    )
    one = await api.get(f"/penalties/{penalty['id']}", role="compliance")
    assert one.json() == penalty
    assert await penalties(api, payer="counterparty") == []
    assert await penalties(api, date_from="2026-11-26") == []
    assert [
        p["id"] for p in await penalties(api, counterparty_lei=NSCC, kind="settlement_fail")
    ] == [penalty["id"]]

    reason = "The CSD confirmed settlement on the day"
    response = await api.post(
        f"/penalties/{penalty['id']}/reverse", json={"reason": reason}, role=OPS
    )
    assert response.status_code == 200, response.text
    reversed_ = response.json()
    assert (reversed_["status"], reversed_["reversal_reason"], reversed_["version"]) == (
        "reversed",
        reason,
        2,
    )
    entry = await api.get(f"/journal-entries/{reversed_['reversal_entry_id']}", role=OPS)
    assert entry.json()["kind"] == "reversal"
    trail = await audit_trail(db, penalty["id"])
    assert [(r.entity_type, r.action) for r in trail] == [
        ("penalty", "booked"),
        ("penalty", "reversed"),
    ]
    before, after = trail[1].before, trail[1].after
    assert before is not None
    assert after is not None
    assert (before["status"], after["status"]) == ("active", "reversed")

    again = await api.post(f"/penalties/{penalty['id']}/reverse", json={"reason": reason}, role=OPS)
    assert again.status_code == 409, again.text
    missing = await api.post("/penalties/pen-none/reverse", json={"reason": reason}, role=OPS)
    assert missing.status_code == 404, missing.text
    empty = await api.post(f"/penalties/{penalty['id']}/reverse", json={"reason": ""}, role=OPS)
    assert empty.status_code == 422, empty.text


async def test_the_monthly_report_streams_as_csv(api: Api, adjust: Adjust) -> None:
    await booked_one(api, adjust)

    response = await api.get(
        "/reports/penalties", params={"month": "2026-11", "format": "csv"}, role=OPS
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="penalties-2026-11.csv"'
    )
    assert response.text == (
        "counterparty_lei,currency,penalties,payable,receivable,net\r\n"
        f"{NSCC},USD,1,{AMOUNT},0.00,-{AMOUNT}\r\n"
    )


async def test_the_run_is_listed_and_read_with_its_report(api: Api, adjust: Adjust) -> None:
    await booked_one(api, adjust)

    listed = await api.get("/penalty-runs", params={"settlement_date": DUE}, role="compliance")

    assert listed.status_code == 200, listed.text
    [run] = listed.json()["items"]
    one = await api.get(f"/penalty-runs/{run['id']}", role=OPS)
    assert one.json() == run
    assert (run["booked"], run["reversed"], run["exceptions"], run["total"]) == (1, 0, 0, 1)
