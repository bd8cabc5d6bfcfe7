"""Failing instructions: past their intended settlement date and not settled. How long each has
failed, in business days of its market, and the fails report operations work from."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.money import format_decimal
from app.reference.service import load_reference
from app.settlement.models import SettlementInstruction
from app.settlement.states import InstructionStatus

S = InstructionStatus
# Open instructions: a held one past its date is failing too (it is reported as held besides).
OPEN = (S.REPAIR, S.PENDING, S.MATCHED, S.PARTIALLY_SETTLED, S.ON_HOLD)
_OPEN = [state.value for state in OPEN]
_CHUNK = 1000
# Business days failing. CSDR's buy-in extension periods (4 days for liquid shares, 7 for the
# rest) fall at the bucket edges.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-7", 4, 7),
    ("8-15", 8, 15),
    ("16+", 16, None),
)


def is_failing_filter(today: date) -> Any:
    return (
        SettlementInstruction.status.in_(_OPEN),
        SettlementInstruction.intended_settlement_date < today,
    )


async def days_failing(
    session: AsyncSession, instructions: Sequence[Any], *, today: date
) -> dict[str, int]:
    """Per instruction id (rows or audit snapshots with ``id``, ``isin``, ``status`` and
    ``intended_settlement_date``): business days of its market's settlement calendar in
    (intended settlement date, today] while it is open, else 0."""

    def field(row: Any, name: str) -> Any:
        return row[name] if isinstance(row, dict) else getattr(row, name)

    late = [
        row
        for row in instructions
        if field(row, "status") in _OPEN
        and _as_date(field(row, "intended_settlement_date")) < today
    ]
    found = {field(row, "id"): 0 for row in instructions}
    if not late:
        return found
    reference = await load_reference(
        session, isins={field(row, "isin") for row in late}, mics=(), books=(), leis=()
    )
    for row in late:
        calendar = reference.settlement_calendar(reference.instruments[field(row, "isin")].mic)
        found[field(row, "id")] = calendar.business_days_after(
            _as_date(field(row, "intended_settlement_date")), today
        )
    return found


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class _Group:
    instructions: int = 0

    def __post_init__(self) -> None:
        self.value: dict[str, Decimal] = defaultdict(Decimal)

    def add(self, instruction: SettlementInstruction) -> None:
        self.instructions += 1
        self.value[instruction.currency] += instruction.amount - instruction.settled_amount

    def out(self) -> dict[str, Any]:
        return {
            "instructions": self.instructions,
            "unsettled": [
                {"currency": currency, "amount": format_decimal(amount)}
                for currency, amount in sorted(self.value.items())
            ],
        }


def bucket_of(days: int) -> str:
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[0][0]


async def _failing(session: AsyncSession, today: date) -> list[list[SettlementInstruction]]:
    after: str | None = None
    chunks: list[list[SettlementInstruction]] = []
    while True:
        statement = (
            select(SettlementInstruction)
            .where(*is_failing_filter(today))
            .order_by(SettlementInstruction.id)
            .limit(_CHUNK)
        )
        if after is not None:
            statement = statement.where(SettlementInstruction.id > after)
        rows = list((await session.scalars(statement)).all())
        if not rows:
            return chunks
        chunks.append(rows)
        after = rows[-1].id


async def fails_report(session: AsyncSession, *, today: date) -> dict[str, Any]:
    """Every failing instruction counted by age bucket, fail reason and counterparty, with the
    cash left unsettled per currency."""
    total = _Group()
    by_age = {label: _Group() for label, _, _ in AGE_BUCKETS}
    by_reason: dict[str, _Group] = defaultdict(_Group)
    by_counterparty: dict[str, _Group] = defaultdict(_Group)
    for rows in await _failing(session, today):
        ages = await days_failing(session, rows, today=today)
        for row in rows:
            total.add(row)
            by_age[bucket_of(ages[row.id])].add(row)
            by_reason[row.fail_reason or "NONE"].add(row)
            by_counterparty[row.counterparty_lei].add(row)
    return {
        "as_of": today.isoformat(),
        **total.out(),
        "by_age": [{"bucket": label, **group.out()} for label, group in by_age.items()],
        "by_reason": [
            {"fail_reason": reason, **group.out()} for reason, group in sorted(by_reason.items())
        ],
        "by_counterparty": [
            {"counterparty_lei": lei, **group.out()}
            for lei, group in sorted(by_counterparty.items())
        ],
    }
