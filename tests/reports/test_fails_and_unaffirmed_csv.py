"""GET /reports/fails and GET /reports/unaffirmed as CSV (their JSON is tested with their
domains: tests/settlement/instructions, tests/trades/confirmations)."""

from decimal import Decimal

import pytest

from tests.clearing.support import NSCC
from tests.factories import trade_payload
from tests.positions.conftest import Adjust
from tests.reports.support import OPS, book
from tests.settlement.instructions.test_buy_in_candidates_api import at, partial_jpm_fail
from tests.support import Api, FrozenClock, problem_fields

pytestmark = pytest.mark.usefixtures("reference")


async def test_the_fails_csv_has_a_row_per_group_and_currency(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    # Sold 100 JPM at 190.25, 60 settled: 40 fail LACK, 40 x 190.25 left unsettled; Friday
    # 2026-11-27 is its first business day failing (Thanksgiving is none).
    await partial_jpm_fail(api, adjust)
    clock.set(at("2026-11-27"))
    unsettled = f"{40 * Decimal('190.25'):.2f}"

    response = await api.get("/reports/fails", params={"format": "csv"}, role=OPS)

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="fails-2026-11-27.csv"'
    assert response.text == (
        "group,key,instructions,currency,unsettled\r\n"
        f"total,,1,USD,{unsettled}\r\n"
        f"age,1,1,USD,{unsettled}\r\n"
        "age,2-3,0,,\r\n"
        "age,4-7,0,,\r\n"
        "age,8-15,0,,\r\n"
        "age,16+,0,,\r\n"
        f"reason,LACK,1,USD,{unsettled}\r\n"
        f"counterparty,{NSCC},1,USD,{unsettled}\r\n"
    )
    # The JSON is as it was.
    json_report = await api.get("/reports/fails", role=OPS)
    assert json_report.json()["unsettled"] == [{"currency": "USD", "amount": unsettled}]


async def test_the_unaffirmed_csv_has_the_fields_of_the_json(api: Api) -> None:
    trade = await book(api, trade_payload())

    as_json = await api.get("/reports/unaffirmed", params={"within_minutes": "10080"}, role=OPS)
    response = await api.get(
        "/reports/unaffirmed", params={"within_minutes": "10080", "format": "csv"}, role=OPS
    )

    assert response.status_code == 200, response.text
    [item] = as_json.json()
    assert item["trade_id"] == trade["id"]
    header, row, end = response.text.split("\r\n")
    assert header == (
        "trade_id,external_id,book,counterparty_lei,venue,trade_date,status,cutoff,overdue,"
        "time_left_seconds,overdue_by_seconds"
    )
    assert row == ",".join(
        [
            trade["id"],
            trade["external_id"],
            "EQ-FLOW",
            trade["counterparty_lei"],
            "XNYS",
            "2026-11-24",
            "captured",
            item["cutoff"].replace("Z", "+00:00"),
            "true" if item["overdue"] else "false",
            str(item["time_left_seconds"]),
            str(item["overdue_by_seconds"]),
        ]
    )
    assert end == ""


@pytest.mark.parametrize("path", ["/reports/fails", "/reports/unaffirmed"])
async def test_an_unknown_format_is_refused(api: Api, path: str) -> None:
    response = await api.get(path, params={"format": "xlsx"}, role=OPS)
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"format"}
