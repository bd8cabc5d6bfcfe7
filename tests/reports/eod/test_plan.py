"""The end-of-day run's order and resume, without a database: which step comes next from the
steps' recorded states, and how a step table grown since a run started lines up with it."""

from typing import Any

import pytest

from app.core.errors import InvalidTransition
from app.reports.eod import plan
from app.reports.eod.states import StepEvent
from app.reports.eod.steps import STEPS

NAMES = ["deadlines", "clearing", "settlement", "reports"]


def with_status(*statuses: str) -> list[dict[str, Any]]:
    steps = plan.initial(NAMES)
    return [{**step, "status": status} for step, status in zip(steps, statuses, strict=True)]


def test_a_new_run_has_every_step_pending_in_table_order() -> None:
    steps = plan.initial(NAMES)
    assert [(s["name"], s["status"], s["child_runs"]) for s in steps] == [
        (name, "pending", {}) for name in NAMES
    ]
    assert plan.next_step(steps) == 0
    assert plan.progress(steps) == 0


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("completed", "pending", "pending", "pending"), 1),
        (("completed", "skipped", "pending", "pending"), 2),
        # A crash left a step running: it is the one to go on with.
        (("completed", "running", "pending", "pending"), 1),
        # A failed step is resumed before anything after it.
        (("completed", "completed", "failed", "pending"), 2),
        (("completed", "skipped", "completed", "completed"), None),
    ],
)
def test_the_next_step_is_the_first_not_done(statuses: tuple[str, ...], expected: int | None):
    assert plan.next_step(with_status(*statuses)) == expected


def test_progress_counts_completed_and_skipped_steps() -> None:
    assert plan.progress(with_status("completed", "skipped", "failed", "pending")) == 2


def test_a_step_added_to_the_table_since_the_run_started_is_pending_in_its_place() -> None:
    recorded = with_status("completed", "completed", "completed", "pending")
    grown = ["deadlines", "clearing", "settlement", "penalties", "reports"]
    aligned = plan.aligned(grown, recorded)
    assert [(s["name"], s["status"]) for s in aligned] == [
        ("deadlines", "completed"),
        ("clearing", "completed"),
        ("settlement", "completed"),
        ("penalties", "pending"),
        ("reports", "pending"),
    ]
    assert plan.next_step(aligned) == 3


def test_a_recorded_step_no_longer_in_the_table_is_kept_at_the_end() -> None:
    recorded = with_status("completed", "completed", "completed", "completed")
    aligned = plan.aligned(["deadlines", "clearing", "reports"], recorded)
    assert [s["name"] for s in aligned] == ["deadlines", "clearing", "reports", "settlement"]


@pytest.mark.parametrize(
    ("status", "event", "after"),
    [
        ("pending", StepEvent.STARTED, "running"),
        ("running", StepEvent.STARTED, "running"),
        ("failed", StepEvent.STARTED, "running"),
        ("running", StepEvent.COMPLETED, "completed"),
        ("running", StepEvent.SKIPPED, "skipped"),
        ("running", StepEvent.FAILED, "failed"),
    ],
)
def test_the_moves_a_step_makes(status: str, event: StepEvent, after: str) -> None:
    assert plan.moved({"status": status}, event)["status"] == after


@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("completed", StepEvent.STARTED),
        ("pending", StepEvent.COMPLETED),
        ("skipped", StepEvent.FAILED),
        ("failed", StepEvent.COMPLETED),
    ],
)
def test_every_other_move_is_refused(status: str, event: StepEvent) -> None:
    with pytest.raises(InvalidTransition):
        plan.moved({"status": status}, event)


def test_the_cycle_runs_in_the_order_of_the_day() -> None:
    assert [step.name for step in STEPS] == [
        "affirmation_deadlines",
        "clearing",
        "instructions",
        "settlement",
        "penalties",
        "reconciliation",
        "reports",
    ]
