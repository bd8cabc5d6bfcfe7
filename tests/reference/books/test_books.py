"""/books."""

from typing import Any

import pytest

from tests.reference.factories import book_payload
from tests.support import Api, problem_fields

OPS = "operations"
CREATED_AT = "2026-11-25T15:00:00Z"
STAMPS = {"version": 1, "created_at": CREATED_AT, "updated_at": CREATED_AT}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def test_create_book_answers_201_with_location_and_body(api: Api) -> None:
    response = await api.post("/books", json=book_payload(), role=OPS)

    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/books/EM-CREDIT"
    assert response.json() == {"code": "EM-CREDIT", "name": "Emerging-market credit", **STAMPS}


async def test_get_and_list_books(api: Api, reference: None) -> None:
    one = await api.get("/books/FI-RATES", role="trader")
    listed = await api.get("/books", role="trader")
    paged = await api.get("/books", params={"limit": 1}, role="trader")

    assert one.status_code == 200
    assert one.headers["etag"] == '"1"'
    assert one.json() == {"code": "FI-RATES", "name": "Rates / government bonds", **STAMPS}
    assert [b["code"] for b in listed.json()["items"]] == ["EQ-FLOW", "FI-RATES"]
    assert [b["code"] for b in paged.json()["items"]] == ["EQ-FLOW"]
    rest = await api.get(
        "/books", params={"limit": 1, "cursor": paged.json()["next_cursor"]}, role="trader"
    )
    assert [b["code"] for b in rest.json()["items"]] == ["FI-RATES"]
    assert rest.json()["next_cursor"] is None


async def test_book_codes_are_case_sensitive_keys(api: Api, reference: None) -> None:
    response = await api.get("/books/eq-flow", role="trader")

    assert response.status_code == 404
    assert response.json()["detail"] == "No book 'eq-flow'."


async def test_duplicate_book_is_409(api: Api, reference: None) -> None:
    response = await api.post("/books", json=book_payload(code="EQ-FLOW"), role=OPS)

    assert response.status_code == 409


async def test_patch_book(api: Api, reference: None) -> None:
    renamed = await api.patch(
        "/books/EQ-FLOW", json={"name": "Cash equities"}, headers=if_match(1), role=OPS
    )
    stale = await api.patch("/books/EQ-FLOW", json={"name": "x"}, headers=if_match(1), role=OPS)
    missing = await api.patch("/books/EQ-FLOW", json={"name": "x"}, role=OPS)
    unknown = await api.patch("/books/NOPE", json={"name": "x"}, headers=if_match(1), role=OPS)
    no_op = await api.patch(
        "/books/EQ-FLOW", json={"name": "Cash equities"}, headers=if_match(2), role=OPS
    )
    null = await api.patch("/books/EQ-FLOW", json={"name": None}, headers=if_match(2), role=OPS)

    assert renamed.status_code == 200
    assert renamed.headers["etag"] == '"2"'
    assert renamed.json()["name"] == "Cash equities"
    assert (stale.status_code, stale.json()["current_version"]) == (412, 2)
    assert missing.status_code == 428
    assert unknown.status_code == 404
    assert (no_op.status_code, no_op.json()["version"]) == (200, 2)
    assert (null.status_code, problem_fields(null)) == (422, {"name"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"code": "eq-flow"}, "code", id="lower-case-code"),
        pytest.param({"code": "-EQ"}, "code", id="leading-dash"),
        pytest.param({"code": "EQ FLOW"}, "code", id="space"),
        pytest.param({"code": "E" * 41}, "code", id="41-characters"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "n" * 201}, "name", id="long-name"),
        pytest.param({"owner": "desk"}, "owner", id="extra-field"),
    ],
)
async def test_invalid_book_is_422_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/books", json=book_payload(**overrides), role=OPS)

    assert response.status_code == 422
    assert problem_fields(response) == {field}
