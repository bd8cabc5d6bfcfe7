"""The clearing run lifecycle as data."""

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


TRANSITIONS: Mapping[tuple[RunStatus, RunEvent], RunStatus] = {
    (RunStatus.RUNNING, RunEvent.COMPLETED): RunStatus.COMPLETED,
    (RunStatus.RUNNING, RunEvent.FAILED): RunStatus.FAILED,
    # A failed run is resumed: what it cleared stays cleared, the rest is picked up.
    (RunStatus.FAILED, RunEvent.RESUMED): RunStatus.RUNNING,
}
