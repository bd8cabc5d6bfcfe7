"""/statement-mappings: named CSV column mappings kept as data, created by operations, replaced
whole under If-Match, read by operations, gateways and compliance; every rule a mapping must
keep is a 422 naming its field."""

from typing import Any

import pytest

from tests.conftest import Database
from tests.reconciliation.conftest import audit_actions
from tests.support import Api, problem_fields

MAPPINGS = "/statement-mappings"
PROBLEMS = "https://settlement.example/problems/"


def german(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "commerzbank-de",
        "description": "Commerzbank CSV export",
        "columns": {
            "account": "Konto",
            "statement_id": "Auszug",
            "booking_date": "Buchungstag",
            "value_date": "Valuta",
            "amount": "Betrag",
            "credit_debit": "S/H",
        },
        "delimiter": ";",
        "decimal_separator": ",",
        "thousands_separator": ".",
        "date_format": "%d.%m.%Y",
        "currency": "EUR",
        "encoding": "latin-1",
        "credit_values": ["h"],
    }
    payload.update(changes)
    return payload


def stored(payload: dict[str, Any], version: int = 1) -> dict[str, Any]:
    return {
        **payload,
        "credit_values": [v.upper() for v in payload["credit_values"]],
        "version": version,
        "created_at": "2026-11-25T15:00:00Z",
        "updated_at": "2026-11-25T15:00:00Z",
    }


async def create(api: Api, payload: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(MAPPINGS, json=payload, role="operations")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_mapping_is_created_and_read_back_by_every_reader(api: Api, db: Database) -> None:
    response = await api.post(MAPPINGS, json=german(), role="operations")

    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/statement-mappings/commerzbank-de"
    assert response.json() == stored(german())
    for role in ("operations", "gateway", "compliance"):
        one = await api.get(f"{MAPPINGS}/commerzbank-de", role=role)
        assert (one.status_code, one.json(), one.headers["etag"]) == (200, stored(german()), '"1"')
    listed = await api.get(MAPPINGS, role="gateway")
    assert listed.json() == {"items": [stored(german())], "next_cursor": None}
    assert await audit_actions(db, "statement_mapping") == [("commerzbank-de", "created")]


async def test_the_defaults_fill_what_is_not_given(api: Api) -> None:
    minimal = {
        "name": "plain",
        "columns": {"account": "acct", "booking_date": "date", "amount": "amt", "currency": "ccy"},
    }

    body = await create(api, minimal)

    assert {k: body[k] for k in ("delimiter", "decimal_separator", "thousands_separator")} == {
        "delimiter": ",",
        "decimal_separator": ".",
        "thousands_separator": "",
    }
    assert (body["date_format"], body["encoding"], body["currency"]) == ("%Y-%m-%d", "utf-8", None)
    assert body["credit_values"] == ["C", "CR", "CRDT"]


async def test_a_name_taken_is_a_409(api: Api) -> None:
    await create(api, german())

    response = await api.post(MAPPINGS, json=german(description="again"), role="operations")

    assert response.status_code == 409
    assert response.json()["detail"] == "The statement mapping 'commerzbank-de' already exists."


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"columns": {**german()["columns"], "saldo": "Saldo"}}, {"columns.saldo"}),
        ({"date_format": "%d.%m"}, {"date_format"}),
        ({"date_format": "%Q-%d"}, {"date_format"}),
        ({"date_format": "%m.%d.%Y %d"}, {"date_format"}),
        ({"encoding": "klingon-8"}, {"encoding"}),
        ({"thousands_separator": ","}, {"thousands_separator"}),
        ({"delimiter": '"'}, {"delimiter"}),
        ({"delimiter": ";;"}, {"delimiter"}),
        ({"decimal_separator": ";"}, {"decimal_separator"}),
        ({"currency": "XYZ"}, {"currency"}),
        ({"credit_values": []}, {"credit_values"}),
        ({"name": "has space"}, {"name"}),
        ({"columns": {"booking_date": "d", "amount": "a"}}, {"columns"}),
        ({"columns": {"account": "k", "booking_date": "d", "credit": "c"}}, {"columns"}),
        ({"currency": None}, {"columns"}),
        (
            {"columns": {**german()["columns"], "nonsense": "x"}, "date_format": "%Y"},
            {"columns.nonsense", "date_format"},
        ),
    ],
)
async def test_a_mapping_that_cannot_read_a_file_is_a_422_naming_the_field(
    api: Api, db: Database, changes: dict[str, Any], fields: set[str]
) -> None:
    response = await api.post(MAPPINGS, json=german(**changes), role="operations")

    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields
    assert await audit_actions(db, "statement_mapping") == []


async def test_the_problems_say_what_is_wrong(api: Api) -> None:
    response = await api.post(
        MAPPINGS,
        json=german(columns={"account": "k", "amount": "a", "saldo": "s"}, date_format="%d"),
        role="operations",
    )

    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {
        "columns.saldo": "is not a field; fields are: account, currency, statement_id, sequence, "
        "booking_date, value_date, amount, credit, debit, credit_debit, bank_transaction_code, "
        "end_to_end_id, account_servicer_reference, remittance_information, counterparty_name, "
        "counterparty_account, opening_balance, closing_balance",
        "date_format": "is not a strptime format of a whole date (day, month and year)",
    }
    missing = await api.post(
        MAPPINGS, json=german(columns={"account": "k", "amount": "a"}), role="operations"
    )
    assert missing.json()["errors"] == [
        {"field": "columns", "message": "the mapping must name the 'booking_date' column"}
    ]


async def test_put_replaces_the_whole_mapping_at_the_version_read(api: Api, db: Database) -> None:
    await create(api, german())
    replacement = {k: v for k, v in german(delimiter=",", currency="USD").items() if k != "name"}
    del replacement["description"]

    response = await api.request(
        "PUT",
        f"{MAPPINGS}/commerzbank-de",
        json=replacement,
        headers={"If-Match": '"1"'},
        role="operations",
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json() == stored(
        {**replacement, "name": "commerzbank-de", "description": None}, 2
    )
    assert await audit_actions(db, "statement_mapping") == [
        ("commerzbank-de", "created"),
        ("commerzbank-de", "replaced"),
    ]


async def test_put_with_nothing_changed_keeps_the_version(api: Api, db: Database) -> None:
    await create(api, german())
    same = {k: v for k, v in german().items() if k != "name"}

    response = await api.request(
        "PUT", f"{MAPPINGS}/commerzbank-de", json=same, headers={"If-Match": "1"}, role="operations"
    )

    assert (response.status_code, response.json()["version"]) == (200, 1)
    assert await audit_actions(db, "statement_mapping") == [("commerzbank-de", "created")]


async def test_a_stale_or_missing_if_match_changes_nothing(api: Api) -> None:
    await create(api, german())
    body = {k: v for k, v in german(delimiter=",").items() if k != "name"}
    path = f"{MAPPINGS}/commerzbank-de"
    await api.request("PUT", path, json=body, headers={"If-Match": '"1"'}, role="operations")

    stale = await api.request(
        "PUT", path, json={**body, "delimiter": "|"}, headers={"If-Match": '"1"'}, role="operations"
    )
    missing = await api.request("PUT", path, json={**body, "delimiter": "|"}, role="operations")

    assert stale.status_code == 412
    assert stale.json()["type"] == PROBLEMS + "precondition-failed"
    assert stale.json()["current_version"] == 2
    assert missing.status_code == 428
    assert (await api.get(path, role="operations")).json()["delimiter"] == ","


async def test_put_refuses_an_invalid_mapping_and_an_unknown_name(api: Api) -> None:
    await create(api, german())
    body = {k: v for k, v in german().items() if k != "name"}

    invalid = await api.request(
        "PUT",
        f"{MAPPINGS}/commerzbank-de",
        json={**body, "date_format": "%Y"},
        headers={"If-Match": '"1"'},
        role="operations",
    )
    unknown = await api.request(
        "PUT", f"{MAPPINGS}/nobody", json=body, headers={"If-Match": '"1"'}, role="operations"
    )

    assert (invalid.status_code, problem_fields(invalid)) == (422, {"date_format"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "No statement mapping 'nobody'."
    assert (await api.get(f"{MAPPINGS}/nobody", role="compliance")).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "refused"),
    [
        ("POST", MAPPINGS, ("gateway", "compliance", "trader", "admin")),
        ("PUT", f"{MAPPINGS}/commerzbank-de", ("gateway", "compliance", "trader", "admin")),
        ("GET", MAPPINGS, ("trader", "admin")),
        ("GET", f"{MAPPINGS}/commerzbank-de", ("trader", "admin")),
    ],
)
async def test_only_operations_write_and_traders_do_not_read(
    api: Api, method: str, path: str, refused: tuple[str, ...]
) -> None:
    await create(api, german())
    kwargs: dict[str, Any] = {"json": german()} if method != "GET" else {}
    for role in refused:
        response = await api.request(method, path, role=role, **kwargs)
        assert response.status_code == 403, (role, response.text)
    assert (await api.request(method, path, **kwargs)).status_code == 401


async def test_the_same_idempotency_key_replays_the_creation(api: Api) -> None:
    headers = {"Idempotency-Key": "map-1"}
    first = await api.post(MAPPINGS, json=german(), headers=headers, role="operations")
    again = await api.post(MAPPINGS, json=german(), headers=headers, role="operations")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
