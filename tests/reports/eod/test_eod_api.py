"""The end-of-day cycle over HTTP: a day of Bund trades captured and confirmed, cleared,
settled, a statement reconciled and the day's report, each step with its child runs; a second
run that does nothing; a step that fails and a resume that goes on from it; refusals.

We buy 1,000,000 Bund from Goldman at 78.50 % and sell them to Morgan Stanley at 78.60 % on
2026-11-24 (off venue, settled internally, gross): due 2026-11-26 in SEC-EB and CASH-EUR, as in
tests/settlement/test_settlement_lifecycle_api.py: 790,079.45 paid, 791,079.45 received.
"""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.reports.eod import service
from app.reports.eod.steps import STEPS, StepContext, StepOutcome
from app.settlement.runs import service as settlement_runs
from tests.clearing.support import MORGAN, OPS, book_confirmed
from tests.conftest import Database
from tests.factories import GOLDMAN
from tests.positions.conftest import Adjust, line
from tests.reconciliation.runs.support import entry, send_statement
from tests.settlement.outbound.support import PARIS
from tests.settlement.support import audit_trail, bund
from tests.support import Api, FrozenClock

DAY = "2026-11-26"
NEXT_DAY = "2026-11-27"
NAMES = [step.name for step in STEPS]


async def a_day_of_trades(api: Api, adjust: Adjust, clock: FrozenClock) -> list[dict[str, Any]]:
    await adjust("opening", line("CASH-EUR", "EUR", "790079.45"))
    trades = [
        await book_confirmed(api, **bund(counterparty_lei=GOLDMAN)),
        await book_confirmed(api, **bund(counterparty_lei=MORGAN, side="sell", price="78.60")),
    ]
    await send_statement(
        api,
        "EOD-1",
        entry("-5.00", day=DAY, remittance_information="Account fee"),
        opening_balance={"amount": "0", "date": "2026-11-25"},
        closing_balance={"amount": "-5.00", "date": DAY},
    )
    clock.set(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))
    return trades


async def close_day(api: Api, day: str = DAY, role: str = OPS) -> Any:
    return await api.post("/eod-runs", json={"date": day}, params={"wait": "true"}, role=role)


async def child(api: Api, path: str, run_id: str) -> dict[str, Any]:
    response = await api.get(f"{path}/{run_id}", role=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(api: Api, path: str, **params: str) -> list[dict[str, Any]]:
    response = await api.get(path, params=params, role=OPS)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_first_run_does_every_step_of_the_day_with_its_child_runs(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    # One more Bund trade, from Deutsche Bank on 2026-11-25: T+2, due on the next settlement
    # day after DAY (Friday 27 November: TARGET and New York both settle).
    later = await book_confirmed(
        api, **bund(trade_date="2026-11-25", trade_time="2026-11-25T10:00:00Z")
    )
    assert later["settlement_date"] == NEXT_DAY
    await a_day_of_trades(api, adjust, clock)

    response = await close_day(api)

    assert response.status_code == 200, response.text
    run = response.json()
    assert (run["date"], run["status"], run["total"], run["processed"]) == (DAY, "completed", 7, 7)
    steps = {step["name"]: step for step in run["steps"]}
    assert [step["name"] for step in run["steps"]] == NAMES
    assert {name: step["status"] for name, step in steps.items()} == dict.fromkeys(
        NAMES, "completed"
    )
    # Both trades were confirmed: no trade is left unconfirmed to look at.
    assert steps["affirmation_deadlines"]["summary"] == {"looked_at": 0, "flagged": 0}
    # Cleared for DAY and for the next settlement day, a run each. Gross (Goldman and Morgan
    # Stanley net nothing): one obligation and instruction per trade.
    clearing = steps["clearing"]
    on_day = {"trades": 2, "cleared": 2, "obligations": 2, "instructions": 2}
    on_next_day = {"trades": 1, "cleared": 1, "obligations": 1, "instructions": 1}
    assert clearing["summary"] == {
        **{name: on_day[name] + on_next_day[name] for name in on_day},
        "dates": {DAY: on_day, NEXT_DAY: on_next_day},
    }
    assert sorted(clearing["child_runs"]) == [DAY, NEXT_DAY]
    for day, counts in ((DAY, on_day), (NEXT_DAY, on_next_day)):
        cleared = await child(api, "/clearing-runs", clearing["child_runs"][day])
        assert (cleared["settlement_date"], cleared["status"], cleared["total"]) == (
            day,
            "completed",
            counts["trades"],
        )
    assert steps["instructions"]["summary"] == {
        "instructions": 2,
        "instructions_by_status": {"matched": 2},
        "outbound_messages_by_status": {},
    }
    settlement = steps["settlement"]
    assert settlement["summary"] == {
        "due": 2,
        "settled": 2,
        "partially_settled": 0,
        "failed": 0,
        "held": 0,
        "at_csd": 0,
        "failing_at_csd": 0,
        "failing_at_csd_by_age": [
            {"bucket": bucket, "instructions": 0} for bucket in ("1", "2-3", "4-7", "8-15", "16+")
        ],
    }
    settled = await child(api, "/settlement-runs", settlement["child_runs"]["settlement"])
    assert (settled["status"], settled["settled"]) == ("completed", 2)
    # Everything settled on its day: the penalty run looks at nothing and books nothing.
    penalties = steps["penalties"]
    assert penalties["summary"] == {"looked_at": 0, "booked": 0, "reversed": 0, "exceptions": 0}
    penalised = await child(api, "/penalty-runs", penalties["child_runs"]["penalties"])
    assert (penalised["status"], penalised["booked"]) == ("completed", 0)
    reconciliation = steps["reconciliation"]
    reconciled = await child(api, "/reconciliation-runs", reconciliation["child_runs"]["CASH-EUR"])
    assert reconciliation["summary"] == {
        "accounts": 1,
        "matched": reconciled["matched"],
        "breaks_opened": reconciled["breaks_opened"],
        "breaks_closed": reconciled["breaks_closed"],
    }
    assert (reconciled["account"], reconciled["date"]) == ("CASH-EUR", DAY)
    assert steps["reports"]["summary"]["fails"] == 0
    assert steps["reports"]["summary"]["buy_in_candidates"] == 0
    assert steps["reports"]["summary"]["unaffirmed"] == 0
    assert run["report"] == steps["reports"]["summary"]
    trades = await listed(api, "/trades")
    assert sorted((t["settlement_date"], t["status"]) for t in trades) == [
        (DAY, "settled"),
        (DAY, "settled"),
        (NEXT_DAY, "instructed"),  # settles on its day
    ]


async def test_a_second_run_for_the_day_does_nothing_and_says_so(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    await a_day_of_trades(api, adjust, clock)
    first = (await close_day(api)).json()

    again = await close_day(api)

    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["id"], body["status"], body["steps"]) == (first["id"], "completed", first["steps"])
    assert body["note"] == f"The end of day for {DAY} is already complete ({first['id']})."
    assert len(await listed(api, "/clearing-runs", settlement_date=DAY)) == 1
    assert len(await listed(api, "/settlement-runs", settlement_date=DAY)) == 1
    assert [r["id"] for r in await listed(api, "/eod-runs", date=DAY)] == [first["id"]]


def failing_once_after(name: str) -> tuple[tuple[Any, ...], list[int]]:
    """The step table with ``name`` doing its work, then failing the first time (a crash
    after its child run finished, before the step recorded it)."""
    calls: list[int] = []

    def wrap(step: Any) -> Any:
        async def run(ctx: StepContext) -> StepOutcome:
            outcome: StepOutcome = await step.run(ctx)
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("the settlement engine went away")
            return outcome

        return replace(step, run=run)

    return tuple(wrap(s) if s.name == name else s for s in STEPS), calls


async def test_a_failed_step_fails_the_run_there_and_a_resume_goes_on_from_it(
    api: Api,
    db: Database,
    adjust: Adjust,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await a_day_of_trades(api, adjust, clock)
    steps, calls = failing_once_after("settlement")
    monkeypatch.setattr(service, "STEPS", steps)

    failed = (await close_day(api)).json()

    assert (failed["status"], failed["processed"], failed["error"]) == (
        "failed",
        3,
        "the settlement engine went away",
    )
    assert [s["status"] for s in failed["steps"]] == [
        "completed",
        "completed",
        "completed",
        "failed",
        "pending",
        "pending",
        "pending",
    ]
    assert failed["steps"][3]["error"] == "the settlement engine went away"
    first_settlement = failed["steps"][3]["child_runs"]["settlement"]
    again = await close_day(api)
    assert again.json()["note"] == (
        f"The end of day for {DAY} failed at a step ({failed['id']}): resume it with "
        f"POST /api/v1/eod-runs/{failed['id']}/resume."
    )

    resumed = await api.post(f"/eod-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS)

    assert resumed.status_code == 200, resumed.text
    run = resumed.json()
    assert (run["status"], run["processed"], run["error"]) == ("completed", 7, None)
    assert [s["status"] for s in run["steps"]] == ["completed"] * 7
    # The steps before it were not done again; the settlement step took its own run's result.
    assert run["steps"][:3] == failed["steps"][:3]
    assert run["steps"][3]["child_runs"] == {"settlement": first_settlement}
    assert run["steps"][3]["summary"]["settled"] == 2
    assert len(calls) == 2
    assert len(await listed(api, "/clearing-runs", settlement_date=DAY)) == 1
    assert len(await listed(api, "/settlement-runs", settlement_date=DAY)) == 1
    trail = [record.action for record in await audit_trail(db, run["id"])]
    assert trail == [
        "started",
        *["step_started", "child_run_started", "step_completed"],  # affirmation deadlines
        *["step_started", "child_run_started", "step_completed"],  # clearing
        *["step_started", "step_completed"],  # instructions
        *["step_started", "child_run_started", "step_failed", "failed"],  # settlement
        "resumed",
        *["step_started", "step_completed"],  # settlement, its run already finished
        *["step_started", "child_run_started", "step_completed"],  # penalties
        *["step_started", "child_run_started", "step_completed"],  # reconciliation
        *["step_started", "step_completed", "completed"],  # reports
    ]


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_closes_a_day(api: Api, reference: None, role: str) -> None:
    response = await close_day(api, role=role)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("role", ["trader", "gateway", "admin"])
async def test_operations_and_compliance_read_the_runs(api: Api, role: str) -> None:
    assert (await api.get("/eod-runs", role=role)).status_code == 403
    assert (await api.get("/eod-runs", role="compliance")).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [({"date": "2026-11-31"}, "date"), ({}, "date"), ({"date": DAY, "extra": 1}, "extra")],
)
async def test_a_bad_date_is_422(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.post("/eod-runs", json=body, role=OPS)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (
            "2026-11-21",
            "2026-11-21 (Saturday) is not a business day on any market's settlement calendar",
        ),
        ("2026-11-26", "2026-11-26 has not come yet (today is 2026-11-25)"),
    ],
)
async def test_a_day_nothing_settles_on_or_still_to_come_is_422(
    api: Api, reference: None, day: str, why: str
) -> None:
    response = await api.post("/eod-runs", json={"date": day}, role=OPS)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "date", "message": why}]
    assert await listed(api, "/eod-runs") == []


async def test_a_child_run_that_failed_is_resumed_not_started_again(
    api: Api, adjust: Adjust, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_day_of_trades(api, adjust, clock)
    kind = settlement_runs.SETTLEMENT_RUN
    failures: list[int] = []

    async def failing_once(*args: Any, **kwargs: Any) -> bool:
        if not failures:
            failures.append(1)
            raise RuntimeError("the settlement run's connection dropped")
        more: bool = await kind.chunk(*args, **kwargs)
        return more

    monkeypatch.setattr(settlement_runs, "SETTLEMENT_RUN", replace(kind, chunk=failing_once))
    failed = (await close_day(api)).json()
    assert (failed["status"], failed["steps"][3]["status"]) == ("failed", "failed")
    child_id = failed["steps"][3]["child_runs"]["settlement"]
    child_run = await child(api, "/settlement-runs", child_id)
    assert (child_run["status"], child_run["settled"]) == ("failed", 0)

    resumed = await api.post(f"/eod-runs/{failed['id']}/resume", params={"wait": "true"}, role=OPS)

    run = resumed.json()
    assert (run["status"], run["steps"][3]["child_runs"]) == ("completed", {"settlement": child_id})
    child_run = await child(api, "/settlement-runs", child_id)
    assert (child_run["status"], child_run["settled"]) == ("completed", 2)
    assert [r["id"] for r in await listed(api, "/settlement-runs", settlement_date=DAY)] == [
        child_id
    ]


async def test_at_the_depository_the_day_instructs_and_the_next_day_ages_the_fail(
    api: Api, reference: None, clock: FrozenClock
) -> None:
    """A Euronext Paris trade (the depository settles it) due 2026-11-25, the frozen clock's
    day: the day's clearing instructs it and queues its sese.023; the settlement run leaves it
    to the depository. Unsettled the next business day, it is failing one day there."""
    trade = await book_confirmed(api, **PARIS)
    assert trade["settlement_date"] == "2026-11-25"

    first = (await close_day(api, "2026-11-25")).json()

    steps = {step["name"]: step for step in first["steps"]}
    assert first["status"] == "completed"
    assert steps["clearing"]["summary"]["instructions"] == 1
    assert steps["instructions"]["summary"] == {
        "instructions": 1,
        "instructions_by_status": {"matched": 1},  # with the CCP: pre-matched
        "outbound_messages_by_status": {"pending": 1},
    }
    ages = dict.fromkeys(("1", "2-3", "4-7", "8-15", "16+"), 0)
    settlement = steps["settlement"]["summary"]
    assert (settlement["due"], settlement["at_csd"], settlement["failing_at_csd"]) == (0, 1, 0)
    assert steps["reconciliation"]["status"] == "skipped"
    clock.set(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))

    second = (await close_day(api, "2026-11-26")).json()

    steps = {step["name"]: step for step in second["steps"]}
    assert steps["clearing"]["status"] == "skipped"
    settlement = steps["settlement"]["summary"]
    assert (settlement["at_csd"], settlement["failing_at_csd"]) == (1, 1)
    assert settlement["failing_at_csd_by_age"] == [
        {"bucket": bucket, "instructions": count} for bucket, count in (ages | {"1": 1}).items()
    ]
    assert second["report"]["fails"] == 1


async def test_without_wait_the_run_is_accepted_and_followed_at_its_location(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    await a_day_of_trades(api, adjust, clock)

    accepted = await api.post("/eod-runs", json={"date": DAY}, role=OPS)

    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert (body["status"], body["processed"], body["total"]) == ("running", 0, 7)
    assert accepted.headers["location"] == f"/api/v1/eod-runs/{body['id']}"
    followed = await api.get(f"/eod-runs/{body['id']}", role="compliance")
    assert (followed.json()["status"], followed.json()["processed"]) == ("completed", 7)
