"""Cursor pagination: opaque cursors, keyset pages with no repeats and no gaps, bounded limits."""

import base64
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.core.idempotency import IdempotencyRecord
from app.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PageRequest,
    decode_cursor,
    encode_cursor,
    fetch_page,
    page_request,
)
from app.reference.demo_data import INSTRUMENTS
from app.reference.rates.models import PenaltyRate
from tests.support import Api, problem_fields

DEMO_ISINS = sorted(item["isin"] for item in INSTRUMENTS)
SEEDED_RATE_IDS = [
    "pnr_seed_cash_eur",
    "pnr_seed_illiquid_share",
    "pnr_seed_liquid_share",
    "pnr_seed_other",
    "pnr_seed_other_debt",
    "pnr_seed_sme_debt",
    "pnr_seed_sme_share",
    "pnr_seed_sovereign_debt",
]


def _raw_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "key", ["US46625H1005", "", "key_01jbz3q7x0000000000000000", 0, 42, -7, 2**62, "é/+="]
)
def test_a_cursor_decodes_to_the_key_it_encodes(key: str | int) -> None:
    cursor = encode_cursor(key)
    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor) == key


def test_a_cursor_is_url_safe_base64_of_json() -> None:
    assert encode_cursor("US46625H1005") == _raw_cursor({"after": "US46625H1005"})


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "not a cursor",
        "e30",  # {} : no "after"
        _raw_cursor({"before": "x"}),
        _raw_cursor({"after": None}),
        _raw_cursor({"after": True}),
        _raw_cursor({"after": 1.5}),
        _raw_cursor({"after": ["a"]}),
        _raw_cursor({"after": {"a": 1}}),
        _raw_cursor(["after"]),
        _raw_cursor("after"),
        _raw_cursor(5),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        base64.urlsafe_b64encode(b"{not json").decode(),
        "A",
    ],
)
def test_a_garbage_cursor_is_a_validation_error_on_the_cursor_field(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(cursor)
    error = caught.value
    assert error.status == 422
    assert error.detail == "The cursor is not one this service issued."
    assert [(e.field, e.message) for e in error.errors] == [("cursor", "is not a valid cursor")]


def test_page_request_defaults_and_decoding() -> None:
    assert page_request() == PageRequest(limit=DEFAULT_LIMIT, after=None)
    assert page_request(limit=5, cursor=encode_cursor("X")) == PageRequest(limit=5, after="X")
    assert page_request(limit=5, cursor="") == PageRequest(limit=5, after=None)
    assert (DEFAULT_LIMIT, MAX_LIMIT) == (100, 1000)


async def test_fetch_page_walks_a_keyset_without_repeats_or_gaps(session: AsyncSession) -> None:
    pages: list[list[str]] = []
    cursors: list[str | None] = []
    request = PageRequest(limit=3)
    while True:
        rows, cursor = await fetch_page(session, select(PenaltyRate), PenaltyRate.id, request)
        pages.append([row.id for row in rows])
        cursors.append(cursor)
        if cursor is None:
            break
        request = PageRequest(limit=3, after=decode_cursor(cursor))
    assert pages == [SEEDED_RATE_IDS[0:3], SEEDED_RATE_IDS[3:6], SEEDED_RATE_IDS[6:8]]
    assert cursors == [encode_cursor(SEEDED_RATE_IDS[2]), encode_cursor(SEEDED_RATE_IDS[5]), None]


async def test_fetch_page_of_exactly_limit_rows_has_no_next_cursor(session: AsyncSession) -> None:
    rows, cursor = await fetch_page(
        session, select(PenaltyRate), PenaltyRate.id, PageRequest(limit=8)
    )
    assert [row.id for row in rows] == SEEDED_RATE_IDS
    assert cursor is None


async def test_fetch_page_after_the_last_key_is_empty(session: AsyncSession) -> None:
    rows, cursor = await fetch_page(
        session,
        select(PenaltyRate),
        PenaltyRate.id,
        PageRequest(limit=3, after=SEEDED_RATE_IDS[-1]),
    )
    assert list(rows) == []
    assert cursor is None


async def test_fetch_page_on_a_date_key_takes_an_iso_date_cursor(session: AsyncSession) -> None:
    statement = select(PenaltyRate).where(PenaltyRate.csdr_class == "cash:EUR")
    rows, _ = await fetch_page(
        session,
        statement,
        PenaltyRate.effective_from,
        PageRequest(limit=5, after=date(2025, 1, 1).isoformat()),
    )
    assert [row.effective_from for row in rows] == [date(2025, 6, 11)]
    rows, _ = await fetch_page(
        session, statement, PenaltyRate.effective_from, PageRequest(limit=5, after="2025-06-11")
    )
    assert list(rows) == []


async def test_fetch_page_on_a_date_key_refuses_a_non_date_cursor(session: AsyncSession) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await fetch_page(
            session,
            select(PenaltyRate),
            PenaltyRate.effective_from,
            PageRequest(limit=5, after="yesterday"),
        )
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("cursor", "is not a valid cursor")
    ]


async def test_fetch_page_on_a_datetime_key_takes_an_aware_iso_cursor(
    session: AsyncSession,
) -> None:
    statement = select(PenaltyRate)
    rows, _ = await fetch_page(
        session,
        statement,
        PenaltyRate.created_at,
        PageRequest(limit=20, after="2026-11-24T23:59:59+00:00"),
    )
    assert len(rows) == 8
    rows, _ = await fetch_page(
        session,
        statement,
        PenaltyRate.created_at,
        PageRequest(limit=20, after="2026-11-25T00:00:00+00:00"),
    )
    assert list(rows) == []


@pytest.mark.parametrize(
    ("column", "after"),
    [
        ("id", 5),  # a string key
        ("id", 0),
        ("effective_from", 20250101),  # a date key
        ("effective_from", "2025-13-01"),
        ("created_at", "2026-11-25T00:00:00"),  # a UTC timestamp key needs an offset
        ("created_at", "yesterday"),
        ("created_at", 1764028800),
        ("status_code", "201"),  # an integer key
    ],
)
async def test_fetch_page_refuses_a_cursor_of_another_type_than_the_key(
    session: AsyncSession, column: str, after: Any
) -> None:
    model: Any = IdempotencyRecord if column == "status_code" else PenaltyRate
    key = getattr(model, column)
    with pytest.raises(ValidationFailed) as caught:
        await fetch_page(session, select(model), key, PageRequest(limit=5, after=after))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("cursor", "is not a valid cursor")
    ]


async def test_fetch_page_on_an_integer_key_takes_an_integer_cursor(
    session: AsyncSession,
) -> None:
    rows, cursor = await fetch_page(
        session,
        select(IdempotencyRecord),
        IdempotencyRecord.status_code,
        PageRequest(limit=5, after=200),
    )
    assert (list(rows), cursor) == ([], None)


@pytest.mark.parametrize(
    ("limit", "sizes"),
    [(5, [5, 5, 4]), (1, [1] * 14), (13, [13, 1]), (14, [14]), (1000, [14])],
)
async def test_instruments_page_through_all_demo_instruments(
    api: Api, reference: None, limit: int, sizes: list[int]
) -> None:
    seen: list[str] = []
    page_sizes: list[int] = []
    cursor: str | None = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await api.get("/instruments", params=params, role="operations")
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        seen.extend(item["isin"] for item in body["items"])
        page_sizes.append(len(body["items"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert page_sizes == sizes
    assert seen == DEMO_ISINS
    assert len(set(seen)) == 14


async def test_the_next_cursor_names_the_last_item_of_the_page(api: Api, reference: None) -> None:
    response = await api.get("/instruments", params={"limit": 5}, role="trader")
    body = response.json()
    assert body["next_cursor"] == encode_cursor(DEMO_ISINS[4])


async def test_an_empty_list_is_one_page_with_no_cursor(api: Api) -> None:
    response = await api.get("/instruments", role="compliance")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": _raw_cursor({"after": None})}, "cursor"),
        ({"cursor": "A" * 513}, "cursor"),
    ],
)
async def test_bad_paging_parameters_are_422_problems(
    api: Api, reference: None, params: dict[str, Any], field: str
) -> None:
    response = await api.get("/instruments", params=params, role="operations")
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}
    body = response.json()
    assert body["type"] == "https://settlement.example/problems/validation-error"
    assert body["status"] == 422
    assert body["instance"] == "/api/v1/instruments"


async def test_a_garbage_cursor_problem_body(api: Api, reference: None) -> None:
    response = await api.get("/instruments", params={"cursor": "garbage!"}, role="operations")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://settlement.example/problems/validation-error",
        "title": "The request is not valid",
        "status": 422,
        "detail": "The cursor is not one this service issued.",
        "instance": "/api/v1/instruments",
        "errors": [{"field": "cursor", "message": "is not a valid cursor"}],
    }


@pytest.mark.parametrize("after", [5, 0, -1])
async def test_a_cursor_of_the_wrong_type_for_the_key_is_not_a_server_error(
    api: Api, reference: None, after: int
) -> None:
    """A well-formed cursor holding an integer where the key is a string must not reach the
    database as a type error (a 500): it is bad input like any other forged cursor."""
    response = await api.get(
        "/instruments", params={"cursor": encode_cursor(after)}, role="operations"
    )
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"cursor"}


async def test_limit_at_the_maximum_is_accepted(api: Api, reference: None) -> None:
    response = await api.get("/instruments", params={"limit": 1000}, role="operations")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 14
