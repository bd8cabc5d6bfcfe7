"""/reconciliation-rules: the matching rules as data. The migration seeds five; operations
create and replace them (If-Match, audited); operations and compliance read them; the runs take
the enabled ones, in priority order, as the engine's values."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.reconciliation.matching import (
    BookMovement,
    Rule,
    RuleKind,
    StatementLine,
    classify,
    match,
)
from app.reconciliation.rules.service import active_rules
from tests.support import Api, FrozenClock, problem_fields

OPS = "operations"
SEEDED_AT = "2026-12-05T00:00:00Z"
NOW = "2026-11-25T15:00:00Z"
PROBLEMS = "https://settlement.example/problems/"
CENT = {"EUR": "0.01", "GBP": "0.01", "USD": "0.01"}
GROUP = {"max_group_size": 5, "max_candidates": 30, "search_budget": 100000}


def _seeded(name: str, priority: int, kind: str, description: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "priority": priority,
        "kind": kind,
        "enabled": True,
        "default_amount_tolerance": "0",
        "counterparty_must_agree": False,
        "value_date_days": 0,
        **GROUP,
        **fields,
        "version": 1,
        "created_at": SEEDED_AT,
        "updated_at": SEEDED_AT,
    }


EXACT = _seeded(
    "exact-reference",
    10,
    "exact_reference",
    "A reference both sides carry, the same amount, the same value date.",
    amount_tolerance={},
)
EXACT_CENT = _seeded(
    "exact-reference-cent",
    20,
    "exact_reference",
    "A reference both sides carry, a cent apart (EUR, GBP, USD), the same value date.",
    amount_tolerance=CENT,
)
AMOUNT = _seeded(
    "amount-date-counterparty",
    30,
    "amount_date_counterparty",
    "No shared reference: the one line and the one movement of the same counterparty within "
    "a cent and a day of each other, and of nothing else.",
    amount_tolerance=CENT,
    value_date_days=1,
    counterparty_must_agree=True,
)
ONE_TO_MANY = _seeded(
    "one-to-many",
    40,
    "one_to_many",
    "One statement line for the sum of up to 5 book movements of its counterparty on its "
    "value date (a net payment for several settlements).",
    amount_tolerance=CENT,
    counterparty_must_agree=True,
)
MANY_TO_ONE = _seeded(
    "many-to-one",
    50,
    "many_to_one",
    "Up to 5 statement lines of one counterparty on one value date for one book movement "
    "(a payment the bank split).",
    amount_tolerance=CENT,
    counterparty_must_agree=True,
)
BY_NAME = [AMOUNT, EXACT, EXACT_CENT, MANY_TO_ONE, ONE_TO_MANY]


def new_rule(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "net-ccp-two-days",
        "description": "CCP net payments up to two days late",
        "priority": 45,
        "kind": "one_to_many",
        "amount_tolerance": {"EUR": "0.05", "chf": "0.1"},
        "default_amount_tolerance": "0.00",
        "value_date_days": 2,
        "counterparty_must_agree": True,
        "max_group_size": 8,
        "max_candidates": 40,
        "search_budget": 500000,
        **overrides,
    }


def replacement(rule: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        k: v for k, v in rule.items() if k not in {"name", "version", "created_at", "updated_at"}
    }
    return {**body, **overrides}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def put(api: Api, name: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return await api.request("PUT", f"/reconciliation-rules/{name}", json=body, **kwargs)


async def audit_of(session: AsyncSession, entity_id: str) -> list[tuple[str, Any, Any]]:
    try:
        records = await session.scalars(
            select(AuditRecord)
            .where(AuditRecord.entity_type == "reconciliation_rule")
            .where(AuditRecord.entity_id == entity_id)
            .order_by(AuditRecord.id)
        )
        return [(r.action, r.before, r.after) for r in records]
    finally:
        await session.rollback()


# Read -------------------------------------------------------------------------------------


async def test_the_migration_seeds_five_rules_listed_by_name(api: Api) -> None:
    response = await api.get("/reconciliation-rules", role=OPS)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": BY_NAME, "next_cursor": None}


async def test_the_list_pages_by_name(api: Api) -> None:
    first = (await api.get("/reconciliation-rules?limit=2", role="compliance")).json()
    assert [r["name"] for r in first["items"]] == ["amount-date-counterparty", "exact-reference"]
    rest = await api.get(
        f"/reconciliation-rules?limit=3&cursor={first['next_cursor']}", role="compliance"
    )
    assert rest.json() == {"items": BY_NAME[2:], "next_cursor": None}


async def test_get_answers_the_rule_with_its_etag(api: Api) -> None:
    response = await api.get("/reconciliation-rules/one-to-many", role="compliance")
    assert response.status_code == 200
    assert response.json() == ONE_TO_MANY
    assert response.headers["etag"] == '"1"'


async def test_get_of_an_unknown_rule_is_404(api: Api) -> None:
    response = await api.get("/reconciliation-rules/fuzzy", role=OPS)
    assert response.status_code == 404
    assert response.json()["detail"] == "No reconciliation rule 'fuzzy'."


# Create -----------------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_body_and_is_audited(
    api: Api, session: AsyncSession
) -> None:
    response = await api.post("/reconciliation-rules", json=new_rule(), role=OPS)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/reconciliation-rules/net-ccp-two-days"
    created = {
        **new_rule(),
        "amount_tolerance": {"CHF": "0.1", "EUR": "0.05"},
        "enabled": True,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    assert response.json() == created
    assert (await api.get("/reconciliation-rules/net-ccp-two-days", role=OPS)).json() == created
    ((action, before, after),) = await audit_of(session, "net-ccp-two-days")
    assert (action, before) == ("created", None)
    assert after["amount_tolerance"] == {"CHF": "0.1", "EUR": "0.05"}
    assert after["default_amount_tolerance"] == "0.00"


async def test_create_fills_in_the_defaults(api: Api) -> None:
    response = await api.post(
        "/reconciliation-rules",
        json={"name": "plain", "priority": 5, "kind": "exact_reference"},
        role=OPS,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "name": "plain",
        "description": "",
        "priority": 5,
        "kind": "exact_reference",
        "enabled": True,
        "amount_tolerance": {},
        "default_amount_tolerance": "0",
        "value_date_days": 0,
        "counterparty_must_agree": False,
        **GROUP,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


async def test_create_with_an_idempotency_key_replays(api: Api) -> None:
    headers = {"Idempotency-Key": "rule-1"}
    first = await api.post("/reconciliation-rules", json=new_rule(), headers=headers, role=OPS)
    again = await api.post("/reconciliation-rules", json=new_rule(), headers=headers, role=OPS)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_second_rule_of_one_name_is_409(api: Api) -> None:
    response = await api.post(
        "/reconciliation-rules", json=new_rule(name="exact-reference"), role=OPS
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "The reconciliation rule 'exact-reference' already exists."
    assert (await api.get("/reconciliation-rules/exact-reference", role=OPS)).json() == EXACT


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "fuzzy"}, "kind"),
        ({"kind": None}, "kind"),
        ({"default_amount_tolerance": "-0.01"}, "default_amount_tolerance"),
        ({"amount_tolerance": {"EUR": "-0.01"}}, "amount_tolerance.EUR"),
        ({"amount_tolerance": {"EUR": 0.01}}, "amount_tolerance.EUR"),
        ({"amount_tolerance": {"XYZ": "0.01"}}, "amount_tolerance.XYZ.[key]"),
        ({"value_date_days": -1}, "value_date_days"),
        ({"value_date_days": 32}, "value_date_days"),
        ({"priority": -1}, "priority"),
        ({"max_group_size": 1}, "max_group_size"),
        ({"max_group_size": 11}, "max_group_size"),
        ({"max_candidates": 61}, "max_candidates"),
        ({"search_budget": 0}, "search_budget"),
        ({"search_budget": 10_000_001}, "search_budget"),
        ({"name": "Has Spaces"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"description": "tab\x00nul"}, "description"),
        ({"tolerance": "0.01"}, "tolerance"),
    ],
)
async def test_create_refuses_bad_values_naming_the_field(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    response = await api.post("/reconciliation-rules", json=new_rule(**changes), role=OPS)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert (await api.get("/reconciliation-rules", role=OPS)).json()["items"] == BY_NAME


# Replace ----------------------------------------------------------------------------------


async def test_put_with_if_match_replaces_the_rule_and_is_audited(
    api: Api, clock: FrozenClock, session: AsyncSession
) -> None:
    clock.advance(hours=1)
    body = replacement(AMOUNT, value_date_days=2, amount_tolerance={"EUR": "0.02"})
    response = await put(api, "amount-date-counterparty", body, headers=if_match(1), role=OPS)
    assert response.status_code == 200, response.text
    expected = {
        **AMOUNT,
        "value_date_days": 2,
        "amount_tolerance": {"EUR": "0.02"},
        "version": 2,
        "updated_at": "2026-11-25T16:00:00Z",
    }
    assert response.json() == expected
    assert response.headers["etag"] == '"2"'
    got = await api.get("/reconciliation-rules/amount-date-counterparty", role=OPS)
    assert got.json() == expected
    # The migration that seeded the rule recorded it first.
    (seeded, (action, before, after)) = await audit_of(session, "amount-date-counterparty")
    assert (seeded[0], seeded[1], seeded[2]) == ("seeded", None, before)
    assert action == "updated"
    assert (before["version"], before["value_date_days"], before["amount_tolerance"]) == (
        1,
        1,
        CENT,
    )
    assert (after["version"], after["value_date_days"], after["amount_tolerance"]) == (
        2,
        2,
        {"EUR": "0.02"},
    )


async def test_put_leaves_out_fields_at_their_defaults(api: Api) -> None:
    body = {"priority": 20, "kind": "exact_reference"}
    response = await put(api, "exact-reference-cent", body, headers=if_match(1), role=OPS)
    assert response.status_code == 200, response.text
    assert response.json()["amount_tolerance"] == {}
    assert response.json()["description"] == ""


async def test_put_of_the_same_rule_keeps_its_version(api: Api, session: AsyncSession) -> None:
    response = await put(
        api, "one-to-many", replacement(ONE_TO_MANY), headers=if_match(1), role=OPS
    )
    assert response.status_code == 200, response.text
    assert response.json() == ONE_TO_MANY
    assert [action for action, _, _ in await audit_of(session, "one-to-many")] == ["seeded"]


async def test_put_with_a_stale_version_is_412_and_without_one_428(api: Api) -> None:
    body = replacement(EXACT, enabled=False)
    stale = await put(api, "exact-reference", body, headers=if_match(2), role=OPS)
    assert stale.status_code == 412
    assert stale.json()["type"] == PROBLEMS + "precondition-failed"
    assert stale.json()["current_version"] == 1
    missing = await put(api, "exact-reference", body, role=OPS)
    assert missing.status_code == 428
    assert (await api.get("/reconciliation-rules/exact-reference", role=OPS)).json() == EXACT


async def test_a_second_put_at_the_old_version_is_412(api: Api) -> None:
    body = replacement(EXACT, priority=11)
    assert (
        await put(api, "exact-reference", body, headers=if_match(1), role=OPS)
    ).status_code == 200
    again = await put(
        api, "exact-reference", {**body, "priority": 12}, headers=if_match(1), role=OPS
    )
    assert again.status_code == 412
    assert (await api.get("/reconciliation-rules/exact-reference", role=OPS)).json()[
        "priority"
    ] == 11


async def test_put_of_an_unknown_rule_is_404(api: Api) -> None:
    response = await put(api, "fuzzy", replacement(EXACT), headers=if_match(1), role=OPS)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "nearest"}, "kind"),
        ({"default_amount_tolerance": "-1"}, "default_amount_tolerance"),
        ({"amount_tolerance": {"USD": "-0.01"}}, "amount_tolerance.USD"),
        ({"name": "renamed"}, "name"),
        ({"version": 2}, "version"),
    ],
)
async def test_put_refuses_bad_values_naming_the_field(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    body = {**replacement(EXACT), **changes}
    response = await put(api, "exact-reference", body, headers=if_match(1), role=OPS)
    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert (await api.get("/reconciliation-rules/exact-reference", role=OPS)).json() == EXACT


# Roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trader", "gateway", "compliance", "admin"])
async def test_only_operations_write(api: Api, role: str) -> None:
    created = await api.post("/reconciliation-rules", json=new_rule(), role=role)
    assert created.status_code == 403
    assert created.json()["type"] == PROBLEMS + "forbidden"
    replaced = await put(
        api, "exact-reference", replacement(EXACT, priority=1), headers=if_match(1), role=role
    )
    assert replaced.status_code == 403
    assert (await api.get("/reconciliation-rules", role=OPS)).json()["items"] == BY_NAME


@pytest.mark.parametrize("role", ["trader", "gateway", "admin"])
async def test_only_operations_and_compliance_read(api: Api, role: str) -> None:
    for path in ("/reconciliation-rules", "/reconciliation-rules/exact-reference"):
        response = await api.get(path, role=role)
        assert response.status_code == 403
        assert response.json()["type"] == PROBLEMS + "forbidden"


async def test_no_key_is_401(api: Api) -> None:
    for path in ("/reconciliation-rules", "/reconciliation-rules/exact-reference"):
        assert (await api.get(path)).status_code == 401
    assert (await api.post("/reconciliation-rules", json=new_rule())).status_code == 401
    unauthenticated = await put(api, "exact-reference", replacement(EXACT), headers=if_match(1))
    assert unauthenticated.status_code == 401
    assert (await api.get("/reconciliation-rules/net-ccp-two-days", role=OPS)).status_code == 404


# What the runs read -----------------------------------------------------------------------

CENTS = {currency: Decimal("0.01") for currency in ("EUR", "GBP", "USD")}


async def test_active_rules_are_the_seeded_rules_as_values_in_priority_order(
    api: Api, session: AsyncSession
) -> None:
    assert await active_rules(session) == [
        Rule("exact-reference", 10, RuleKind.EXACT_REFERENCE),
        Rule("exact-reference-cent", 20, RuleKind.EXACT_REFERENCE, amount_tolerance=CENTS),
        Rule(
            "amount-date-counterparty",
            30,
            RuleKind.AMOUNT_DATE_COUNTERPARTY,
            amount_tolerance=CENTS,
            value_date_days=1,
            counterparty_must_agree=True,
        ),
        Rule(
            "one-to-many",
            40,
            RuleKind.ONE_TO_MANY,
            amount_tolerance=CENTS,
            counterparty_must_agree=True,
        ),
        Rule(
            "many-to-one",
            50,
            RuleKind.MANY_TO_ONE,
            amount_tolerance=CENTS,
            counterparty_must_agree=True,
        ),
    ]


async def test_active_rules_follow_what_operations_change(api: Api, session: AsyncSession) -> None:
    disabled = await put(
        api, "exact-reference", replacement(EXACT, enabled=False), headers=if_match(1), role=OPS
    )
    assert disabled.status_code == 200
    moved = await put(
        api, "many-to-one", replacement(MANY_TO_ONE, priority=15), headers=if_match(1), role=OPS
    )
    assert moved.status_code == 200
    created = await api.post(
        "/reconciliation-rules", json=new_rule(name="a-first", priority=15), role=OPS
    )
    assert created.status_code == 201
    rules = await active_rules(session)
    assert [(r.name, r.priority) for r in rules] == [
        ("a-first", 15),
        ("many-to-one", 15),
        ("exact-reference-cent", 20),
        ("amount-date-counterparty", 30),
        ("one-to-many", 40),
    ]
    assert rules[0] == Rule(
        "a-first",
        15,
        RuleKind.ONE_TO_MANY,
        amount_tolerance={"CHF": Decimal("0.1"), "EUR": Decimal("0.05")},
        default_amount_tolerance=Decimal("0.00"),
        value_date_days=2,
        counterparty_must_agree=True,
        max_group_size=8,
        max_candidates=40,
        search_budget=500_000,
    )


async def test_the_seeded_rules_find_a_scenarios_differences(session: AsyncSession) -> None:
    day = date(2026, 12, 4)
    later = date(2026, 12, 7)
    lines = [
        StatementLine("L-ok", "EUR", Decimal("-1000.00"), day, day, frozenset({"E2E-1"})),
        StatementLine("L-cent", "EUR", Decimal("-500.01"), day, day, frozenset({"E2E-2"})),
        StatementLine("L-2cents", "EUR", Decimal("-400.02"), day, day, frozenset({"E2E-3"})),
        StatementLine("L-late", "EUR", Decimal("300.00"), later, later, frozenset({"E2E-4"}), "X"),
        StatementLine("L-ok-again", "EUR", Decimal("-1000.00"), day, day, frozenset({"E2E-1"})),
        StatementLine("L-fee", "EUR", Decimal("-15.00"), day, day, frozenset({"FEE"}), "Bank"),
        StatementLine("L-net", "EUR", Decimal("-300.00"), day, day, frozenset(), "LCH Ltd"),
        StatementLine("L-noref", "EUR", Decimal("42.00"), later, later, frozenset(), "ACME"),
    ]
    movements = [
        BookMovement("M-ok", "EUR", Decimal("-1000.00"), day, frozenset({"E2E-1"})),
        BookMovement("M-cent", "EUR", Decimal("-500.00"), day, frozenset({"E2E-2"})),
        BookMovement("M-2cents", "EUR", Decimal("-400.00"), day, frozenset({"E2E-3"})),
        BookMovement("M-late", "EUR", Decimal("300.00"), day, frozenset({"E2E-4"}), "X"),
        BookMovement("M-missing", "EUR", Decimal("250.00"), day, frozenset({"E2E-5"})),
        BookMovement("S1", "EUR", Decimal("-100.00"), day, frozenset({"SI-1"}), "LCH LTD"),
        BookMovement("S2", "EUR", Decimal("-120.00"), day, frozenset({"SI-2"}), "LCH LTD"),
        BookMovement("S3", "EUR", Decimal("-80.00"), day, frozenset({"SI-3"}), "LCH LTD"),
        BookMovement("M-noref", "EUR", Decimal("42.00"), date(2026, 12, 6), frozenset(), "Acme"),
    ]
    rules = await active_rules(session)
    outcome = match(lines, movements, rules)
    assert [(m.rule, m.line_ids, m.movement_ids) for m in outcome.matches] == [
        ("exact-reference", ("L-ok",), ("M-ok",)),
        ("exact-reference-cent", ("L-cent",), ("M-cent",)),
        ("amount-date-counterparty", ("L-noref",), ("M-noref",)),
        ("one-to-many", ("L-net",), ("S1", "S2", "S3")),
    ]
    assert [
        (b.kind.value, b.line_ids, b.movement_ids, str(b.amount))
        for b in classify(outcome, lines, movements, rules)
    ] == [
        ("amount_difference", ("L-2cents",), ("M-2cents",), "-0.02"),
        ("missing_in_book", ("L-fee",), (), "-15.00"),
        ("value_date_difference", ("L-late",), ("M-late",), "300.00"),
        ("missing_in_book", ("L-ok-again",), (), "-1000.00"),
        ("missing_at_bank", (), ("M-missing",), "250.00"),
    ]
