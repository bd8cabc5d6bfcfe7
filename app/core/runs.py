"""The lifecycle of a batch run (clearing, settlement) as data: it runs, then completes or
fails; a failed run is resumed and picks up what it had not done."""

from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum

import structlog
from fastapi import BackgroundTasks

log = structlog.get_logger()


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


async def run_now_or_later(
    background: BackgroundTasks,
    work: Callable[[], Awaitable[None]],
    *,
    wait: bool,
    name: str,
    run_id: str,
) -> None:
    """Run ``work`` before answering (``wait``) or after the response is sent. A failure is
    logged; the run itself records it as failed and can be resumed."""

    async def logged() -> None:
        try:
            await work()
        except Exception:
            log.exception(f"{name}_failed", run_id=run_id)

    if wait:
        await logged()
    else:
        background.add_task(logged)
