"""POST / GET /holdings-statements: every format stored, every refusal storing nothing, the
repeats (409), idempotent replays, and who may call."""

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.core.config import Settings
from app.reconciliation.holdings import repository
from app.reconciliation.holdings.parsing.detect import HoldingsFormat
from app.reconciliation.holdings.parsing.parse import parse_holdings
from app.reconciliation.holdings.service import content_hash
from tests.conftest import Database
from tests.reconciliation.holdings.support import (
    APPLE,
    BNP,
    BUND,
    JPM,
    SAP,
    TOTAL,
    counts,
    holdings_json,
    key_id,
    post_file,
    problem,
    sample,
)
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.usefixtures("reference")
PROBLEMS = "https://settlement.example/problems/"
NOTHING = {"files": 0, "statements": 0, "lines": 0, "audit": 0}


def hash_of(data: bytes | str, holdings_format: HoldingsFormat, number: int = 0) -> str:
    body = data.encode() if isinstance(data, str) else data
    return content_hash(parse_holdings(body, holdings_format=holdings_format)[number])


# Receiving each format ---------------------------------------------------------------------


async def test_a_semt002_file_is_stored_with_its_lines(api: Api, db: Database) -> None:
    data = sample("semt002_v11_settled_page_1_of_2.xml")
    response = await post_file(api, data, content_type="application/xml")
    assert response.status_code == 201, response.text
    body = response.json()
    [statement] = body["statements"]
    assert body == {
        "file_id": body["file_id"],
        "format": "semt002",
        "sha256": hashlib.sha256(data).hexdigest(),
        "statements": [
            {
                "id": statement["id"],
                "file_id": body["file_id"],
                "account": "SEC-DTC",
                "safekeeping_account": "DEMO-DTC-0001",
                "statement_id": "HLD-DTC-20261124",
                "statement_date": "2026-11-24",
                "basis": "settled",
                "page": 1,
                "last_page": False,
                "line_count": 2,
                "content_hash": hash_of(data, HoldingsFormat.SEMT002),
                "received_at": "2026-11-25T15:00:00Z",
                "received_by": await key_id(api, "gateway"),
            }
        ],
    }
    assert body["file_id"].startswith("hfl_")
    assert statement["id"].startswith("hst_")
    detail = await api.get(f"/holdings-statements/{statement['id']}", role="compliance")
    assert detail.status_code == 200
    assert detail.json() == {
        **statement,
        "lines": [
            {"isin": JPM, "quantity": "1500", "quantity_type": "UNIT", "available": "1200"},
            {"isin": APPLE, "quantity": "200", "quantity_type": "UNIT", "available": None},
        ],
    }
    assert await counts(db) == {"files": 1, "statements": 1, "lines": 2, "audit": 1}


async def test_an_mt535_file_of_two_pages_is_two_statements(api: Api) -> None:
    response = await post_file(
        api,
        sample("mt535_two_pages_lf_no_final_newline.txt"),
        role="operations",
        content_type="text/plain",
        params={"format": "mt535"},
    )
    assert response.status_code == 201, response.text
    statements = response.json()["statements"]
    assert [
        (s["account"], s["statement_id"], s["basis"], s["page"], s["last_page"], s["line_count"])
        for s in statements
    ] == [
        ("SEC-EB", "EB20261124P1", "traded", 1, False, 2),
        ("SEC-EB", "EB20261124P2", "traded", 2, True, 2),
    ]
    second = (
        await api.get(f"/holdings-statements/{statements[1]['id']}", role="compliance")
    ).json()
    assert second["lines"] == [
        {"isin": BNP, "quantity": "0", "quantity_type": "UNIT", "available": None},
        {"isin": SAP, "quantity": "12.5", "quantity_type": "UNIT", "available": None},
    ]


async def test_the_format_is_told_by_the_content_when_the_content_type_does_not(api: Api) -> None:
    response = await post_file(
        api, sample("mt535_full_envelope_crlf.txt"), content_type="application/octet-stream"
    )
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "mt535"


async def test_csv_takes_account_and_date_from_the_request_matching_our_account_code(
    api: Api,
) -> None:
    response = await post_file(
        api,
        sample("holdings_semicolon_bom_no_account.csv"),
        content_type="text/csv",
        params={"account": "SEC-EOCF", "date": "2026-11-24", "statement_id": "EOCF-CSV-1"},
    )
    assert response.status_code == 201, response.text
    [statement] = response.json()["statements"]
    assert (statement["account"], statement["safekeeping_account"], statement["statement_id"]) == (
        "SEC-EOCF",
        "SEC-EOCF",
        "EOCF-CSV-1",
    )
    assert (statement["basis"], statement["page"], statement["last_page"]) == (None, 1, True)
    lines = (await api.get(f"/holdings-statements/{statement['id']}", role="gateway")).json()
    assert [(line["isin"], line["quantity"]) for line in lines["lines"]] == [
        (TOTAL, "-300"),
        (BNP, "0"),
        (SAP, "12.5"),
    ]


async def test_a_csv_header_alone_is_a_statement_holding_nothing(api: Api) -> None:
    response = await post_file(
        api, "isin,quantity\n", params={"format": "csv", "account": "SEC-CBF", "date": "2026-11-24"}
    )
    assert response.status_code == 201, response.text
    [statement] = response.json()["statements"]
    assert (statement["account"], statement["statement_id"], statement["line_count"]) == (
        "SEC-CBF",
        "2026-11-24",
        0,
    )


async def test_a_json_file_of_two_accounts(api: Api, db: Database) -> None:
    response = await post_file(api, sample("holdings_two_statements.json"))
    assert response.status_code == 201, response.text
    assert [(s["account"], s["line_count"]) for s in response.json()["statements"]] == [
        ("SEC-DTC", 2),
        ("SEC-EB", 2),
    ]
    assert await counts(db) == {"files": 1, "statements": 2, "lines": 4, "audit": 2}


async def test_one_audit_record_per_statement_received(api: Api, db: Database) -> None:
    response = await post_file(api, sample("holdings_two_statements.json"))
    ids = [s["id"] for s in response.json()["statements"]]
    async with db.sessionmaker() as session:
        records = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.entity_type == "holdings_statement")
                .order_by(AuditRecord.id)
            )
        ).all()
    assert [(r.entity_id, r.action, r.actor_role, r.before) for r in records] == [
        (ids[0], "received", "gateway", None),
        (ids[1], "received", "gateway", None),
    ]
    assert records[1].after is not None
    assert records[1].after["account"] == "SEC-EB"


# Refusals: nothing stored ------------------------------------------------------------------


async def test_an_unreadable_file_is_422_naming_the_line_and_stores_nothing(
    api: Api, db: Database
) -> None:
    response = await post_file(
        api, b'<?xml version="1.0"?>\n<Document>\n<Sctie>\n</Document>', content_type="text/xml"
    )
    assert response.status_code == 422
    body = problem(response)
    assert body["type"] == PROBLEMS + "holdings-unreadable"
    assert body["location"] == "line 4"
    assert body["errors"][0]["field"] == "line 4"
    assert body["errors"][0]["message"].startswith("not well-formed XML")
    assert await counts(db) == NOTHING


async def test_a_missing_isin_is_422_naming_the_element(api: Api, db: Database) -> None:
    data = sample("semt002_v11_settled_page_1_of_2.xml").replace(
        b"<ISIN>US0378331005</ISIN>", b"<Desc>APPLE</Desc>"
    )
    response = await post_file(api, data)
    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {
            "field": "Document/SctiesBalCtdyRpt/BalForAcct[2]/FinInstrmId/ISIN",
            "message": "no ISIN",
        }
    ]
    assert await counts(db) == NOTHING


async def test_a_statement_of_an_account_not_ours_refuses_the_whole_file(
    api: Api, db: Database
) -> None:
    text = sample("holdings_two_statements.json").decode().replace("DEMO-EB-0001", "DEMO-XX-9")
    response = await post_file(api, text)
    assert response.status_code == 422
    body = problem(response)
    assert body["type"] == PROBLEMS + "unknown-safekeeping-account"
    assert body["errors"] == [
        {
            "field": "safekeeping_account",
            "message": "'DEMO-XX-9' is neither the code nor the account number of our accounts",
        }
    ]
    assert await counts(db) == NOTHING


async def test_a_cash_account_is_not_a_safekeeping_account(api: Api) -> None:
    response = await post_file(api, holdings_json((JPM, "1"), account="DEMO-USD-000001"))
    assert response.status_code == 422
    assert problem(response)["detail"] == (
        "'DEMO-USD-000001' is the cash account CASH-USD, not a securities account; "
        "nothing was stored."
    )


async def test_the_same_statement_twice_in_one_file_is_422(api: Api, db: Database) -> None:
    one = holdings_json((JPM, "1"))
    statement = one.removeprefix('{"statements": [').removesuffix("]}")
    response = await post_file(api, f'{{"statements": [{statement}, {statement}]}}')
    assert response.status_code == 422
    body = problem(response)
    assert body["detail"] == (
        "The file holds statement 'S-1' of 2026-11-24 for 'DEMO-DTC-0001' twice (statements 1 "
        "and 2); nothing was stored."
    )
    assert await counts(db) == NOTHING


async def test_an_unknown_format_is_415(api: Api) -> None:
    response = await post_file(api, "hello", content_type="text/plain")
    assert response.status_code == 415
    assert problem(response)["type"] == PROBLEMS + "unsupported-media-type"


async def test_an_unknown_format_parameter_is_422(api: Api) -> None:
    response = await post_file(api, "x", params={"format": "mt940"})
    assert response.status_code == 422


async def test_a_body_too_large_is_413(api: Api) -> None:
    cap = Settings().body_limits["/api/v1/holdings-statements"]
    response = await post_file(api, sample("holdings_two_statements.json") + b" " * cap)
    assert response.status_code == 413
    assert problem(response)["detail"].startswith("The body has ")


async def test_an_empty_body_is_422(api: Api) -> None:
    response = await post_file(api, b"", params={"format": "json"})
    assert response.status_code == 422
    assert problem(response)["errors"] == [{"field": "line 1", "message": "the file is empty"}]


# Repeats ------------------------------------------------------------------------------------


async def test_the_same_statement_again_is_409_naming_the_stored_one(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    data = sample("mt535_full_envelope_crlf.txt")
    first = (await post_file(api, data)).json()["statements"][0]
    clock.advance(hours=1)
    response = await post_file(api, data)
    assert response.status_code == 409
    body = problem(response)
    assert body["type"] == PROBLEMS + "holdings-statement-already-received"
    assert body["detail"] == (
        f"Already received: statement 'DTC20261124' page 1 of 2026-11-24 for 'DEMO-DTC-0001' is "
        f"{first['id']}; nothing was stored."
    )
    assert body["conflicts"] == [
        {
            "statement": "statement 'DTC20261124' page 1 of 2026-11-24 for 'DEMO-DTC-0001'",
            "stored_id": first["id"],
            "stored_hash": first["content_hash"],
            "received_hash": first["content_hash"],
        }
    ]
    assert (await counts(db))["statements"] == 1


async def test_the_same_statement_with_other_content_is_409_with_both_hashes(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    first = (await post_file(api, holdings_json((JPM, "1500")))).json()["statements"][0]
    clock.advance(hours=1)
    changed = holdings_json((JPM, "1400"))
    response = await post_file(api, changed)
    assert response.status_code == 409
    body = problem(response)
    received = hash_of(changed, HoldingsFormat.JSON)
    assert body["type"] == PROBLEMS + "holdings-statement-content-differs"
    assert body["conflicts"] == [
        {
            "statement": "statement 'S-1' of 2026-11-24 for 'DEMO-DTC-0001'",
            "stored_id": first["id"],
            "stored_hash": first["content_hash"],
            "received_hash": received,
        }
    ]
    assert first["content_hash"] != received
    assert body["detail"] == (
        f"statement 'S-1' of 2026-11-24 for 'DEMO-DTC-0001' was stored as {first['id']} with "
        f"content {first['content_hash']}, this file has {received}; nothing was stored."
    )
    assert (await counts(db))["statements"] == 1


async def test_the_same_quantities_written_otherwise_are_the_same_content(
    api: Api, clock: FrozenClock
) -> None:
    await post_file(api, holdings_json((JPM, "1500")))
    clock.advance(hours=1)
    response = await post_file(api, holdings_json((JPM, "1500.000")))
    assert problem(response)["type"] == PROBLEMS + "holdings-statement-already-received"


async def test_a_file_with_one_new_and_one_received_statement_stores_neither(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    await post_file(api, holdings_json((JPM, "1"), statement_id="S-1"))
    clock.advance(hours=1)
    new = holdings_json((JPM, "2"), statement_id="S-2").removeprefix('{"statements": [')
    old = holdings_json((JPM, "1"), statement_id="S-1").removeprefix('{"statements": [')
    both = '{"statements": [' + new.removesuffix("]}") + ", " + old
    response = await post_file(api, both)
    assert response.status_code == 409
    assert await counts(db) == {"files": 1, "statements": 1, "lines": 1, "audit": 1}


async def test_a_statement_stored_between_the_check_and_the_insert_is_409(
    api: Api, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_file(api, holdings_json((JPM, "1")))
    clock.advance(hours=1)

    async def nothing_received(*_args: Any) -> list[Any]:
        return []  # as if the other request had not committed yet when we looked

    monkeypatch.setattr(repository, "received", nothing_received)
    response = await post_file(api, holdings_json((JPM, "1")))
    assert response.status_code == 409
    assert problem(response)["detail"] == (
        "statement 'S-1' of 2026-11-24 for 'DEMO-DTC-0001' was stored by a request at the same "
        "time; send the file again to see which; nothing was stored."
    )
    assert (await counts(db))["statements"] == 1


# Idempotency-Key ------------------------------------------------------------------------------


async def test_the_same_key_and_file_replays_the_first_answer(
    api: Api, db: Database, clock: FrozenClock
) -> None:
    data = sample("holdings_two_statements.json")
    first = await post_file(api, data, key="hold-1")
    clock.advance(minutes=5)
    again = await post_file(api, data, key="hold-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (await counts(db))["statements"] == 2


async def test_the_same_key_with_another_file_is_422_and_writes_nothing(
    api: Api, db: Database
) -> None:
    await post_file(api, holdings_json((JPM, "1")), key="hold-2")
    response = await post_file(api, holdings_json((APPLE, "1"), statement_id="S-9"), key="hold-2")
    assert response.status_code == 422
    assert problem(response)["type"] == PROBLEMS + "idempotency-key-reused"
    assert (await counts(db))["statements"] == 1


async def test_the_same_key_and_file_read_otherwise_is_another_request(api: Api) -> None:
    data = "isin,quantity\n" + f"{JPM},1\n"
    params = {"format": "csv", "account": "SEC-DTC", "date": "2026-11-24"}
    await post_file(api, data, params=params, key="hold-3")
    response = await post_file(api, data, params={**params, "date": "2026-11-23"}, key="hold-3")
    assert problem(response)["type"] == PROBLEMS + "idempotency-key-reused"


# Reading ----------------------------------------------------------------------------------------


async def test_list_filters_by_account_and_date_and_pages(api: Api) -> None:
    await post_file(api, sample("holdings_two_statements.json"))
    await post_file(
        api, "isin,quantity\n", params={"format": "csv", "account": "SEC-DTC", "date": "2026-11-23"}
    )
    everything = (await api.get("/holdings-statements", role="operations")).json()
    assert [(s["account"], s["statement_date"]) for s in everything["items"]] == [
        ("SEC-DTC", "2026-11-24"),
        ("SEC-EB", "2026-11-24"),
        ("SEC-DTC", "2026-11-23"),
    ]
    by_account = await api.get(
        "/holdings-statements", params={"account": "SEC-DTC"}, role="operations"
    )
    assert [s["statement_date"] for s in by_account.json()["items"]] == ["2026-11-24", "2026-11-23"]
    on_day = await api.get(
        "/holdings-statements",
        params={"account": "SEC-DTC", "date": "2026-11-23"},
        role="compliance",
    )
    assert [s["statement_id"] for s in on_day.json()["items"]] == ["2026-11-23"]
    first = (await api.get("/holdings-statements", params={"limit": 2}, role="gateway")).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"] is not None
    rest = await api.get(
        "/holdings-statements", params={"cursor": first["next_cursor"]}, role="gateway"
    )
    assert [s["account"] for s in rest.json()["items"]] == ["SEC-DTC"]
    assert rest.json()["next_cursor"] is None


async def test_an_unknown_statement_is_404(api: Api) -> None:
    response = await api.get("/holdings-statements/hst_nothing", role="operations")
    assert response.status_code == 404
    assert problem(response)["detail"] == "No holdings statement 'hst_nothing'."


# Who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trader", "compliance", "admin"])
async def test_only_gateway_and_operations_send_holdings(api: Api, db: Database, role: str) -> None:
    response = await post_file(api, sample("holdings_two_statements.json"), role=role)
    assert response.status_code == 403
    assert problem(response)["type"] == PROBLEMS + "forbidden"
    assert await counts(db) == NOTHING


async def test_without_a_key_is_401(api: Api) -> None:
    response = await api.post("/holdings-statements", content=b"{}")
    assert response.status_code == 401
    assert (await api.get("/holdings-statements")).status_code == 401
    assert (await api.get("/holdings-statements/hst_x")).status_code == 401


@pytest.mark.parametrize("role", ["trader", "admin"])
async def test_traders_and_admin_keys_read_no_holdings(api: Api, role: str) -> None:
    assert (await api.get("/holdings-statements", role=role)).status_code == 403
    assert (await api.get("/holdings-statements/hst_x", role=role)).status_code == 403


async def test_bond_face_amounts_keep_their_type(api: Api) -> None:
    response = await post_file(api, sample("semt002_v09_bond_face_amount_short_and_zero.xml"))
    [statement] = response.json()["statements"]
    detail = (await api.get(f"/holdings-statements/{statement['id']}", role="gateway")).json()
    assert detail["lines"] == [
        {"isin": BUND, "quantity": "2500000.00", "quantity_type": "FAMT", "available": "2000000"},
        {"isin": TOTAL, "quantity": "-300", "quantity_type": "UNIT", "available": None},
        {"isin": BNP, "quantity": "0", "quantity_type": "UNIT", "available": None},
    ]
