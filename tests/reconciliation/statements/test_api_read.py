"""GET /statements (filters, pages) and GET /statements/{id} with its entries: read by
operations, gateways and compliance, not by traders."""

import json

import pytest

from tests.reconciliation.statements.support import STATEMENTS, json_statement, received, sample
from tests.support import Api

pytestmark = pytest.mark.usefixtures("accounts")


async def test_a_statement_is_read_with_its_entries(api: Api) -> None:
    euro, _ = await received(api, sample("camt053_v02_two_statements.xml"))

    response = await api.get(f"{STATEMENTS}/{euro['id']}", role="compliance")

    assert response.status_code == 200
    body = response.json()
    credit, debit = body.pop("entries")
    assert body == {
        "id": euro["id"],
        "account": "CASH-EUR",
        "account_identifier": "DE89370400440532013000",
        "kind": "statement",
        "format": "camt",
        "statement_id": "STMT-2024-071-EUR",
        "sequence": 71,
        "electronic_sequence": 71,
        "legal_sequence": 12,
        "page": None,
        "currency": "EUR",
        "opening_balance": {"amount": "10000.00", "date": "2024-03-11"},
        "closing_balance": {"amount": "12000.00", "date": "2024-03-11"},
        "opening_available": None,
        "closing_available": {"amount": "11500.00", "date": "2024-03-11"},
        "statement_date": "2024-03-11",
        "created_at": "2024-03-12T05:10:00Z",
        "content_hash": body["content_hash"],
        "integrity": "ok",
        "file_id": body["file_id"],
        "received_at": "2026-11-25T15:00:00Z",
        "received_by": body["received_by"],
        "entry_count": 2,
    }
    assert body["file_id"].startswith("stf_")
    assert {**credit, "id": "ste"} == {
        "id": "ste",
        "line": 1,
        "amount": "2500.00",
        "credit_debit": "CRDT",
        "booking_date": "2024-03-11",
        "value_date": "2024-03-11",
        "status": "booked",
        "bank_transaction_code": "PMNT/RCDT/ESCT",
        "references": {
            "message_id": "MSG-77",
            "payment_information_id": "PMTINF-77",
            "instruction_id": "INSTR-77",
            "end_to_end_id": "E2E-SETTLE-0001",
            "transaction_id": "TX-77",
            "account_servicer_reference": "BANKREF-0001",
        },
        "remittance_information": "Settlement of trade T-2024-000123",
        "counterparty": {"name": "Acme Asset Management", "account": "FR1420041010050500013M02606"},
        "reversal": False,
    }
    assert (debit["line"], debit["amount"], debit["credit_debit"], debit["value_date"]) == (
        2,
        "-500.00",
        "DBIT",
        "2024-03-12",
    )
    assert debit["counterparty"] == {"name": "Clearstream Banking", "account": "CBL-778899"}


async def test_an_unknown_statement_is_a_404(api: Api) -> None:
    response = await api.get(f"{STATEMENTS}/stm_nothing", role="operations")

    assert response.status_code == 404
    assert response.json()["detail"] == "No bank statement 'stm_nothing'."


async def test_statements_are_listed_by_account_day_integrity_and_kind(api: Api) -> None:
    euro, dollar = await received(api, sample("camt053_v02_two_statements.xml"))
    first, second = await received(
        api,
        sample("mt940_two_messages.txt", (":62F:C260305EUR9015,54", ":62F:C260305EUR9015,55")),
    )
    [report] = await received(api, sample("mt942_interim.txt"))

    async def listed(**params: str) -> list[str]:
        response = await api.get(STATEMENTS, params=params, role="gateway")
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["items"])

    assert await listed() == sorted(s["id"] for s in (euro, dollar, first, second, report))
    assert await listed(account="CASH-EUR") == sorted([euro["id"], first["id"], second["id"]])
    assert await listed(account="CASH-EUR", from_date="2026-03-06") == [second["id"]]
    assert await listed(to_date="2024-03-11") == sorted([euro["id"], dollar["id"]])
    assert await listed(from_date="2026-03-05", to_date="2026-03-05") == sorted(
        [first["id"], report["id"]]
    )
    assert await listed(integrity="breaks") == sorted([first["id"], second["id"]])
    assert await listed(integrity="ok", account="CASH-EUR") == [euro["id"]]
    assert await listed(kind="report") == [report["id"]]
    assert await listed(account="CASH-NONE") == []


async def test_the_list_pages_in_the_order_received(api: Api) -> None:
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        statement = json_statement(day, "0", "0")
        statement["closing_balance"]["date"] = day
        await received(api, json.dumps({"statements": [statement]}).encode())

    first = await api.get(STATEMENTS, params={"limit": "2"}, role="operations")
    rest = await api.get(
        STATEMENTS, params={"limit": "2", "cursor": first.json()["next_cursor"]}, role="operations"
    )

    assert [s["statement_id"] for s in first.json()["items"]] == ["2026-11-23", "2026-11-24"]
    assert [s["statement_id"] for s in rest.json()["items"]] == ["2026-11-25"]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize("path", [STATEMENTS, f"{STATEMENTS}/stm_x"])
async def test_traders_and_admins_do_not_read_statements(api: Api, path: str) -> None:
    for role in ("trader", "admin"):
        assert (await api.get(path, role=role)).status_code == 403
    assert (await api.get(path)).status_code == 401


@pytest.mark.parametrize(
    "params", [{"integrity": "maybe"}, {"from_date": "25.11.2026"}, {"kind": "daily"}]
)
async def test_a_bad_filter_is_a_422(api: Api, params: dict[str, str]) -> None:
    response = await api.get(STATEMENTS, params=params, role="operations")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == list(params)
