"""Whatever a client sends to POST /trades, the answer is 201 or a problem+json 4xx, never 5xx.

Hypothesis cannot drive an async test directly, so each test first collects examples by running a
``@given`` function synchronously (it appends every drawn value to a list), then posts them.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.factories import bund_trade_payload, trade_payload
from tests.support import Api

T = TypeVar("T")

# 150 payloads per test; the profile's count where that is more (`make test-deep`).
EXAMPLES = max(150, settings().max_examples)

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=12,
)

FIELDS = sorted(trade_payload().keys() | {"accrued_interest"})

# Values a trading system might plausibly get wrong, mixed in with the random JSON.
EDGE_VALUES: list[Any] = [
    "",
    " ",
    "\u0000",
    "EQ\u0000FLOW",
    "NaN",
    "-Infinity",
    "1E+400",
    "1e-400",
    "-0",
    "0.0000000000001",
    "9" * 40,
    10**40,
    -(10**40),
    2**63,
    1.5,
    True,
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-11-24T14:31:05",
    "2026-02-29",
    "\U0001f600" * 40,
    "x" * 10_000,
    [],
    {},
]


def _collect(strategy: st.SearchStrategy[T], examples: int = EXAMPLES) -> list[T]:
    drawn: list[T] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn


def _mutated(base: Callable[[], dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid payload with one field replaced by random JSON or an edge value, or dropped."""
    replacement = JSON | st.sampled_from(EDGE_VALUES)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        payload = base()
        field = draw(st.sampled_from([*FIELDS, "unexpected"]))
        if field in payload and draw(st.integers(0, 9)) == 0:
            del payload[field]
        else:
            payload[field] = draw(replacement)
        return payload

    return build()


async def _post(api: Api, payload: Any, path: str = "/trades") -> httpx.Response:
    # json.dumps, not httpx's json=, so NaN and Infinity reach the server as JSON extensions.
    return await api.post(
        path,
        content=json.dumps(payload),
        headers={"Content-Type": "application/json"},
        role="trader",
    )


def _assert_answer(response: httpx.Response, payload: Any) -> None:
    shown = repr(payload)[:500]
    assert response.status_code < 500, (shown, response.text[:500])
    if response.status_code == 201:
        assert response.json()["id"].startswith("trd_")
        return
    assert 400 <= response.status_code < 500, (shown, response.status_code)
    assert response.headers["content-type"].startswith("application/problem+json"), shown
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://settlement.example/problems/")
    if response.status_code == 422:
        assert body["errors"], shown


async def test_random_json_never_gets_a_5xx(api: Api, reference: None) -> None:
    for payload in _collect(JSON):
        _assert_answer(await _post(api, payload), payload)


async def test_mutated_trades_never_get_a_5xx(api: Api, reference: None) -> None:
    payloads = _collect(_mutated(trade_payload)) + _collect(_mutated(bund_trade_payload), 50)
    statuses: set[int] = set()
    for payload in payloads:
        response = await _post(api, payload)
        _assert_answer(response, payload)
        statuses.add(response.status_code)
    # The mutations hit both sides: some still book (an optional field nulled, say), most not.
    assert 422 in statuses


async def test_every_edge_value_in_every_field_never_gets_a_5xx(api: Api, reference: None) -> None:
    for field in [*FIELDS, "unexpected"]:
        for value in EDGE_VALUES:
            payload = {**trade_payload(), field: value}
            _assert_answer(await _post(api, payload), payload)


async def test_random_batch_items_never_get_a_5xx(api: Api, reference: None) -> None:
    items = _collect(JSON, 50) + _collect(_mutated(trade_payload), 100)
    response = await _post(api, {"items": items}, "/trades/batch")
    assert response.status_code == 200, response.text[:500]
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    for result in results:
        if result["outcome"] == "rejected":
            assert result["problem"]["status"] == 422
            assert result["problem"]["errors"]
        else:
            assert result["id"].startswith("trd_")
