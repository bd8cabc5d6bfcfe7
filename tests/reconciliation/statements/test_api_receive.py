"""POST /statements: a bank's file is stored whole (the raw bytes, each statement with its
integrity) or refused whole. Statements that do not add up or do not follow on are stored with
their breaks; a file that cannot be read, of an account not ours, or repeating a statement
already received stores nothing."""

import asyncio
import json
from typing import Any

import pytest

from app.core.config import Settings
from app.reconciliation.statements.models import BankStatement, StatementEntry, StatementFile
from tests.conftest import Database
from tests.reconciliation.conftest import audit_actions, count
from tests.reconciliation.statements.support import (
    PROBLEMS,
    STATEMENT_ID,
    STATEMENTS,
    files,
    json_statement,
    receive,
    received,
    sample,
)
from tests.support import Api, problem_fields

pytestmark = pytest.mark.usefixtures("accounts")

MT940 = "mt940_two_messages.txt"
CAMT = "camt053_v02_two_statements.xml"
SECOND_MESSAGE_START = "{1:F01BANKBEBBAXXX0000000000}{2:O9401200260306"


def balance(amount: str, day: str) -> dict[str, str]:
    return {"amount": amount, "date": day}


async def nothing_stored(db: Database) -> None:
    assert await count(db, StatementFile) == 0
    assert await count(db, BankStatement) == 0
    assert await count(db, StatementEntry) == 0
    assert await audit_actions(db, "bank_statement") == []


# Stored ----------------------------------------------------------------------------------------


async def test_a_camt_file_with_two_statements_is_stored_whole(api: Api, db: Database) -> None:
    data = sample(CAMT)

    response = await receive(api, data, content_type="application/xml")

    assert response.status_code == 201, response.text
    euro, dollar = response.json()["items"]
    assert STATEMENT_ID.match(euro["id"])
    assert STATEMENT_ID.match(dollar["id"])
    assert {**euro, "id": "stm"} == {
        "id": "stm",
        "account": "CASH-EUR",
        "kind": "statement",
        "statement_id": "STMT-2024-071-EUR",
        "sequence": 71,
        "opening_balance": balance("10000.00", "2024-03-11"),
        "closing_balance": balance("12000.00", "2024-03-11"),
        "currency": "EUR",
        "entries": 2,
        "integrity": "ok",
    }
    assert {**dollar, "id": "stm"} == {
        "id": "stm",
        "account": "CASH-USD-CBK",
        "kind": "statement",
        "statement_id": "STMT-2024-071-USD",
        "sequence": 9,
        "opening_balance": balance("250.50", "2024-03-11"),
        "closing_balance": balance("250.50", "2024-03-11"),
        "currency": "USD",
        "entries": 0,
        "integrity": "ok",
    }
    [file] = await files(db)
    assert (file.content, file.size, file.format, file.statements) == (data, len(data), "camt", 2)
    assert (file.content_type, file.mapping, file.received_by) == (
        "application/xml",
        None,
        (await api.get("/statements/" + euro["id"], role="gateway")).json()["received_by"],
    )
    assert await audit_actions(db, "statement_file") == [(file.id, "received")]
    assert sorted(await audit_actions(db, "bank_statement")) == sorted(
        [(euro["id"], "received"), (dollar["id"], "received")]
    )


async def test_two_mt940_messages_that_follow_on_are_both_ok(api: Api) -> None:
    first, second = await received(api, sample(MT940), content_type="text/plain")

    assert (first["statement_id"], first["sequence"], first["integrity"]) == ("STMT-0305", 64, "ok")
    assert (second["statement_id"], second["sequence"], second["integrity"]) == (
        "STMT-0306",
        65,
        "ok",
    )
    assert second["opening_balance"] == first["closing_balance"] == balance("9015.54", "2026-03-05")


async def test_a_statement_that_does_not_add_up_is_stored_with_its_break(api: Api) -> None:
    # The first message's closing balance one cent off: it does not add up, and the second
    # message's opening (the true 9,015.54) no longer follows on from it.
    data = sample(MT940, (":62F:C260305EUR9015,54", ":62F:C260305EUR9015,55"))

    first, second = await received(api, data)

    assert first["integrity"] == [
        {
            "kind": "does_not_add_up",
            "expected": "9015.54",
            "found": "9015.55",
            "message": "opening 10000.00 plus booked entries -984.46 is 9015.54, the closing "
            "balance is 9015.55 (difference 0.01)",
        }
    ]
    assert second["integrity"] == [
        {
            "kind": "opening_not_previous_closing",
            "expected": "9015.55",
            "found": "9015.54",
            "message": "opening 9015.54 is not the closing 9015.55 of statement STMT-0305",
        }
    ]
    listed = await api.get(STATEMENTS, params={"integrity": "breaks"}, role="operations")
    assert sorted(item["id"] for item in listed.json()["items"]) == sorted(
        [first["id"], second["id"]]
    )


async def test_a_gap_in_the_sequence_is_stored_with_a_break(api: Api) -> None:
    await received(api, sample(MT940))
    later = sample(
        MT940,
        (":20:STMT-0306", ":20:STMT-0308"),
        (":28C:00065/001", ":28C:00067/001"),
    ).split(b"-}")[1]

    [third] = await received(api, later.strip() + b"\n-}")

    assert third["integrity"] == [
        {
            "kind": "sequence_gap",
            "expected": "66",
            "found": "67",
            "message": "1 statement(s) missing between sequence 65 of STMT-0306 and 67",
        }
    ]


async def test_the_statements_of_a_file_are_checked_oldest_first(api: Api) -> None:
    text = sample(MT940).decode()
    start = text.index(SECOND_MESSAGE_START)
    newest_first = (text[start:].rstrip() + "\n" + text[:start]).encode()

    second, first = await received(api, newest_first)

    assert (second["statement_id"], second["integrity"]) == ("STMT-0306", "ok")
    assert (first["statement_id"], first["integrity"]) == ("STMT-0305", "ok")


async def test_a_statement_without_sequence_follows_on_from_the_previous_day(api: Api) -> None:
    monday = json_statement("2026-11-23", "0.00", "100.00")
    monday["closing_balance"]["date"] = "2026-11-23"
    tuesday = json_statement("2026-11-24", "100.00", "100.00")
    tuesday["closing_balance"]["date"] = "2026-11-24"
    wednesday = json_statement("2026-11-25", "90.00", "90.00")

    await received(api, json.dumps({"statements": [monday]}).encode())
    await received(api, json.dumps({"statements": [wednesday]}).encode())
    [late] = await received(api, json.dumps({"statements": [tuesday]}).encode())

    # Tuesday's arrives last: it is checked against Monday's, the one before it.
    assert late["integrity"] == "ok"
    wednesday_stored = (
        await api.get(STATEMENTS, params={"from_date": "2026-11-25"}, role="operations")
    ).json()["items"]
    assert [s["integrity"][0]["kind"] for s in wednesday_stored] == ["opening_not_previous_closing"]


async def test_the_first_statement_with_a_sequence_follows_on_from_one_without(
    api: Api,
) -> None:
    without = json_statement("2026-11-24", "0.00", "100.00")
    without["closing_balance"]["date"] = "2026-11-24"
    numbered = json_statement("S-330", "99.00", "99.00", sequence=330)
    await received(api, json.dumps({"statements": [without]}).encode())

    [stored] = await received(api, json.dumps({"statements": [numbered]}).encode())

    assert stored["integrity"] == [
        {
            "kind": "opening_not_previous_closing",
            "expected": "100.00",
            "found": "99.00",
            "message": "opening 99.00 is not the closing 100.00 of statement 2026-11-24",
        }
    ]


async def test_an_intraday_report_is_not_checked_against_end_of_day_statements(api: Api) -> None:
    await received(api, sample(MT940))
    report = {
        **json_statement("INTRA-1", "0.00", "0.00", kind="report", sequence=1),
        "opening_balance": None,
        "closing_balance": None,
    }

    [stored] = await received(api, json.dumps({"statements": [report]}).encode())

    assert (stored["kind"], stored["integrity"]) == ("report", "ok")


# Formats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "content_type"),
    [
        ({"format": "mt940"}, "application/octet-stream"),
        ({"format": "swift"}, None),
        ({}, "text/plain"),
        ({}, None),
    ],
)
async def test_the_format_is_given_or_detected(
    api: Api, params: dict[str, str], content_type: str | None
) -> None:
    items = await received(api, sample(MT940), params=params, content_type=content_type)

    assert [item["statement_id"] for item in items] == ["STMT-0305", "STMT-0306"]


async def test_a_json_file_is_read_by_its_content_type(api: Api, db: Database) -> None:
    data = json.dumps({"statements": [json_statement("S-1", "1.00", "1.00")]}).encode()

    [stored] = await received(api, data, content_type="application/json")

    assert (stored["statement_id"], stored["sequence"], stored["integrity"]) == ("S-1", None, "ok")
    assert [file.format for file in await files(db)] == ["json"]


async def test_a_file_whose_format_cannot_be_told_is_a_422(api: Api, db: Database) -> None:
    response = await receive(api, b"date,amount\n2026-11-25,1.00\n")

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "format",
            "message": "the Content-Type and the content do not tell; pass ?format=",
        }
    ]
    bad = await receive(api, sample(MT940), params={"format": "mt103"})
    assert (bad.status_code, problem_fields(bad)) == (422, {"format"})
    await nothing_stored(db)


# CSV -------------------------------------------------------------------------------------------

CSV = (
    "Konto;Auszug;Buchungstag;Valuta;Betrag;S/H;Verwendungszweck;Anfangssaldo;Endsaldo\n"
    "DE89 3704 0044 0532 0130 00;330;25.11.2026;25.11.2026;2.500,00;H;Trade FO-1;10.000,00;\n"
    "DE89 3704 0044 0532 0130 00;330;25.11.2026;26.11.2026;0,50;S;Fee;;12.499,50\n"
)
MAPPING = {
    "name": "commerzbank-de",
    "columns": {
        "account": "Konto",
        "statement_id": "Auszug",
        "booking_date": "Buchungstag",
        "value_date": "Valuta",
        "amount": "Betrag",
        "credit_debit": "S/H",
        "remittance_information": "Verwendungszweck",
        "opening_balance": "Anfangssaldo",
        "closing_balance": "Endsaldo",
    },
    "delimiter": ";",
    "decimal_separator": ",",
    "thousands_separator": ".",
    "date_format": "%d.%m.%Y",
    "currency": "EUR",
    "credit_values": ["H"],
}


async def test_a_csv_file_is_read_with_its_named_mapping(api: Api, db: Database) -> None:
    created = await api.post("/statement-mappings", json=MAPPING, role="operations")
    assert created.status_code == 201, created.text

    [stored] = await received(
        api, CSV.encode(), params={"mapping": "commerzbank-de"}, content_type="text/csv"
    )

    assert {**stored, "id": "stm"} == {
        "id": "stm",
        "account": "CASH-EUR",
        "kind": "statement",
        "statement_id": "330",
        "sequence": None,
        "opening_balance": balance("10000.00", "2026-11-25"),
        "closing_balance": balance("12499.50", "2026-11-25"),
        "currency": "EUR",
        "entries": 2,
        "integrity": "ok",
    }
    [file] = await files(db)
    assert (file.format, file.mapping, file.mapping_version) == ("csv", "commerzbank-de", 1)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "csv"}, "a CSV statement needs ?mapping=<name> (see /statement-mappings)"),
        ({"format": "csv", "mapping": "nobody"}, "there is no statement mapping 'nobody'"),
    ],
)
async def test_a_csv_file_without_a_known_mapping_is_a_422(
    api: Api, db: Database, params: dict[str, str], message: str
) -> None:
    response = await receive(api, CSV.encode(), params=params)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "mapping", "message": message}]
    await nothing_stored(db)


# Refused whole ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "location", "message"),
    [
        (
            sample(CAMT, ('<Amt Ccy="EUR">500.00</Amt>', "")),
            "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt",
            "required element is missing",
        ),
        (b"<Document", "line 1", "not well-formed XML (unclosed token: line 1, column 0)"),
        (
            sample(MT940, (":60F:C260305EUR9015,54", ":60F:C260305EUR9015.54")),
            "line 17",
            "unreadable balance :60F: 'C260305EUR9015.54': expected a D/C mark, a YYMMDD date, "
            "a currency and an amount with a decimal comma",
        ),
        (
            b'{"statements": []}',
            "statements",
            "List should have at least 1 item after validation, not 0",
        ),
        (
            json.dumps({"statements": [json_statement("S\u0000", "0", "0")]}).encode(),
            "statement 1",
            "statement_id holds a NUL character",
        ),
    ],
)
async def test_an_unreadable_file_is_a_422_naming_where_and_stores_nothing(
    api: Api, db: Database, data: bytes, location: str, message: str
) -> None:
    response = await receive(api, data)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == PROBLEMS + "statement-unreadable"
    assert body["location"] == location
    assert body["errors"] == [{"field": location, "message": message}]
    assert body["detail"] == f"{location}: {message}. Nothing was stored."
    await nothing_stored(db)


async def test_a_statement_of_an_account_not_ours_refuses_the_whole_file(
    api: Api, db: Database
) -> None:
    data = sample(CAMT, ("<Othr><Id>0099887766</Id></Othr>", "<Othr><Id>777-NOT-OURS</Id></Othr>"))

    response = await receive(api, data)

    assert response.status_code == 422
    body = response.json()
    assert body["account"] == "777-NOT-OURS"
    assert body["errors"] == [
        {
            "field": "account",
            "message": "'777-NOT-OURS' is none of our cash accounts (by IBAN or number)",
        }
    ]
    assert body["detail"].startswith("Statement 2 (STMT-2024-071-USD): '777-NOT-OURS' is none")
    await nothing_stored(db)


async def test_a_statement_received_again_is_a_409_naming_it(api: Api, db: Database) -> None:
    euro, _ = await received(api, sample(CAMT))

    response = await receive(api, sample(CAMT))

    assert response.status_code == 409
    body = response.json()
    assert body["type"] == PROBLEMS + "statement-already-received"
    assert body["id"] == euro["id"]
    stored = (await api.get(f"{STATEMENTS}/{euro['id']}", role="operations")).json()
    assert body["content_hash"] == stored["content_hash"]
    assert body["detail"] == (
        f"The statement STMT-2024-071-EUR of CASH-EUR (71/12/-) was received before as "
        f"{euro['id']}, with the same content; the whole file was refused."
    )
    assert len(await files(db)) == 1
    assert await count(db, BankStatement) == 2


async def test_the_same_statement_with_other_content_is_a_409_with_both_hashes(
    api: Api, db: Database
) -> None:
    first, _ = await received(api, sample(MT940))
    changed = sample(MT940, (":86:Settlement trade T-1001", ":86:Settlement trade T-1002"))

    response = await receive(api, changed)

    assert response.status_code == 409
    body = response.json()
    stored = (await api.get(f"{STATEMENTS}/{first['id']}", role="operations")).json()
    assert body["id"] == first["id"]
    assert body["stored_content_hash"] == stored["content_hash"]
    assert len(body["received_content_hash"]) == 64
    assert body["received_content_hash"] != stored["content_hash"]
    assert (
        f"(stored {stored['content_hash']}, received {body['received_content_hash']})"
        in body["detail"]
    )
    assert len(await files(db)) == 1


async def test_a_file_repeating_one_statement_stores_none_of_the_others(
    api: Api, db: Database
) -> None:
    text = sample(MT940).decode()
    first_message = text[: text.index(SECOND_MESSAGE_START)].encode()
    await received(api, first_message)

    response = await receive(api, sample(MT940))

    assert response.status_code == 409
    listed = (await api.get(STATEMENTS, role="operations")).json()["items"]
    assert [item["statement_id"] for item in listed] == ["STMT-0305"]
    assert len(await files(db)) == 1


async def test_a_file_holding_a_statement_twice_is_a_422(api: Api, db: Database) -> None:
    twice = json_statement("S-1", "1.00", "1.00")
    data = json.dumps({"statements": [twice, twice]}).encode()

    response = await receive(api, data)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "statement_id", "message": "'S-1' is repeated"}]
    await nothing_stored(db)


async def test_a_body_larger_than_the_limit_is_a_413(api: Api, db: Database) -> None:
    cap = Settings().body_limits["/api/v1/statements"]

    response = await receive(api, sample(MT940) + b" " * cap)

    assert response.status_code == 413
    await nothing_stored(db)


# Idempotency and roles -------------------------------------------------------------------------


async def test_the_same_idempotency_key_replays_the_answer(api: Api, db: Database) -> None:
    key = {"Idempotency-Key": "stmt-file-1"}
    first = await receive(api, sample(CAMT), headers=key)
    again = await receive(api, sample(CAMT), headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(await files(db)) == 1


@pytest.mark.parametrize(
    "other",
    [
        {"data": sample(MT940)},
        {"data": sample(CAMT), "params": {"format": "camt"}},
        {"data": sample(CAMT), "content_type": "text/xml"},
    ],
)
async def test_the_key_with_other_bytes_or_query_is_a_422(
    api: Api, db: Database, other: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "stmt-file-2"}
    await received(api, sample(CAMT), headers=key)

    options = dict(other)
    data = options.pop("data")
    response = await receive(api, data, headers=key, **options)

    assert response.status_code == 422
    assert response.json()["type"] == PROBLEMS + "idempotency-key-reused"
    assert len(await files(db)) == 1


async def test_operations_send_files_too_and_other_roles_are_refused(
    api: Api, db: Database
) -> None:
    for role in ("trader", "compliance", "admin"):
        refused = await receive(api, sample(MT940), role=role)
        assert refused.status_code == 403, role
    anonymous = await api.post(STATEMENTS, content=sample(MT940))
    assert anonymous.status_code == 401
    await nothing_stored(db)

    assert len(await received(api, sample(MT940), role="operations")) == 2


async def test_the_same_file_sent_twice_at_once_is_stored_once(api: Api, db: Database) -> None:
    answers = await asyncio.gather(receive(api, sample(CAMT)), receive(api, sample(CAMT)))

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    [refused] = [answer.json() for answer in answers if answer.status_code == 409]
    # The account's statements are received one file at a time: the second file finds the
    # first one's statement (not a bare unique-constraint conflict).
    assert refused["type"] == PROBLEMS + "statement-already-received"
    assert len(await files(db)) == 1
