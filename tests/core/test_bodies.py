"""Raw bodies are read up to their limit and no further."""

from typing import Any

import pytest
from fastapi import Request

from app.core.bodies import BODY_LIMIT_SCOPE_KEY, read_capped
from app.core.errors import PayloadTooLarge


def streamed(chunks: list[bytes]) -> tuple[Request, list[int]]:
    """A request whose body arrives in ``chunks``, and how many of them were asked for."""
    asked = [0]

    async def receive() -> dict[str, Any]:
        index = asked[0]
        asked[0] += 1
        more = index + 1 < len(chunks)
        return {"type": "http.request", "body": chunks[index], "more_body": more}

    return Request({"type": "http", "method": "POST", "headers": []}, receive), asked


async def test_a_body_within_the_limit_is_read_whole() -> None:
    request, asked = streamed([b"abc", b"def", b"g"])
    assert await read_capped(request, 7) == b"abcdefg"
    assert asked == [3]


async def test_a_body_past_the_limit_is_refused_without_reading_the_rest() -> None:
    request, asked = streamed([b"a" * 10, b"b" * 10, b"c" * 10, b"d" * 10])
    with pytest.raises(PayloadTooLarge):
        await read_capped(request, 15)
    assert asked == [2]


async def test_without_a_limit_the_routes_cap_from_the_body_guard_applies() -> None:
    request, asked = streamed([b"a" * 10, b"b" * 10, b"c" * 10])
    request.scope[BODY_LIMIT_SCOPE_KEY] = 25
    with pytest.raises(PayloadTooLarge, match="more than 25 bytes"):
        await read_capped(request)
    assert asked == [3]
