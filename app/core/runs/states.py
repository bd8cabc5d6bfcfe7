"""The lifecycle every batch run shares: it runs, then completes or fails; a failed run is
resumed and picks up what it had not done."""

from collections.abc import Mapping
from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class RunEvent(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    RESUMED = "resumed"


RUN_TRANSITIONS: Mapping[tuple[RunStatus, RunEvent], RunStatus] = {
    (RunStatus.RUNNING, RunEvent.COMPLETED): RunStatus.COMPLETED,
    (RunStatus.RUNNING, RunEvent.FAILED): RunStatus.FAILED,
    (RunStatus.FAILED, RunEvent.RESUMED): RunStatus.RUNNING,
}
