"""What a settlement run writes back on an instruction it tried, now computed from a plain row
and written set-based: the same columns and the same audit images as moving the ORM's row (the
specification, below) and snapshotting it, for any allocation."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from app.core.db import table_of
from app.core.snapshots import row_snapshot
from app.core.states import next_state
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.instructions.repository import TRIED_COLUMNS
from app.settlement.instructions.states import TRANSITIONS, InstructionEvent, InstructionStatus
from app.settlement.runs.allocation import Allocation, FailReason
from app.settlement.runs.models import SettlementRun
from app.settlement.runs.work import _audited, _moved

NOW = datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC)
RUN = SettlementRun(id="str_run2", settlement_date=date(2026, 11, 25))
REASONS = st.sampled_from([None, FailReason.LACK, FailReason.MONY])
AMOUNTS = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)


class PlainRow:
    """A claimed row as the run reads it: columns as attributes, by name, and in the table's
    order."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values
        self.__dict__.update(values)

    def __iter__(self) -> Iterator[Any]:
        return iter([self._mapping[column.key] for column in table_of(SettlementInstruction).c])


def instruction(**changes: Any) -> dict[str, Any]:
    return {
        "id": "si_1",
        "obligation_id": "ob_1",
        "delivery_type": "DVP",
        "isin": "US46625H1005",
        "quantity": Decimal("1000"),
        "amount": Decimal("150000.00"),
        "credit_debit": "CRDT",
        "currency": "USD",
        "securities_account": "SEC-DTC",
        "cash_account": "CASH-USD",
        "counterparty_lei": "R0MUWSFPU8MPRO8K5P83",
        "ccp": False,
        "counterparty_ssi": {"id": "ssi_1", "account": "12345"},
        "intended_settlement_date": date(2026, 11, 24),
        "priority": 50,
        "partial_indicator": "PART",
        "partial_allowed": True,
        "status": "matched",
        "repair_reasons": [],
        "settled_quantity": Decimal("0"),
        "settled_amount": Decimal("0.00"),
        "fail_reason": None,
        "held_from": None,
        "held_by": None,
        "hold_reason": None,
        "last_run_id": "str_run1",
        "settled_on": None,
        "pending_id": "pe_1",
        "version": 3,
        "created_at": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        **changes,
    }


def moved_by_the_orm(
    row: SettlementInstruction, allocation: Allocation, pending: str | None
) -> str:
    """The specification: what a run did to the ORM's row before it wrote set-based."""
    reason = allocation.fail_reason.value if allocation.fail_reason else None
    row.last_run_id = RUN.id
    action = "failed"
    if allocation.settled_anything:
        row.pending_id = pending
        row.settled_quantity += abs(allocation.quantity)
        row.settled_amount += abs(allocation.amount)
        row.settled_on = RUN.settlement_date
        event = InstructionEvent.SETTLED if reason is None else InstructionEvent.PARTIALLY_SETTLED
        row.status = next_state(TRANSITIONS, InstructionStatus(row.status), event).value
        action = event.value
    row.fail_reason = reason
    row.version += 1
    row.updated_at = NOW
    return action


@given(
    settled=st.tuples(AMOUNTS, AMOUNTS),
    moved=st.tuples(AMOUNTS, AMOUNTS),
    reason=REASONS,
    before_reason=st.sampled_from([None, "LACK", "MONY"]),
    partially=st.booleans(),
    pending=st.sampled_from([None, "pe_2"]),
)
def test_a_tried_instruction_is_written_and_audited_as_the_orm_row_would_be(
    settled: tuple[Decimal, Decimal],
    moved: tuple[Decimal, Decimal],
    reason: FailReason | None,
    before_reason: str | None,
    partially: bool,
    pending: str | None,
) -> None:
    values = instruction(
        settled_quantity=abs(settled[0]),
        settled_amount=abs(settled[1]),
        fail_reason=before_reason,
        status="partially_settled" if partially else "matched",
    )
    allocation = Allocation("si_1", moved[0], moved[1], reason)
    spec = SettlementInstruction(**values)
    before = row_snapshot(spec)

    action, changed = _moved(
        cast(Any, PlainRow(values)), allocation, pending_id=pending, run=RUN, now=NOW
    )

    if not allocation.settled_anything and before_reason == (reason and reason.value):
        # Only tried: nothing but the run changes, and nothing is audited.
        assert action is None
        assert changed == {**{name: values[name] for name in TRIED_COLUMNS}, "last_run_id": RUN.id}
        return
    expected_action = moved_by_the_orm(spec, allocation, pending)
    assert {name: getattr(spec, name) for name in TRIED_COLUMNS} == changed
    assert action == expected_action
    change = _audited(cast(Any, PlainRow(values)), expected_action, changed)
    assert (change.entity_id, change.action) == ("si_1", expected_action)
    assert (change.before, change.after) == (before, row_snapshot(spec))
