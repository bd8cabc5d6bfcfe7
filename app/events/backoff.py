"""When a failed delivery is tried again: exponential back-off with full jitter, capped (pure).

After the n-th failed attempt the next one waits a random time in [0, min(cap, base x 2^(n-1))]:
the window doubles with every failure, and the jitter spreads the retries of many deliveries
that failed together (a receiver coming back is not hit by all of them at once).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    base_seconds: float
    cap_seconds: float

    def window(self, failed_attempts: int) -> float:
        """The longest wait after ``failed_attempts`` (at least 1) failures, in seconds."""
        exponent = min(max(failed_attempts - 1, 0), 64)  # 2**64 x base is past any cap
        return min(self.cap_seconds, self.base_seconds * 2.0**exponent)

    def delay(self, failed_attempts: int, jitter: Callable[[], float]) -> timedelta:
        """The wait before the next attempt; ``jitter`` returns a fraction in [0, 1]."""
        fraction = min(max(jitter(), 0.0), 1.0)
        return timedelta(seconds=self.window(failed_attempts) * fraction)
