"""The lifecycle every batch run shares: it runs, then completes or fails; a failed run is
resumed and picks up what it had not done; a running run whose worker died (its lease ran out:
no heartbeat for ``SETTLEMENT_RUN_LEASE_SECONDS``) is taken over by another worker."""

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
    TAKEN_OVER = "taken_over"


RUN_TRANSITIONS: Mapping[tuple[RunStatus, RunEvent], RunStatus] = {
    (RunStatus.RUNNING, RunEvent.COMPLETED): RunStatus.COMPLETED,
    (RunStatus.RUNNING, RunEvent.FAILED): RunStatus.FAILED,
    (RunStatus.FAILED, RunEvent.RESUMED): RunStatus.RUNNING,
    # Only once the lease ran out (the framework checks): a live worker is never taken over.
    (RunStatus.RUNNING, RunEvent.TAKEN_OVER): RunStatus.RUNNING,
}
