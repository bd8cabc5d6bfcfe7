"""The clearing run lifecycle: the batch-run lifecycle every run shares."""

from app.core.runs import RUN_TRANSITIONS, RunEvent, RunStatus

TRANSITIONS = RUN_TRANSITIONS

__all__ = ["TRANSITIONS", "RunEvent", "RunStatus"]
