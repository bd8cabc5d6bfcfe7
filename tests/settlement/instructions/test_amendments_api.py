"""PATCH /settlement-instructions/{id}: priority and partial settlement (T2S indicator), with
If-Match; and the indicator a new instruction takes from its counterparty, else its market.

Demo data: XPAR settles in part (PART), XNYS and the off-venue market (XOFF) never (NPAR);
Deutsche Bank's instructions are PARQ, Société Générale's PARC, the others take their market's.
"""

from typing import Any

import httpx
import pytest

from app.settlement.instructions.schemas import InstructionOut
from tests.clearing.support import LCH, NSCC, OPS, SOCGEN, book_confirmed, clear
from tests.conftest import Database
from tests.factories import DEUTSCHE, GOLDMAN, JPM, TOTAL
from tests.positions.conftest import Adjust, line
from tests.settlement.support import (
    INSTRUCTIONS,
    audit_trail,
    book_and_clear,
    bund,
    get_instruction,
    instruction_of,
)
from tests.support import Api, problem_fields

TOTAL_TRADE = {"isin": TOTAL, "currency": "EUR", "venue": "XPAR", "price": "57.42"}


def partial(instruction: dict[str, Any]) -> tuple[Any, ...]:
    return (instruction["partial_indicator"], instruction["partial_allowed"])


async def patch(
    api: Api, instruction: dict[str, Any], body: dict[str, Any], *, role: str = OPS
) -> httpx.Response:
    return await api.patch(
        f"{INSTRUCTIONS}/{instruction['id']}",
        json=body,
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=role,
    )


async def amended(api: Api, instruction: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await patch(api, instruction, body)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{instruction["version"] + 1}"'
    answer: dict[str, Any] = response.json()
    return answer


async def bund_instruction(api: Api, counterparty_lei: str) -> dict[str, Any]:
    (booked,) = await book_and_clear(api, bund(counterparty_lei=counterparty_lei))
    return await instruction_of(api, booked)


# The indicator from data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trade", "counterparty", "indicator"),
    [
        pytest.param(bund(counterparty_lei=GOLDMAN), GOLDMAN, "NPAR", id="xoff-market-npar"),
        pytest.param(bund(counterparty_lei=DEUTSCHE), DEUTSCHE, "PARQ", id="counterparty-parq"),
        pytest.param(bund(counterparty_lei=SOCGEN), SOCGEN, "PARC", id="counterparty-parc"),
        pytest.param({"isin": JPM}, NSCC, "NPAR", id="xnys-market-npar"),
        pytest.param(TOTAL_TRADE, LCH, "PART", id="xpar-market-part"),
    ],
)
async def test_a_new_instruction_takes_its_counterpartys_indicator_else_its_markets(
    api: Api, reference: None, trade: dict[str, Any], counterparty: str, indicator: str
) -> None:
    (booked,) = await book_and_clear(api, trade)

    instruction = await instruction_of(api, booked)

    assert instruction["counterparty_lei"] == counterparty
    assert partial(instruction) == (indicator, indicator != "NPAR")


async def test_a_counterpartys_indicator_wins_over_its_markets(api: Api, reference: None) -> None:
    market = await api.get("/markets/XOFF", role=OPS)
    response = await api.patch(
        "/markets/XOFF",
        json={"partial_settlement": "PART"},
        headers={"If-Match": market.headers["etag"]},
        role=OPS,
    )
    assert response.status_code == 200, response.text

    goldman = await bund_instruction(api, GOLDMAN)
    deutsche = await bund_instruction(api, DEUTSCHE)

    assert (partial(goldman), partial(deutsche)) == (("PART", True), ("PARQ", True))


# Each field --------------------------------------------------------------------------------------


async def test_partial_allowed_true_takes_the_indicator_from_data_else_part(
    api: Api, reference: None, db: Database
) -> None:
    goldman = await bund_instruction(api, GOLDMAN)  # XOFF: NPAR, so PART
    deutsche = await bund_instruction(api, DEUTSCHE)
    deutsche = await amended(api, deutsche, partial_allowed=False)
    assert partial(deutsche) == ("NPAR", False)

    goldman = await amended(api, goldman, partial_allowed=True)
    deutsche = await amended(api, deutsche, partial_allowed=True)

    assert (partial(goldman), goldman["version"]) == (("PART", True), 2)
    assert (partial(deutsche), deutsche["version"]) == (("PARQ", True), 3)
    assert await get_instruction(api, goldman["id"]) == goldman
    [created, changed] = await audit_trail(db, goldman["id"])
    assert (created.action, changed.action) == ("created", "amended")
    before, after = changed.before or {}, changed.after or {}
    assert (before["partial_indicator"], after["partial_indicator"]) == ("NPAR", "PART")
    assert (before["partial_allowed"], after["partial_allowed"]) == (False, True)


async def test_partial_allowed_true_keeps_an_indicator_that_allows_partials_already(
    api: Api, reference: None
) -> None:
    instruction = await bund_instruction(api, SOCGEN)

    again = await amended(api, instruction, partial_allowed=True)

    assert (partial(again), again["version"]) == (("PARC", True), 2)


@pytest.mark.parametrize("indicator", ["PART", "PARQ", "PARC", "NPAR"])
async def test_partial_indicator_sets_the_indicator_and_the_flag(
    api: Api, reference: None, indicator: str
) -> None:
    instruction = await bund_instruction(api, DEUTSCHE)

    changed = await amended(api, instruction, partial_indicator=indicator)

    assert partial(changed) == (indicator, indicator != "NPAR")


async def test_the_flag_and_an_indicator_that_agree_go_together_with_the_priority(
    api: Api, reference: None, db: Database
) -> None:
    instruction = await bund_instruction(api, GOLDMAN)

    changed = await amended(
        api, instruction, priority=5, partial_allowed=True, partial_indicator="PARC"
    )

    assert (changed["priority"], *partial(changed)) == (5, "PARC", True)
    actions = [record.action for record in await audit_trail(db, instruction["id"])]
    assert actions == ["created", "amended"]


async def test_a_priority_alone_is_still_audited_as_reprioritised(
    api: Api, reference: None, db: Database
) -> None:
    instruction = await bund_instruction(api, DEUTSCHE)

    changed = await amended(api, instruction, priority=7)

    assert (changed["priority"], *partial(changed)) == (7, "PARQ", True)
    actions = [record.action for record in await audit_trail(db, instruction["id"])]
    assert actions == ["created", "reprioritised"]


# Refusals ----------------------------------------------------------------------------------------


async def test_a_stale_if_match_is_412_and_changes_nothing(api: Api, reference: None) -> None:
    instruction = await bund_instruction(api, GOLDMAN)
    await amended(api, instruction, partial_allowed=True)

    stale = await patch(api, instruction, {"partial_allowed": False})
    missing = await api.patch(
        f"{INSTRUCTIONS}/{instruction['id']}", json={"partial_allowed": False}, role=OPS
    )

    assert (stale.status_code, stale.json()["current_version"]) == (412, 2)
    assert missing.status_code == 428
    assert partial(await get_instruction(api, instruction["id"])) == ("PART", True)


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_amends_an_instruction(api: Api, reference: None, role: str) -> None:
    instruction = await bund_instruction(api, GOLDMAN)

    response = await patch(api, instruction, {"partial_allowed": True}, role=role)

    assert response.status_code == 403, response.text
    assert partial(await get_instruction(api, instruction["id"])) == ("NPAR", False)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"priority", "partial_allowed", "partial_indicator"}, id="nothing"),
        pytest.param(
            {"partial_allowed": True, "partial_indicator": "NPAR"},
            {"partial_indicator"},
            id="allowed-but-npar",
        ),
        pytest.param(
            {"partial_allowed": False, "partial_indicator": "PARQ"},
            {"partial_indicator"},
            id="not-allowed-but-parq",
        ),
        pytest.param({"partial_indicator": "PARX"}, {"partial_indicator"}, id="unknown-code"),
        pytest.param({"partial_indicator": None}, {"partial_indicator"}, id="null-indicator"),
        pytest.param({"partial_allowed": "yes"}, {"partial_allowed"}, id="not-a-boolean"),
        pytest.param({"partial_allowed": None}, {"partial_allowed"}, id="null-flag"),
        pytest.param({"priority": 0}, {"priority"}, id="priority-out-of-range"),
        pytest.param({"partial": True}, {"partial"}, id="unknown-field"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    api: Api, reference: None, body: dict[str, Any], fields: set[str]
) -> None:
    instruction = await bund_instruction(api, GOLDMAN)

    response = await patch(api, instruction, body)

    assert response.status_code == 422, response.text
    assert problem_fields(response) == fields
    assert (await get_instruction(api, instruction["id"]))["version"] == 1


async def test_the_contradiction_is_explained(api: Api, reference: None) -> None:
    instruction = await bund_instruction(api, GOLDMAN)

    response = await patch(api, instruction, {"partial_allowed": True, "partial_indicator": "NPAR"})

    assert response.json()["errors"] == [
        {
            "field": "partial_indicator",
            "message": "partial_indicator NPAR contradicts partial_allowed true",
        }
    ]


async def test_a_settled_or_cancelled_instruction_is_409(
    api: Api, reference: None, adjust: Adjust
) -> None:
    await adjust("opening", line("CASH-USD", "USD", "20000.00"))
    await book_confirmed(api, quantity="100", price="190.00", commission="0", fees="0")
    await clear(api, "2026-11-25")
    run = await api.post(
        "/settlement-runs",
        json={"settlement_date": "2026-11-25"},
        params={"wait": "true"},
        role=OPS,
    )
    assert run.json()["settled"] == 1, run.text
    [settled] = (await api.get(INSTRUCTIONS, params={"isin": JPM}, role=OPS)).json()["items"]
    cancelled = await bund_instruction(api, GOLDMAN)
    cancel = await api.post(f"{INSTRUCTIONS}/{cancelled['id']}/cancel", role=OPS)
    cancelled = cancel.json()

    refused = [await patch(api, i, {"partial_allowed": True}) for i in (settled, cancelled)]

    assert [r.status_code for r in refused] == [409, 409]
    assert refused[0].json()["detail"] == (
        f"Settlement instruction '{settled['id']}' is settled: there is nothing left to settle, "
        "so nothing to amend."
    )


@pytest.mark.parametrize(("allowed", "indicator"), [(True, "PART"), (False, "NPAR")])
async def test_a_snapshot_from_before_the_indicator_answers_it_from_the_flag(
    api: Api, reference: None, allowed: bool, indicator: str
) -> None:
    # An ``as_of`` answer rebuilt from an audit record written before the column existed.
    snapshot = await bund_instruction(api, DEUTSCHE)
    del snapshot["partial_indicator"]
    snapshot["partial_allowed"] = allowed

    answered = InstructionOut.model_validate(snapshot)

    assert (answered.partial_indicator, answered.partial_allowed) == (indicator, allowed)
