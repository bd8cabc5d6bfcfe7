"""Reconciliation rules: create, replace, read (audited); the enabled rules as the matching
engine's values for the runs."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.errors import Conflict, NotFound
from app.core.money import format_decimal
from app.core.pagination import PageRequest
from app.core.snapshots import row_snapshot
from app.core.versioning import check_version
from app.reconciliation.matching.values import Rule, RuleKind
from app.reconciliation.rules import repository
from app.reconciliation.rules.models import ReconciliationRule
from app.reconciliation.rules.schemas import RuleFields, RuleIn

ENTITY = "reconciliation_rule"


def _columns(data: RuleFields) -> dict[str, Any]:
    values = data.model_dump(exclude={"name"})
    values["kind"] = data.kind.value
    values["amount_tolerance"] = {
        currency: format_decimal(allowance)
        for currency, allowance in sorted(data.amount_tolerance.items())
    }
    return values


def _found(rule: ReconciliationRule | None, name: str) -> ReconciliationRule:
    if rule is None:
        raise NotFound(f"No reconciliation rule '{name}'.")
    return rule


async def create_rule(
    session: AsyncSession, *, data: RuleIn, actor: Actor, now: datetime
) -> ReconciliationRule:
    if await repository.get(session, data.name) is not None:
        raise Conflict(f"The reconciliation rule '{data.name}' already exists.")
    rule = ReconciliationRule(
        name=data.name, **_columns(data), version=1, created_at=now, updated_at=now
    )
    session.add(rule)
    await session.flush()
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=rule.name,
        action="created",
        before=None,
        after=row_snapshot(rule),
        now=now,
    )
    return rule


async def replace_rule(
    session: AsyncSession,
    *,
    name: str,
    data: RuleFields,
    version: int,
    actor: Actor,
    now: datetime,
) -> ReconciliationRule:
    """The rule as sent, at ``version`` (412 otherwise); a new version only if it changed."""
    rule = _found(await repository.get(session, name, lock=True), name)
    check_version(current=rule.version, expected=version, what=f"reconciliation rule '{name}'")
    before = row_snapshot(rule)
    for column, value in _columns(data).items():
        setattr(rule, column, value)
    if row_snapshot(rule) == before:
        return rule
    rule.version += 1
    rule.updated_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=name,
        action="updated",
        before=before,
        after=row_snapshot(rule),
        now=now,
    )
    return rule


async def get_rule(
    session: AsyncSession, *, name: str, as_of: datetime | None = None
) -> ReconciliationRule:
    """The rule now, or with ``as_of`` as it stood then (a rule seeded by the migration has
    no record of its creation: its first change's before image, or its row, tells)."""
    if as_of is not None:
        return await row_as_of(
            session, ReconciliationRule, entity_type=ENTITY, entity_id=name, as_of=as_of
        )
    return _found(await repository.get(session, name), name)


async def list_rules(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[ReconciliationRule], str | None]:
    return await repository.page(session, page)


# For the runs ------------------------------------------------------------------------------


def as_value(rule: ReconciliationRule) -> Rule:
    return Rule(
        name=rule.name,
        priority=rule.priority,
        kind=RuleKind(rule.kind),
        enabled=rule.enabled,
        amount_tolerance={
            currency: Decimal(allowance) for currency, allowance in rule.amount_tolerance.items()
        },
        default_amount_tolerance=rule.default_amount_tolerance,
        value_date_days=rule.value_date_days,
        counterparty_must_agree=rule.counterparty_must_agree,
        max_group_size=rule.max_group_size,
        max_candidates=rule.max_candidates,
        search_budget=rule.search_budget,
    )


async def active_rules(session: AsyncSession) -> list[Rule]:
    """The enabled rules as the matching engine takes them, in priority order (then by name)."""
    return [as_value(rule) for rule in await repository.enabled_in_priority_order(session)]
