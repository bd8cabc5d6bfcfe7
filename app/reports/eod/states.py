"""The lifecycle of one step of an end-of-day run, as data."""

from collections.abc import Mapping
from enum import StrEnum


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class StepEvent(StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


STEP_TRANSITIONS: Mapping[tuple[StepStatus, StepEvent], StepStatus] = {
    (StepStatus.PENDING, StepEvent.STARTED): StepStatus.RUNNING,
    # A step found running was interrupted (a crash): it starts again from what it recorded.
    (StepStatus.RUNNING, StepEvent.STARTED): StepStatus.RUNNING,
    (StepStatus.FAILED, StepEvent.STARTED): StepStatus.RUNNING,
    (StepStatus.RUNNING, StepEvent.COMPLETED): StepStatus.COMPLETED,
    (StepStatus.RUNNING, StepEvent.SKIPPED): StepStatus.SKIPPED,
    (StepStatus.RUNNING, StepEvent.FAILED): StepStatus.FAILED,
}

DONE = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED})
