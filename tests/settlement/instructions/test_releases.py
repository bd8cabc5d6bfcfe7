"""Releasing a hold returns an instruction to the state it was held in, through the table."""

import pytest

from app.core.errors import InvalidTransition
from app.core.states import next_state
from app.settlement.instructions.states import (
    RELEASES,
    TRANSITIONS,
    InstructionEvent,
    InstructionStatus,
)

S = InstructionStatus


@pytest.mark.parametrize("held_from", [S.REPAIR, S.PENDING, S.MATCHED, S.PARTIALLY_SETTLED])
def test_a_release_returns_to_the_state_the_hold_came_from(held_from: InstructionStatus) -> None:
    assert next_state(TRANSITIONS, held_from, InstructionEvent.HELD) == S.ON_HOLD
    assert next_state(RELEASES, held_from, InstructionEvent.RELEASED) == held_from


@pytest.mark.parametrize("held_from", [S.ON_HOLD, S.SETTLED, S.CANCELLED])
def test_no_release_leads_to_a_state_that_cannot_be_held(held_from: InstructionStatus) -> None:
    with pytest.raises(InvalidTransition):
        next_state(RELEASES, held_from, InstructionEvent.RELEASED)
