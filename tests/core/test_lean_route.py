"""LeanRoute: the plain request is solved by hand, exactly as FastAPI would solve it; any other
request, and any route of another shape, is FastAPI's."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.core.clock import Clock, get_clock
from app.core.lean_route import LeanRoute, _plan
from tests.support import solved_by_fastapi


class Item(BaseModel):
    name: str
    quantity: int


Tag = Annotated[str | None, Header(alias="X-Tag", max_length=5)]


def _answer(item: Item, request: Request, clock: Clock, tag: str | None) -> JSONResponse:
    return JSONResponse(
        {
            "item": item.model_dump(),
            "path": request.url.path,
            "now": clock().isoformat(),
            "tag": tag,
        }
    )


async def plain(
    item: Item, request: Request, clock: Annotated[Clock, Depends(get_clock)], tag: Tag = None
) -> JSONResponse:
    return _answer(item, request, clock, tag)


def _app(*, router_dependencies: list[Any] | None = None) -> FastAPI:
    inner = APIRouter()
    inner.add_api_route("/items", plain, methods=["POST"], route_class_override=LeanRoute)
    app = FastAPI()
    app.include_router(inner, prefix="/v1", dependencies=router_dependencies or [])
    return app


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each request whose parameters FastAPI itself solved."""
    return solved_by_fastapi(monkeypatch, plain)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


JSON = {"Authorization": "Bearer k", "Content-Type": "application/json"}
# FastAPI takes this one too, but the lean handler does not: the same request, FastAPI's way.
JSON_UTF8 = {"Authorization": "Bearer k", "Content-Type": "application/json; charset=utf-8"}
ITEM = b'{"name": "bolt", "quantity": "3"}'


async def test_a_plain_request_is_solved_without_fastapi(
    client: httpx.AsyncClient, solved: list[Any]
) -> None:
    response = await client.post("/v1/items", content=ITEM, headers={**JSON, "X-Tag": "red"})

    assert response.status_code == 200, response.text
    assert response.json()["item"] == {"name": "bolt", "quantity": 3}
    assert (response.json()["path"], response.json()["tag"]) == ("/v1/items", "red")
    assert solved == []


async def test_it_gets_what_fastapi_gives(client: httpx.AsyncClient, solved: list[Any]) -> None:
    for tag in ({}, {"X-Tag": "red"}):
        lean = await client.post("/v1/items", content=ITEM, headers={**JSON, **tag})
        fastapi_own = await client.post("/v1/items", content=ITEM, headers={**JSON_UTF8, **tag})

        assert lean.status_code == fastapi_own.status_code == 200
        strip = {"now"}  # the system clock, read twice
        assert {k: v for k, v in lean.json().items() if k not in strip} == {
            k: v for k, v in fastapi_own.json().items() if k not in strip
        }
    assert solved == [plain, plain]


@pytest.mark.parametrize(
    ("content", "headers", "solving"),
    [
        (b'{"name": "bolt", "quantity": "three"}', {}, [plain, plain]),  # the body field's 422
        (b'{"name": "bolt"', {}, []),  # not JSON: refused by FastAPI before it solves anything
        (b"[]", {}, [plain, plain]),
        (b"", {}, [plain, plain]),
        (ITEM, {"X-Tag": "purple"}, [plain, plain]),  # the header field's 422 (over 5 long)
    ],
    ids=["invalid-body", "not-json", "not-an-object", "empty", "invalid-header"],
)
async def test_a_request_fastapi_refuses_is_refused_by_fastapi(
    client: httpx.AsyncClient,
    solved: list[Any],
    content: bytes,
    headers: dict[str, str],
    solving: list[Any],
) -> None:
    lean = await client.post("/v1/items", content=content, headers={**JSON, **headers})
    fastapi_own = await client.post("/v1/items", content=content, headers={**JSON_UTF8, **headers})

    assert lean.status_code == 422, lean.text
    assert lean.json() == fastapi_own.json()
    # Tried by hand, then handed over: FastAPI took both requests its own way.
    assert solved == solving


async def test_json_nested_too_deep_is_fastapi_s_400(
    client: httpx.AsyncClient, solved: list[Any]
) -> None:
    deep = b"[" * 100_000  # beyond the decoder's recursion limit
    lean = await client.post("/v1/items", content=deep, headers=JSON)
    fastapi_own = await client.post("/v1/items", content=deep, headers=JSON_UTF8)

    assert lean.status_code == fastapi_own.status_code == 400
    assert lean.json() == fastapi_own.json()
    assert solved == []


async def test_repeated_headers_and_other_content_types_go_to_fastapi(
    client: httpx.AsyncClient, solved: list[Any]
) -> None:
    twice = [*JSON.items(), ("X-Tag", "red"), ("X-Tag", "blue")]
    assert (await client.post("/v1/items", content=ITEM, headers=twice)).status_code == 200
    without_key = {"Content-Type": "application/json"}
    assert (await client.post("/v1/items", content=ITEM, headers=without_key)).status_code == 200
    text = {**JSON, "Content-Type": "text/plain"}
    refused = await client.post("/v1/items", content=ITEM, headers=text)
    assert refused.status_code == 422  # FastAPI's strict content type: the body is missing
    assert solved == [plain, plain, plain]


async def test_an_overridden_dependency_is_used_as_fastapi_would(solved: list[Any]) -> None:
    from datetime import UTC, datetime

    fixed = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    app = _app()
    app.dependency_overrides[get_clock] = lambda: lambda: fixed
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/v1/items", content=ITEM, headers=JSON)
        assert response.json()["now"] == "2026-11-24T09:30:00+00:00"
        assert solved == []

        # An override with parameters of its own is FastAPI's to solve.
        def with_query(offset: Annotated[int, Query()] = 0) -> Clock:
            return lambda: fixed.replace(hour=9 + offset)

        app.dependency_overrides[get_clock] = with_query
        response = await client.post("/v1/items?offset=2", content=ITEM, headers=JSON)
        assert response.json()["now"] == "2026-11-24T11:30:00+00:00"
        assert solved == [plain]


async def test_a_router_dependency_keeps_the_route_fastapi_s(solved: list[Any]) -> None:
    async def teapot() -> None:
        raise HTTPException(status_code=418)

    app = _app(router_dependencies=[Depends(teapot)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/v1/items", content=ITEM, headers=JSON)
    assert response.status_code == 418
    assert solved == [plain]


def _route(endpoint: Any, **kwargs: Any) -> LeanRoute:
    return LeanRoute("/x", endpoint, methods=["POST"], **kwargs)


async def with_query(item: Item, page: Annotated[int, Query()] = 1) -> None: ...


async def with_path(item: Item, number: int) -> None: ...


async def with_required_header(item: Item, tag: Annotated[str, Header()]) -> None: ...


async def needs_request(request: Request) -> Request:
    return request


async def with_solved_dependency(
    item: Item, found: Annotated[Request, Depends(needs_request)]
) -> None: ...


async def cleaned_up() -> AsyncIterator[int]:
    yield 1


async def with_generator(item: Item, value: Annotated[int, Depends(cleaned_up)]) -> None: ...


async def two_bodies(item: Item, other: Item) -> None: ...


async def no_body(request: Request) -> None: ...


def test_only_routes_of_the_lean_shape_get_a_plan() -> None:
    made = _plan(_route(plain))
    assert made is not None
    assert (made.body_name, made.request_name) == ("item", "request")
    assert [name for name, _ in made.plain] == ["clock"]
    assert [header.name for header in made.headers.values()] == ["tag"]
    assert list(made.headers) == [b"x-tag"]

    async def unnamed() -> None: ...

    for endpoint, kwargs in [
        (with_query, {}),
        (with_path, {}),
        (with_required_header, {}),
        (with_solved_dependency, {}),
        (with_generator, {}),
        (two_bodies, {}),
        (no_body, {}),
        (plain, {"dependencies": [Depends(unnamed)]}),
    ]:
        assert _plan(_route(endpoint, **kwargs)) is None, endpoint.__name__
