"""Which step an end-of-day run does next: pure functions over the steps' recorded states
(plain dicts, as the run row stores them), no database."""

from collections.abc import Mapping, Sequence
from typing import Any

from app.core.states import next_state
from app.reports.eod.states import DONE, STEP_TRANSITIONS, StepEvent, StepStatus

StepState = dict[str, Any]


def initial(names: Sequence[str]) -> list[StepState]:
    """Every step of the table, pending, in order."""
    return [
        {
            "name": name,
            "status": StepStatus.PENDING.value,
            "child_runs": {},
            "summary": {},
            "error": None,
            "started_at": None,
            "finished_at": None,
        }
        for name in names
    ]


def aligned(names: Sequence[str], recorded: Sequence[Mapping[str, Any]]) -> list[StepState]:
    """The recorded states in the order of today's step table: a step added to the table since
    the run started (a new step at a release) is pending in its place; a recorded step no
    longer in the table is kept where it was, as recorded."""
    by_name = {step["name"]: dict(step) for step in recorded}
    fresh = {step["name"]: step for step in initial(names)}
    ordered = [by_name.get(name, fresh[name]) for name in names]
    return ordered + [dict(step) for step in recorded if step["name"] not in fresh]


def next_step(steps: Sequence[Mapping[str, Any]]) -> int | None:
    """The index of the first step not completed nor skipped (pending, running after a crash,
    or failed and being resumed), or None when the day is done. Steps run strictly in order:
    a later step never runs before an earlier one is done."""
    for index, step in enumerate(steps):
        if StepStatus(step["status"]) not in DONE:
            return index
    return None


def moved(step: Mapping[str, Any], event: StepEvent) -> StepState:
    """The step after ``event`` (``InvalidTransition`` for a move the table does not allow)."""
    status = next_state(STEP_TRANSITIONS, StepStatus(step["status"]), event)
    return {**step, "status": status.value}


def progress(steps: Sequence[Mapping[str, Any]]) -> int:
    """How many steps are done."""
    return sum(1 for step in steps if StepStatus(step["status"]) in DONE)
