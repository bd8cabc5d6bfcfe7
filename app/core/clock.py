"""The clock is passed in, never read deep inside domain code, so a test can run any day."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


async def get_clock() -> Clock:
    """FastAPI dependency (async: a sync one would cost a threadpool hop per request);
    tests override it with a fixed clock."""
    return system_clock
