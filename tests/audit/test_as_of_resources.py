"""`GET /{resource}/{id}?as_of=` for every resource with a lifecycle besides trades and
instructions (tests/e2e/test_as_of.py): each story makes a resource, reads it, changes it
later; the read `as_of` a moment in between answers exactly the older version, and the
refusals are those of the plain read (404 before it existed, 422 for a naive timestamp, the
route's roles).

Status advices, statements, holdings statements and journal entries never change once
written: they have no past version. Affirmation deadline runs have no GET by id."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.clearing.runs import work as clearing_work
from app.core.auth import Role
from app.core.clock import get_clock
from app.positions.bookings import service as positions
from tests.clearing.support import book_confirmed, clear, obligations
from tests.factories import GOLDMAN, JPM, trade_payload
from tests.reconciliation.mappings.test_api_mappings import german
from tests.reconciliation.matches.test_matches_api import unexplained
from tests.reconciliation.rules.test_reconciliation_rules import new_rule, replacement
from tests.reconciliation.runs.support import entry, reconcile, send_statement
from tests.settlement.support import demo_ssi
from tests.support import API, Api, FrozenClock, SecondKey, api_routes, problem_fields, route_roles
from tests.trades.confirmations.factories import confirm, confirmation_payload

OPS = "operations"
PROBLEMS = "https://settlement.example/problems/"
BETWEEN = "2026-11-25T15:05:00Z"  # after the story's first read (15:00), before its change (15:10)


@dataclass
class Env:
    api: Api
    clock: FrozenClock
    ops2: SecondKey
    app: Any
    monkeypatch: pytest.MonkeyPatch


@dataclass(frozen=True)
class Story:
    """A resource (``path``), as the API answered it (``then``) at a moment (``at``) before
    the change the story made afterwards."""

    path: str
    then: dict[str, Any]
    at: str = BETWEEN


async def read(api: Api, path: str, role: str = OPS, **params: str) -> dict[str, Any]:
    response = await api.get(path, params=params, role=role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def created(api: Api, path: str, body: dict[str, Any], role: str = OPS) -> dict[str, Any]:
    response = await api.post(path, json=body, role=role)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def changed_later(
    env: Env, path: str, change: Callable[[], Awaitable[Any]], role: str = OPS
) -> Story:
    """Read the resource now (15:00), change it ten minutes later."""
    then = await read(env.api, path, role)
    env.clock.advance(minutes=10)
    response = await change()
    assert response.status_code in (200, 204), response.text
    return Story(path, then)


def patch(env: Env, path: str, body: dict[str, Any], version: int = 1) -> Any:
    return lambda: env.api.patch(path, json=body, headers={"If-Match": f'"{version}"'}, role=OPS)


def post(env: Env, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("role", OPS)
    return lambda: env.api.post(path, json=body, **kwargs)


def put(env: Env, path: str, body: dict[str, Any]) -> Any:
    return lambda: env.api.request("PUT", path, json=body, headers={"If-Match": '"1"'}, role=OPS)


# Reference data: the demo rows, loaded at 15:00 -------------------------------------------------


async def market(env: Env) -> Story:
    return await changed_later(env, "/markets/XNYS", patch(env, "/markets/XNYS", {"name": "NYSE"}))


async def instrument(env: Env) -> Story:
    path = f"/instruments/{JPM}"
    return await changed_later(env, path, patch(env, path, {"name": "JPMorgan Chase & Co. (new)"}))


async def counterparty(env: Env) -> Story:
    path = f"/counterparties/{GOLDMAN}"
    return await changed_later(env, path, patch(env, path, {"name": "Goldman Sachs (renamed)"}))


async def book(env: Env) -> Story:
    path = "/books/EQ-FLOW"
    return await changed_later(env, path, patch(env, path, {"name": "Equity flow (renamed)"}))


async def account(env: Env) -> Story:
    path = "/accounts/CASH-EUR"
    return await changed_later(env, path, patch(env, path, {"name": "EUR cash (renamed)"}))


async def ssi(env: Env) -> Story:
    path = f"/ssis/{(await demo_ssi(env.api, GOLDMAN, 'XOFF'))['id']}"
    return await changed_later(env, path, patch(env, path, {"account": "GS-EUR-NEW-01"}))


async def matching_tolerance(env: Env) -> Story:
    path = "/matching-tolerances/USD"
    return await changed_later(env, path, patch(env, path, {"price_abs": "0.001"}))


# Made and changed through the API ----------------------------------------------------------------


async def statement_mapping(env: Env) -> Story:
    await created(env.api, "/statement-mappings", german())
    path = "/statement-mappings/commerzbank-de"
    body = {k: v for k, v in german(delimiter=",").items() if k != "name"}
    return await changed_later(env, path, put(env, path, body))


async def reconciliation_rule(env: Env) -> Story:
    rule = await created(env.api, "/reconciliation-rules", new_rule())
    path = f"/reconciliation-rules/{rule['name']}"
    return await changed_later(env, path, put(env, path, replacement(rule, priority=46)))


async def api_key(env: Env) -> Story:
    issued = await created(env.api, "/api-keys", {"name": "OMS", "role": "trader"}, role="admin")
    path = f"/api-keys/{issued['id']}"
    revoke = lambda: env.api.delete(path, role="admin")  # noqa: E731
    return await changed_later(env, path, revoke, role="admin")


async def adjustment(env: Env) -> Story:
    lines = [{"account": "CASH-EUR", "asset": "EUR", "amount": "100.00"}]
    proposed = await created(
        env.api, "/adjustments", {"kind": "opening", "reason": "cash", "lines": lines}
    )
    path = f"/adjustments/{proposed['id']}"
    return await changed_later(
        env, path, post(env, f"{path}/approve", role=None, headers=env.ops2.headers)
    )


async def confirmation(env: Env) -> Story:
    trade = await created(env.api, "/trades", trade_payload(external_id="FO-1"), role="trader")
    sent = await confirm(
        env.api,
        confirmation_payload(trade_reference="FO-1", quantity="90", net_amount="17034.02"),
    )
    assert sent["status"] == "unmatched", sent
    # The trader corrects the trade to the counterparty's 90: the confirmation matches.
    amend = lambda: env.api.patch(  # noqa: E731
        f"/trades/{trade['id']}",
        json={"quantity": "90"},
        headers={"If-Match": '"2"'},
        role="trader",
    )
    return await changed_later(env, f"/confirmations/{sent['id']}", amend)


async def match(env: Env) -> Story:
    line_id, entry_id = await unexplained(env.api, env.ops2)
    await reconcile(env.api)
    made = await created(
        env.api, "/matches", {"statement_entry_ids": [line_id], "movement_ids": [entry_id]}
    )
    path = f"/matches/{made['id']}"
    return await changed_later(env, path, post(env, f"{path}/unmatch", {"reason": "wrong"}))


async def reconciliation_break(env: Env) -> Story:
    await send_statement(env.api, "S-1", entry("99.98", remittance_information="?"))
    await reconcile(env.api)
    [found] = (await read(env.api, "/breaks", account="CASH-EUR"))["items"]
    path = f"/breaks/{found['id']}"
    return await changed_later(env, path, post(env, f"{path}/assign", {"owner": "cash-desk"}))


# Runs --------------------------------------------------------------------------------------------


class TickingClock(FrozenClock):
    """A second later at each reading: a run's start and end fall on different instants."""

    def __call__(self) -> datetime:
        now = self.now
        self.now += timedelta(seconds=1)
        return now


async def started_then_finished(env: Env, path: str, body: dict[str, Any]) -> Story:
    """Start a run in the background under a ticking clock: the 202 answers it as started;
    it has finished by the next read."""
    ticking = TickingClock(env.clock())
    env.app.dependency_overrides[get_clock] = lambda: ticking
    try:
        response = await env.api.post(path, json=body, role=OPS)
    finally:
        env.app.dependency_overrides[get_clock] = lambda: env.clock
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    assert (started["status"], started["processed"]) == ("running", 0)
    return Story(f"{path}/{started['id']}", started, at=started["created_at"])


async def settlement_run(env: Env) -> Story:
    return await started_then_finished(env, "/settlement-runs", {"settlement_date": "2026-11-25"})


async def reconciliation_run(env: Env) -> Story:
    await send_statement(env.api, "S-1", entry("99.98", remittance_information="?"))
    body = {"account": "CASH-EUR", "date": "2026-11-25"}
    return await started_then_finished(env, "/reconciliation-runs", body)


async def cleared_in_two_goes(env: Env) -> tuple[dict[str, Any], dict[str, Any]]:
    """Three JPM trades cleared two per chunk; the second chunk fails at 15:00 and the run is
    resumed at 15:10. Returns (the failed run, its obligation) as read at 15:00."""
    for _ in range(3):
        await book_confirmed(env.api, quantity="10", price="190.00", commission="0", fees="0")
    env.monkeypatch.setattr(clearing_work, "CHUNK", 2)
    real_novate = positions.novate
    calls = 0

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the database went away")
        return await real_novate(*args, **kwargs)

    env.monkeypatch.setattr(positions, "novate", failing_once)
    failed = await clear(env.api, "2026-11-25")
    assert (failed["status"], failed["processed"]) == ("failed", 2)
    [obligation] = await obligations(env.api, run_id=failed["id"])
    env.clock.advance(minutes=10)
    resumed = await env.api.post(
        f"/clearing-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS
    )
    assert (resumed.status_code, resumed.json()["status"]) == (200, "completed"), resumed.text
    return failed, obligation


async def clearing_run(env: Env) -> Story:
    failed, _ = await cleared_in_two_goes(env)
    return Story(f"/clearing-runs/{failed['id']}", failed)


async def obligation(env: Env) -> Story:
    _, netted = await cleared_in_two_goes(env)
    assert (netted["trade_count"], len(netted["trade_ids"])) == (2, 2)
    return Story(f"/obligations/{netted['id']}", netted)


STORIES: dict[str, tuple[Callable[[Env], Awaitable[Story]], str]] = {
    # name: (story, how the 404 names the resource)
    "market": (market, "Market"),
    "instrument": (instrument, "Instrument"),
    "counterparty": (counterparty, "Counterparty"),
    "book": (book, "Book"),
    "account": (account, "Account"),
    "ssi": (ssi, "SSI"),
    "matching_tolerance": (matching_tolerance, "Matching tolerance"),
    "statement_mapping": (statement_mapping, "Statement mapping"),
    "reconciliation_rule": (reconciliation_rule, "Reconciliation rule"),
    "api_key": (api_key, "API key"),
    "adjustment": (adjustment, "Adjustment"),
    "confirmation": (confirmation, "Confirmation"),
    "match": (match, "Match"),
    "break": (reconciliation_break, "Break"),
    "settlement_run": (settlement_run, "Settlement run"),
    "reconciliation_run": (reconciliation_run, "Reconciliation run"),
    "clearing_run": (clearing_run, "Clearing run"),
    "obligation": (obligation, "Obligation"),
}


@pytest.fixture
def env(
    api: Api,
    clock: FrozenClock,
    ops2: SecondKey,
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    reference: None,
) -> Env:
    return Env(api, clock, ops2, app, monkeypatch)


def readers(path: str) -> frozenset[Role]:
    """The roles the GET route of this concrete path admits."""
    fitting = [
        (template.count("{"), route)
        for template, route in api_routes()
        if "GET" in (route.methods or ())
        and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), API + path)
    ]
    _, route = min(fitting, key=lambda found: found[0])
    roles = route_roles(route.dependant)
    assert roles, path
    return roles


@pytest.mark.parametrize("name", list(STORIES))
async def test_as_of_answers_the_version_of_that_moment(env: Env, name: str) -> None:
    story = await STORIES[name][0](env)
    role = "admin" if story.path.startswith("/api-keys") else OPS

    current = await read(env.api, story.path, role)
    past = await read(env.api, story.path, role, as_of=story.at)

    assert past == story.then
    assert current != story.then
    # As of later that day (nothing changed since), the resource as it is.
    assert await read(env.api, story.path, role, as_of="2026-11-25T23:59:59Z") == current


@pytest.mark.parametrize("name", list(STORIES))
async def test_as_of_is_refused_as_the_plain_read_is(env: Env, name: str) -> None:
    tell, title = STORIES[name]
    story = await tell(env)
    allowed = readers(story.path)
    reader = sorted(allowed)[0]
    resource_id = story.path.rsplit("/", 1)[1]

    before = await env.api.get(story.path, params={"as_of": "2026-11-25T14:59:59Z"}, role=reader)
    naive = await env.api.get(story.path, params={"as_of": "2026-11-25T15:05:00"}, role=reader)
    unknown = await env.api.get(
        story.path.rsplit("/", 1)[0] + "/nothing", params={"as_of": story.at}, role=reader
    )

    assert before.status_code == 404, before.text
    assert before.json()["detail"] == (
        f"{title} '{resource_id}' did not exist at 2026-11-25T14:59:59+00:00."
    )
    assert (naive.status_code, problem_fields(naive)) == (422, {"as_of"})
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["detail"].startswith("No ")
    for role in Role:
        response = await env.api.get(story.path, params={"as_of": story.at}, role=role)
        assert response.status_code == (200 if role in allowed else 403), (role, response.text)
    anonymous = await env.api.get(story.path, params={"as_of": story.at})
    assert anonymous.status_code == 401


async def test_a_deleted_ssi_is_read_as_of_before_its_deletion_only(env: Env) -> None:
    story = await ssi(env)  # changed at 15:10
    env.clock.advance(minutes=10)
    changed = await read(env.api, story.path)
    deleted = await env.api.delete(story.path, headers={"If-Match": '"2"'}, role=OPS)
    assert deleted.status_code == 204, deleted.text

    still = await read(env.api, story.path, as_of="2026-11-25T15:19:59Z")
    gone = await env.api.get(story.path, params={"as_of": "2026-11-25T15:20:00Z"}, role=OPS)

    assert still == changed
    assert (gone.status_code, gone.json()["detail"]) == (
        404,
        f"SSI '{story.path.rsplit('/', 1)[1]}' did not exist at 2026-11-25T15:20:00+00:00.",
    )
