"""Statement lines, book movements and rules for the matching tests: valid by default, each test
changes only what it is about."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from app.reconciliation.matching import BookMovement, Rule, RuleKind, StatementLine

DAY = date(2026, 12, 4)  # a Friday


def line(
    id: str,
    amount: str,
    *,
    refs: Iterable[str] = (),
    currency: str = "EUR",
    days_late: int = 0,
    booking_date: date | None = None,
    counterparty: str | None = None,
) -> StatementLine:
    return StatementLine(
        id=id,
        currency=currency,
        amount=Decimal(amount),
        value_date=DAY + timedelta(days=days_late),
        booking_date=booking_date,
        references=frozenset(refs),
        counterparty=counterparty,
    )


def movement(
    id: str,
    amount: str,
    *,
    refs: Iterable[str] = (),
    currency: str = "EUR",
    days_late: int = 0,
    counterparty: str | None = None,
) -> BookMovement:
    return BookMovement(
        id=id,
        currency=currency,
        amount=Decimal(amount),
        value_date=DAY + timedelta(days=days_late),
        references=frozenset(refs),
        counterparty=counterparty,
    )


def rule(kind: RuleKind, **overrides: object) -> Rule:
    values: dict[str, object] = {"name": kind.value, "priority": 1, "kind": kind}
    values.update(overrides)
    return Rule(**values)  # type: ignore[arg-type]


def exact(**overrides: object) -> Rule:
    return rule(RuleKind.EXACT_REFERENCE, **overrides)


def by_amount(**overrides: object) -> Rule:
    return rule(RuleKind.AMOUNT_DATE_COUNTERPARTY, **overrides)


def one_to_many(**overrides: object) -> Rule:
    return rule(RuleKind.ONE_TO_MANY, **overrides)


def many_to_one(**overrides: object) -> Rule:
    return rule(RuleKind.MANY_TO_ONE, **overrides)


def cents(amount: str) -> dict[str, Decimal]:
    """A tolerance of ``amount`` in EUR, USD and GBP."""
    return {currency: Decimal(amount) for currency in ("EUR", "USD", "GBP")}
